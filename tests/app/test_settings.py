"""What the app remembers between runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.settings import AppSettings


def test_the_last_folder_is_remembered_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative folder (``lesionlens gui flat``) was stored as ``flat`` and meant another folder
    when the app next started elsewhere."""
    (tmp_path / "flat").mkdir()
    monkeypatch.chdir(tmp_path)
    settings = AppSettings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    settings.set_last_folder(Path("flat"))
    monkeypatch.chdir(Path.home())
    assert settings.last_folder() == tmp_path / "flat"
