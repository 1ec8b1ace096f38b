"""What the window last exported of a photograph, and when (kept in the photograph's record).

An export is a copy: edits made after it are in the session but not in the exported files.
When the window exports, each photograph's record keeps an :class:`ExportRecord`: the time,
the folder, the format and, per item an export writes (image status, comment, each lesion's
status and mask), a short value or digest of what it was. :mod:`core.review.export_currency`
compares them with the record as it is now and names what changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ExportRecord:
    """One photograph's last export from the window.

    Attributes:
        at: UTC time stamp (ISO 8601) when the export's content was taken (the exported
            sidecar's ``exported`` time too).
        folder: the folder it was written to.
        items: item name (e.g. ``"comment"``, ``"EX mask"``) -> its value or digest then.
        fmt: mask file format ("tif" or "png").
    """

    at: str
    folder: str
    items: dict[str, str] = field(default_factory=dict)
    fmt: str = "tif"

    def to_dict(self) -> dict[str, Any]:
        return {"at": self.at, "folder": self.folder, "items": dict(self.items), "format": self.fmt}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportRecord:
        return cls(
            at=str(data["at"]),
            folder=str(data["folder"]),
            items={str(k): str(v) for k, v in data.get("items", {}).items()},
            fmt=str(data.get("format", "tif")),
        )
