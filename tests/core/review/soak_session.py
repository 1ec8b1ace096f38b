"""Helper for test_session_soak: a reviewer who edits a session until the process is killed.

Run as ``python -m tests.core.review.soak_session FOLDER``: reopens the folder's session, then goes
on with the edits after the last saved one (:func:`apply_edit`), saving after every
``JOURNAL_EDITS`` edits as the app's journal does, and prints ``SAVED <last edit>`` once each
save has returned. It never stops by itself.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from core.lesions import Lesion
from core.review.editable_mask import EditableMask
from core.review.session import ReviewSession, ReviewStatus

NAME, SHAPE = "eye.jpg", (60, 80)
#: Edits per journal write (the app writes within a second of the last change).
JOURNAL_EDITS = 5
#: A reviewer's pace (a brush segment every 20 ms), so kills land all through the work.
EDIT_PAUSE_S = 0.02


def first_mask() -> EditableMask:
    probability = np.zeros(SHAPE, np.uint8)
    probability[10:20, 10:30] = 200
    return EditableMask.adopt(probability, 0.5)


def apply_edit(session: ReviewSession, index: int) -> None:
    """Edit number ``index``: a brush or eraser stroke somewhere, and the comment naming it."""
    review = session.image(NAME)
    item = review.lesions[Lesion.EX]
    if item.mask is None:
        item.mask, item.adopted_threshold = first_mask(), 0.5
    rng = np.random.default_rng(index)
    y, x = int(rng.integers(0, SHAPE[0])), int(rng.integers(0, SHAPE[1]))
    erase = index % 3 == 0
    item.mask.begin_stroke("eraser" if erase else "brush")
    item.mask.brush((y, x), (y, min(x + 6, SHAPE[1] - 1)), radius=2, erase=erase)
    item.mask.end_stroke()
    item.status = ReviewStatus.IN_PROGRESS
    review.comment = f"edit {index}"
    review.touch()


def replay(last: int) -> np.ndarray:
    """The mask after edits 0..last, made in memory."""
    session = ReviewSession(Path("/nonexistent"), location=Path("/nonexistent"))
    for index in range(last + 1):
        apply_edit(session, index)
    return session.images[NAME].lesions[Lesion.EX].mask.states


def saved_edit(session: ReviewSession) -> int:
    """The last edit in the saved mask: the session file names edit ``k``; the mask may be up
    to one journal write ahead (killed between writing the mask and the session file)."""
    if NAME not in session.images:
        return -1
    recorded = int(session.images[NAME].comment.split()[1])
    states = session.load_mask(NAME, Lesion.EX, SHAPE).states
    for last in range(recorded + JOURNAL_EDITS, recorded - 1, -1):
        if (states == replay(last)).all():
            return last
    raise AssertionError(f"the saved mask is no replay of edits {recorded}..{recorded + JOURNAL_EDITS}")


def main() -> None:
    folder = Path(sys.argv[1])
    session = ReviewSession.open(folder)
    index = saved_edit(session) + 1
    while True:
        apply_edit(session, index)
        if (index + 1) % JOURNAL_EDITS == 0:
            session.save()
            print(f"SAVED {index}", flush=True)  # noqa: T201 - read by the test
        index += 1
        time.sleep(EDIT_PAUSE_S)


if __name__ == "__main__":
    main()
