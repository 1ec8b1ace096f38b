"""Whether a photograph's last export still shows its review, what changed, and reopening."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.lesions import Lesion
from core.review.editable_mask import EditableMask
from core.review.export_currency import changed_since_export, export_status, record_export
from core.review.session import ReviewSession, ReviewStatus, SessionError, now


def _started(folder: Path) -> ReviewSession:
    session = ReviewSession.open(folder)
    session.thresholds = {Lesion.MA: 0.4, Lesion.HE: 0.5, Lesion.EX: 0.7, Lesion.SE: 0.9}
    review = session.image("eye.jpg")
    review.status = ReviewStatus.IN_PROGRESS
    probability = np.zeros((40, 50), np.uint8)
    probability[5:10, 5:10] = 220
    item = review.lesions[Lesion.EX]  # adopted: its mask counts, not the threshold
    item.mask, item.adopted_threshold = EditableMask.adopt(probability, 0.7), 0.7
    item.mask.revision += 1
    return session


def _export(session: ReviewSession) -> None:
    session.image("eye.jpg").exported = record_export(
        session, "eye.jpg", "/exports/a", "tif", "2020-01-02T14:05:09Z"
    )


def test_never_exported_says_nothing(tmp_path: Path) -> None:
    session = _started(tmp_path)
    assert changed_since_export(session, "eye.jpg") == []
    assert export_status(session, "eye.jpg") == ("", "", False)
    assert export_status(session, "other.jpg") == ("", "", False)


def test_current_until_something_exported_changes(tmp_path: Path) -> None:
    session = _started(tmp_path)
    _export(session)
    text, tooltip, out_of_date = export_status(session, "eye.jpg")
    assert not out_of_date and text == "Exported 14:05:09 UTC on 2020-01-02 to a/: up to date"
    assert tooltip == "Exported to /exports/a at 2020-01-02T14:05:09Z"
    review = session.image("eye.jpg")
    review.comment = "check the disc"
    review.lesions[Lesion.MA].status = ReviewStatus.FLAGGED
    assert changed_since_export(session, "eye.jpg") == ["comment", "MA status"]
    text, _, out_of_date = export_status(session, "eye.jpg")
    assert out_of_date and text.startswith("Changed since the export of 14:05:09 UTC")
    assert "(comment, MA status): export again" in text
    review.comment, review.lesions[Lesion.MA].status = "", ReviewStatus.NOT_STARTED
    assert changed_since_export(session, "eye.jpg") == []  # back as exported
    stamp = now()  # an export of today shows its time only
    review.exported = record_export(session, "eye.jpg", "/exports/b", "png", stamp)
    assert export_status(session, "eye.jpg")[0] == f"Exported {stamp[11:19]} UTC to b/: up to date"


def test_an_edit_undone_is_as_exported(tmp_path: Path) -> None:
    session = _started(tmp_path)
    _export(session)
    mask = session.image("eye.jpg").lesions[Lesion.EX].mask
    mask.begin_stroke("brush")
    mask.brush((20, 20), (20, 30), radius=2)
    mask.end_stroke()
    assert changed_since_export(session, "eye.jpg") == ["EX mask"]
    mask.undo()
    assert changed_since_export(session, "eye.jpg") == []
    before = mask.digest()
    assert mask.digest() == before  # cached per revision


def test_a_threshold_counts_only_for_lesions_exported_as_predictions(tmp_path: Path) -> None:
    session = _started(tmp_path)
    _export(session)
    session.thresholds[Lesion.EX] = 0.2  # adopted: the export wrote its mask, not this threshold
    session.thresholds[Lesion.MA] = 0.4 + 0.4 / 255  # within the same 1/255 step
    assert changed_since_export(session, "eye.jpg") == []
    session.thresholds[Lesion.HE] = 0.55
    assert changed_since_export(session, "eye.jpg") == ["HE threshold"]
    session.thresholds[Lesion.HE] = 0.5
    assert changed_since_export(session, "eye.jpg") == []


def test_the_record_survives_reopening(tmp_path: Path) -> None:
    session = _started(tmp_path)
    _export(session)
    session.save()
    again = ReviewSession.open(tmp_path)
    review = again.images["eye.jpg"]
    assert review.exported == session.images["eye.jpg"].exported
    # the mask is not in memory after reopening: it cannot have changed since it was saved
    assert review.lesions[Lesion.EX].mask is None and changed_since_export(again, "eye.jpg") == []
    assert again.load_mask("eye.jpg", Lesion.EX, (40, 50)) is not None
    assert changed_since_export(again, "eye.jpg") == []  # loaded again: the same pixels


def test_a_mask_not_in_memory_at_export_is_judged_by_its_last_change(tmp_path: Path) -> None:
    session = _started(tmp_path)
    session.save()
    session = ReviewSession.open(tmp_path)  # EX adopted and saved, not loaded
    _export(session)
    assert session.image("eye.jpg").exported.items["EX mask"].startswith("saved ")
    session.load_mask("eye.jpg", Lesion.EX, (40, 50))
    assert changed_since_export(session, "eye.jpg") == []
    session.image("eye.jpg").lesions[Lesion.EX].updated = "2026-12-03T15:00:00Z"  # an edit
    assert changed_since_export(session, "eye.jpg") == ["EX mask"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("items", {"comment": 5}), ("items", ["x"]), ("format", "exe"), ("at", 5), ("folder", None)],
)
def test_a_damaged_export_record_is_refused_by_name(tmp_path: Path, key: str, value: object) -> None:
    session = _started(tmp_path)
    _export(session)
    session.save()
    document = json.loads(session.file.read_text())
    document["images"]["eye.jpg"]["exported"][key] = value
    session.file.write_text(json.dumps(document))
    with pytest.raises(SessionError, match=rf"exported\.{key}"):
        ReviewSession.open(tmp_path)
