"""Whether a photograph's last export still shows its review.

The export is current while the record's change counter (``ImageReview.revision``) and the
thresholds of the lesions exported as predictions are what they were at the export
(:class:`core.review.export_record.ExportRecord`); thresholds are compared as the 1/255 steps
the maps are cut at.
"""

from __future__ import annotations

from core.imaging.probability_maps import probability_to_level
from core.lesions import LESIONS
from core.review.export_record import ExportRecord
from core.review.session import ImageReview, ReviewSession


def _prediction_thresholds(session: ReviewSession, review: ImageReview) -> dict[str, float]:
    """Thresholds of the lesions that an export writes as the prediction (not adopted)."""
    return {
        lesion.code: session.thresholds.get(lesion, 0.5)
        for lesion in LESIONS
        if not review.lesions[lesion].adopted
    }


def record_export(session: ReviewSession, name: str, folder: str, fmt: str, stamp: str) -> ExportRecord:
    """What an export taken now writes of photograph ``name`` (call before the export starts)."""
    review = session.image(name)
    return ExportRecord(stamp, folder, review.revision, _prediction_thresholds(session, review), fmt)


def changed_since_export(session: ReviewSession, name: str) -> list[str]:
    """What changed in photograph ``name``'s review since its last export ([] when the export is
    current or there was none): "edits or statuses" (mask edits, adoptions, statuses, comment) and/or the
    codes of lesions whose threshold moved."""
    review = session.images.get(name)
    if review is None or review.exported is None:
        return []
    record = review.exported
    changes = ["edits or statuses"] if review.revision != record.revision else []
    now_thresholds = _prediction_thresholds(session, review)
    for lesion in LESIONS:
        code = lesion.code
        if code not in now_thresholds:
            continue  # adopted: its mask is what counts, and adopting raised the revision
        before = record.thresholds.get(code)
        if before is None or probability_to_level(before) != probability_to_level(now_thresholds[code]):
            changes.append(f"{code} threshold")
    return changes


def export_status(session: ReviewSession, name: str) -> tuple[str, bool]:
    """A line for the Review panel on photograph ``name``'s export, and whether it is out of date.

    ``("", False)`` when it was never exported from the window.
    """
    review = session.images.get(name)
    if review is None or review.exported is None:
        return "", False
    record = review.exported
    when = f"{record.at[:10]} {record.at[11:16]} UTC"
    changes = changed_since_export(session, name)
    if not changes:
        return f"exported {when} to {record.folder} (up to date)", False
    return (
        f"CHANGED SINCE THE EXPORT of {when} to {record.folder} ({', '.join(changes)}): "
        "the exported files do not show it; export again",
        True,
    )
