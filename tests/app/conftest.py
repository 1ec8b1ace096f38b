"""Fixtures for the review app: an isolated settings file and cache, a tiny model, small photographs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from app.controller import Controller
from app.settings import AppSettings
from core.prediction_cache import PredictionCache
from core.review import ReviewEngine
from core.synthetic import encode_jpeg, synth_fundus, write_idrid_layout


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


@pytest.fixture
def app_settings(settings_file: Path) -> AppSettings:
    return AppSettings(QSettings(str(settings_file), QSettings.Format.IniFormat))


@pytest.fixture
def engine(tiny_checkpoint: Path, tmp_path: Path) -> ReviewEngine:
    return ReviewEngine(tiny_checkpoint, PredictionCache(tmp_path / "cache"), device="cpu")


@pytest.fixture
def controller(qtbot, engine: ReviewEngine, app_settings: AppSettings) -> Iterator[Controller]:
    ctl = Controller(engine, app_settings)
    qtbot.addWidget(ctl.window)
    ctl.window.resize(1400, 900)
    ctl.window.show()
    yield ctl
    ctl.shutdown()


@pytest.fixture
def dataset(tmp_path: Path) -> list[Path]:
    """Two 480 x 720 photographs in an IDRiD layout (masks found automatically)."""
    return write_idrid_layout(tmp_path / "idrid", 2, 480, 720, seed=11)


@pytest.fixture(scope="session")
def large_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1600 x 2400 photograph: the tiny model needs about two seconds for it here."""
    path = tmp_path_factory.mktemp("large") / "large.jpg"
    path.write_bytes(encode_jpeg(synth_fundus(1600, 2400, seed=4).image))
    return path


def wait_displayed(
    qtbot, controller: Controller, path: Path, prediction: bool = True, timeout: int = 60000
) -> None:
    """Wait until the window shows ``path`` (with its prediction when asked)."""
    qtbot.waitUntil(
        lambda: (
            controller.analysis is not None
            and controller.analysis.path == path.resolve()
            and (controller.analysis.prediction is not None) == prediction
        ),
        timeout=timeout,
    )
