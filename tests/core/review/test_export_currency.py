"""Whether a photograph's last export still shows its review (and survives reopening)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.lesions import Lesion
from core.review.export_currency import changed_since_export, export_status, record_export
from core.review.session import ReviewSession, ReviewStatus, SessionError


def _started(folder: Path) -> ReviewSession:
    session = ReviewSession.open(folder)
    session.thresholds = {Lesion.MA: 0.4, Lesion.HE: 0.5, Lesion.EX: 0.7, Lesion.SE: 0.9}
    review = session.image("eye.jpg")
    review.status = ReviewStatus.IN_PROGRESS
    review.lesions[Lesion.EX].adopted_threshold = 0.7  # adopted: its mask counts, not the threshold
    return session


def _export(session: ReviewSession) -> None:
    session.image("eye.jpg").exported = record_export(
        session, "eye.jpg", "/exports/a", "tif", "2026-12-03T14:05:09Z"
    )


def test_never_exported_says_nothing(tmp_path: Path) -> None:
    session = _started(tmp_path)
    assert changed_since_export(session, "eye.jpg") == [] and export_status(session, "eye.jpg") == ("", False)
    assert export_status(session, "other.jpg") == ("", False)


def test_current_until_the_record_changes(tmp_path: Path) -> None:
    session = _started(tmp_path)
    _export(session)
    text, out_of_date = export_status(session, "eye.jpg")
    assert not out_of_date and text == "exported 2026-12-03 14:05 UTC to /exports/a (up to date)"
    session.image("eye.jpg").touch()  # an edit, a status, a comment
    assert changed_since_export(session, "eye.jpg") == ["edits or statuses"]
    text, out_of_date = export_status(session, "eye.jpg")
    assert out_of_date and text.startswith("CHANGED SINCE THE EXPORT of 2026-12-03 14:05 UTC")
    assert "export again" in text


def test_a_threshold_counts_only_for_lesions_exported_as_predictions(tmp_path: Path) -> None:
    session = _started(tmp_path)
    _export(session)
    session.thresholds[Lesion.EX] = 0.2  # adopted: the export wrote its mask, not this threshold
    session.thresholds[Lesion.MA] = 0.4 + 0.4 / 255  # within the same 1/255 step
    assert changed_since_export(session, "eye.jpg") == []
    session.thresholds[Lesion.HE] = 0.55
    assert changed_since_export(session, "eye.jpg") == ["HE threshold"]


def test_the_record_survives_reopening(tmp_path: Path) -> None:
    session = _started(tmp_path)
    session.image("eye.jpg").touch()
    _export(session)
    session.save()
    again = ReviewSession.open(tmp_path)
    review = again.images["eye.jpg"]
    assert review.revision == 1 and review.exported == session.images["eye.jpg"].exported
    assert changed_since_export(again, "eye.jpg") == []
    review.note_change()
    assert changed_since_export(again, "eye.jpg") == ["edits or statuses"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("revision", -1), ("revision", "3"), ("format", "exe"), ("thresholds", {"XX": 0.5}), ("at", 5)],
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
