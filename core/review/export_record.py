"""What the window last exported of a photograph, and when (kept in the photograph's record).

An export is a copy: edits made after it are in the session but not in the exported files.
When the window exports, each photograph's record keeps an :class:`ExportRecord`: the time,
the folder, the record's change counter (``ImageReview.revision``, raised by every edit,
adoption, status or comment) and the thresholds of the lesions exported as predictions (not
adopted, so a later threshold move changes them). :mod:`core.review.export_currency` tells
whether the export is still current.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExportRecord:
    """One photograph's last export from the window.

    Attributes:
        at: UTC time stamp (ISO 8601) when the export's content was taken.
        folder: the folder it was written to.
        revision: the photograph record's ``revision`` at that moment.
        thresholds: lesion code -> threshold of each lesion exported as the prediction
            (lesions not adopted then); adopted lesions are covered by ``revision``.
        fmt: mask file format ("tif" or "png").
    """

    at: str
    folder: str
    revision: int
    thresholds: dict[str, float] = field(default_factory=dict)
    fmt: str = "tif"

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "folder": self.folder,
            "revision": self.revision,
            "thresholds": dict(self.thresholds),
            "format": self.fmt,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportRecord:
        return cls(
            at=str(data["at"]),
            folder=str(data["folder"]),
            revision=int(data["revision"]),
            thresholds={str(k): float(v) for k, v in data.get("thresholds", {}).items()},
            fmt=str(data.get("format", "tif")),
        )
