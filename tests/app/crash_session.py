"""Helper for test_crash_recovery: a review session that is killed while it runs.

Run as ``python -m tests.app.crash_session IMAGE MODEL``: opens the photograph, adopts and
edits the EX mask, sets a comment, a status and a threshold, waits for the journal, prints
``READY <sha256 of the mask states>`` and keeps running until it is killed.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from app.controller import Controller
from app.settings import AppSettings
from core.inference.prediction_cache import PredictionCache
from core.lesions import Lesion
from core.review.engine import ReviewEngine
from core.review.session import ReviewStatus


def main() -> None:
    image, model = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    app = QApplication([])
    controller = Controller(ReviewEngine(model, PredictionCache(), device="cpu"), AppSettings())
    controller.window.show()
    controller.open_paths([image])
    while controller.analysis is None or controller.analysis.prediction is None:
        app.processEvents()
        time.sleep(0.01)
    review = controller.review
    controller.set_threshold(Lesion.HE, 0.3)
    mask = review.adopt(Lesion.EX)
    mask.begin_stroke("brush")
    mask.brush((100, 100), (100, 200), radius=5)
    review.edited(Lesion.EX, mask.end_stroke())
    review.set_comment("check the macula")
    review.set_lesion_status(Lesion.EX, ReviewStatus.REVIEWED)
    deadline = time.monotonic() + 1.5  # the journal promises "within a second"
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    print("READY", hashlib.sha256(mask.states.tobytes()).hexdigest(), flush=True)  # noqa: T201
    while True:  # a session in progress, until killed
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    main()
