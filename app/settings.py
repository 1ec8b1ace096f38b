"""What the app remembers between runs (QSettings, an INI file per user)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from core.lesions import LESIONS, Lesion

Rgb = tuple[int, int, int]


def _hex(colour: Rgb) -> str:
    return "#{:02x}{:02x}{:02x}".format(*colour)


def _rgb(text: str) -> Rgb | None:
    text = text.strip().lstrip("#")
    if len(text) != 6:
        return None
    try:
        value = int(text, 16)
    except ValueError:
        return None
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


class AppSettings:
    """Typed access to the stored settings.

    Args:
        settings: the store; by default ``$LESIONLENS_SETTINGS`` (an INI file) or the
            per-user LesionLens INI file.
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        if settings is None:
            explicit = os.environ.get("LESIONLENS_SETTINGS")
            settings = (
                QSettings(explicit, QSettings.Format.IniFormat)
                if explicit
                else QSettings(
                    QSettings.Format.IniFormat, QSettings.Scope.UserScope, "LesionLens", "LesionLens"
                )
            )
        self.store = settings

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.store.sync()

    # window -------------------------------------------------------------------------
    def window_geometry(self) -> QByteArray | None:
        value = self.store.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    def window_state(self) -> QByteArray | None:
        value = self.store.value("window/state")
        return value if isinstance(value, QByteArray) else None

    def set_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.store.setValue("window/geometry", geometry)
        self.store.setValue("window/state", state)

    # folders ------------------------------------------------------------------------
    def last_folder(self) -> Path:
        value = str(self.store.value("files/last_folder", "") or "")
        return Path(value) if value and Path(value).is_dir() else Path.home()

    def set_last_folder(self, folder: Path) -> None:
        self.store.setValue("files/last_folder", str(folder.absolute()))  # a relative one moves with the cwd

    # overlays -----------------------------------------------------------------------
    def colour(self, lesion: Lesion) -> Rgb:
        return _rgb(str(self.store.value(f"palette/{lesion.code}", ""))) or lesion.colour

    def set_colour(self, lesion: Lesion, colour: Rgb) -> None:
        self.store.setValue(f"palette/{lesion.code}", _hex(colour))

    def reset_palette(self) -> None:
        for lesion in LESIONS:
            self.store.remove(f"palette/{lesion.code}")

    def opacity(self, lesion: Lesion) -> float:
        return self._float(f"opacity/{lesion.code}", 0.6)

    def set_opacity(self, lesion: Lesion, value: float) -> None:
        self.store.setValue(f"opacity/{lesion.code}", float(value))

    def text(self, key: str, default: str) -> str:
        return str(self.store.value(f"view/{key}", default) or default)

    def set_text(self, key: str, value: str) -> None:
        self.store.setValue(f"view/{key}", value)

    def _float(self, key: str, default: float) -> float:
        try:
            return float(self.store.value(key, default))
        except (TypeError, ValueError):
            return default
