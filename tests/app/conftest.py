"""Fixtures for the review app: an isolated settings file and cache, a tiny model, small photographs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from app.controller import Controller
from app.review_saving import CLOSE_UNSAVED
from app.settings import AppSettings
from core.data.synthetic import encode_jpeg, synth_fundus, write_idrid_layout
from core.inference.prediction_cache import PredictionCache
from core.review.engine import ReviewEngine


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
    answer_questions(ctl, True)
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


def answer_questions(controller: Controller, answer: bool) -> list[str]:
    """Answer every yes / no question of the window with ``answer`` (a modal box would block
    the test); returns the list the questions asked are appended to."""
    asked: list[str] = []

    def confirm(_title: str, text: str) -> bool:
        asked.append(text)
        return answer

    def choose(_title: str, text: str, options: list[str]) -> str:
        asked.append(text)
        return CLOSE_UNSAVED  # a test that wants another answer sets its own

    controller.notifier.confirm = confirm  # type: ignore[method-assign]
    controller.notifier.choose = choose  # type: ignore[method-assign]
    controller.notifier.choose_folder = lambda _title: None  # type: ignore[method-assign]
    controller.notifier.asked = asked  # type: ignore[attr-defined]
    return asked


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


def _widget_point(controller: Controller, y: float, x: float) -> QPointF:
    scene = controller.view.view.mapViewToScene(QPointF(x, y))
    return QPointF(controller.view.mapFromScene(scene))


def _send(
    controller: Controller, kind: QEvent.Type, y: float, x: float, buttons: Qt.MouseButton, shift=False
) -> None:
    point = _widget_point(controller, y, x)
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    button = Qt.MouseButton.LeftButton if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton
    event = QMouseEvent(
        kind, point, controller.view.viewport().mapToGlobal(point), button, buttons, modifiers
    )
    QApplication.sendEvent(controller.view.viewport(), event)


def drag(qtbot, controller: Controller, points: list[tuple[float, float]]) -> None:
    """Press, move through ``points`` with the left button held, release: as a mouse would."""
    left = Qt.MouseButton.LeftButton
    _send(controller, QEvent.Type.MouseButtonPress, *points[0], left)
    for y, x in points[1:]:
        _send(controller, QEvent.Type.MouseMove, y, x, left)
        qtbot.wait(5)
    _send(controller, QEvent.Type.MouseButtonRelease, *points[-1], Qt.MouseButton.NoButton)
    qtbot.wait(10)


def click(controller: Controller, y: float, x: float, shift: bool = False) -> None:
    _send(controller, QEvent.Type.MouseButtonPress, y, x, Qt.MouseButton.LeftButton, shift)
    _send(controller, QEvent.Type.MouseButtonRelease, y, x, Qt.MouseButton.NoButton, shift)


@pytest.fixture
def opened(qtbot, controller: Controller, dataset: list[Path]) -> Controller:
    controller.open_paths(list(dataset))
    wait_displayed(qtbot, controller, dataset[0])
    controller.view.view.setRange(xRange=(0, 720), yRange=(0, 480), padding=0)
    QApplication.processEvents()
    return controller
