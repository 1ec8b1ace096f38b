"""The photograph on screen is predicted first; the window forgets the previous one at once
(issue 11, defect 9)."""

from __future__ import annotations

import threading
from pathlib import Path

from app.controller import Controller
from app.worklist import ImageState
from tests.app.conftest import wait_displayed


def test_switching_during_inference_predicts_the_shown_photograph_first(
    qtbot, controller: Controller, large_photo: Path, dataset: list[Path], monkeypatch
) -> None:
    gate = threading.Event()
    engine = controller.engine
    predict = engine.iter_predict  # iter_analyse predicts through it too
    order: list[Path] = []

    def gated(path: Path, inner):
        order.append(Path(path))
        if Path(path) == large_photo.resolve():
            yield next(inner)
            gate.wait(30)  # the large photograph is still "running" when the reader moves on
        return (yield from inner)

    monkeypatch.setattr(
        engine, "iter_predict", lambda analysis, **k: gated(analysis.path, predict(analysis, **k))
    )
    with qtbot.waitSignal(controller.queue.progress, timeout=30000):
        controller.open_paths([large_photo])
    controller.open_paths([dataset[0]], select=True)  # what Ctrl+O does: the opened file is shown
    assert controller.worklist.current_path == dataset[0].resolve()
    qtbot.waitUntil(lambda: controller.queue.is_pending(dataset[0].resolve()), timeout=10000)
    gate.set()  # the large photograph's next step sees that it was paused
    wait_displayed(qtbot, controller, dataset[0])
    assert order.index(dataset[0].resolve()) == 1, "the photograph on screen went before the one left"
    qtbot.waitUntil(
        lambda: controller.worklist.state(large_photo.resolve()) is ImageState.PREDICTED, timeout=60000
    )
    assert order.count(large_photo.resolve()) == 2, "the photograph left was paused and finished later"


def test_the_status_bar_forgets_the_previous_photograph(
    qtbot, opened: Controller, dataset: list[Path]
) -> None:
    c = opened
    c.view.hovered.emit(100, 100)
    assert c.window.pixel_label.text().startswith("x 100")
    c.window.action("next_image").trigger()
    assert c.window.pixel_label.text() == ""
    wait_displayed(qtbot, c, dataset[1])
