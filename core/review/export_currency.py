"""Whether a photograph's last export still shows its review, and what changed since.

Per item an export writes, :func:`export_items` gives a short value: the image status, a
digest of the comment, each lesion's status and its mask, which is a digest of the adopted
mask's pixels (cached per mask revision) or, for a lesion exported as the model's prediction,
its threshold as the 1/255 step the maps are cut at. An adopted mask not in memory (a
photograph not opened since the window started) stands for its last change's time stamp; it
cannot change without being loaded. Comparing these values, not a change counter, an undo back
to the exported mask or a threshold moved back makes the export current again.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from core.imaging.probability_maps import probability_to_level
from core.lesions import LESIONS, Lesion
from core.review.export_record import ExportRecord
from core.review.session import ImageReview, ReviewSession, now
from core.review.session_export import session_thresholds

#: Prefix of a mask item recorded by its last change's time stamp (not in memory then).
SAVED = "saved "


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def _mask_item(review: ImageReview, lesion: Lesion, recorded: str | None) -> str | None:
    """An adopted lesion's mask item: its pixels' digest when in memory, else the time stamp of
    its last change; compared as the record was made (None: in memory then, not now, so it
    cannot have changed)."""
    item = review.lesions[lesion]
    if recorded is not None and recorded.startswith(SAVED):
        return f"{SAVED}{item.updated}"
    if item.mask is None:
        return None if recorded is not None else f"{SAVED}{item.updated}"
    return item.mask.digest()


def export_items(
    session: ReviewSession, review: ImageReview, recorded: dict[str, str] | None = None
) -> dict[str, str]:
    """Item name -> value or digest of what an export of ``review`` writes now (``recorded``:
    the items of an earlier export, to compare masks the way they were recorded)."""
    recorded = recorded or {}
    items = {"image status": review.status.value, "comment": _digest(review.comment.encode())}
    thresholds = session_thresholds(session)
    for lesion in LESIONS:
        item = review.lesions[lesion]
        items[f"{lesion.code} status"] = item.status.value
        if not item.adopted:
            level = probability_to_level(thresholds[lesion])
            items[f"{lesion.code} threshold"] = f"step {level}"
            continue
        key = f"{lesion.code} mask"
        value = _mask_item(review, lesion, recorded.get(key))
        items[key] = recorded[key] if value is None else value
    return items


def record_export(session: ReviewSession, name: str, folder: str, fmt: str, stamp: str) -> ExportRecord:
    """What an export taken now writes of photograph ``name`` (call before the export starts)."""
    return ExportRecord(stamp, folder, export_items(session, session.image(name)), fmt)


def changed_since_export(session: ReviewSession, name: str) -> list[str]:
    """The items of photograph ``name``'s review that differ from its last export ([] when the
    export is current or there was none), e.g. ``["EX mask", "HE threshold", "comment"]``."""
    review = session.images.get(name)
    if review is None or review.exported is None:
        return []
    before = review.exported.items
    now = export_items(session, review, before)
    return [key for key, value in now.items() if before.get(key) != value]


def export_status(session: ReviewSession, name: str) -> tuple[str, str, bool]:
    """The Review panel's line on photograph ``name``'s export, its tooltip (the folder), and
    whether the export is out of date. ``("", "", False)`` when it was never exported from the
    window."""
    review = session.images.get(name)
    if review is None or review.exported is None:
        return "", "", False
    record = review.exported
    when = f"{record.at[11:19]} UTC" + ("" if record.at[:10] == now()[:10] else f" on {record.at[:10]}")
    where = Path(record.folder).name or record.folder
    tooltip = f"Exported to {record.folder} at {record.at}"
    changes = changed_since_export(session, name)
    if not changes:
        return f"Exported {when} to {where}/: up to date", tooltip, False
    return f"Changed since the export of {when} ({', '.join(changes)}): export again", tooltip, True
