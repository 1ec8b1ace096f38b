"""The review window as a reader uses it (pytest-qt, offscreen)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from app.controller import Controller
from app.overlay_state import OverlayStyle, TruthMode
from app.worklist import ImageState
from core.lesions import LESIONS, Lesion
from core.review.display import DisplayAid
from tests.app.conftest import wait_displayed


def _open(qtbot, controller: Controller, *paths: Path) -> None:
    controller.open_paths(list(paths))
    wait_displayed(qtbot, controller, paths[0])


def test_the_worklist_says_which_photographs_have_truth_before_they_are_opened(
    qtbot, controller: Controller, dataset: list[Path], tmp_path: Path
) -> None:
    lone = tmp_path / "lone" / "photo.jpg"
    lone.parent.mkdir()
    lone.write_bytes(dataset[0].read_bytes())
    controller.open_paths([*dataset, lone])
    truth_column = [controller.worklist.item(row, 3).text() for row in range(3)]
    assert truth_column == ["yes", "yes", "-"]
    assert "idrid" in controller.worklist.item(1, 3).toolTip()
    wait_displayed(qtbot, controller, dataset[0])


def test_open_runs_inference_and_shows_layers(qtbot, controller: Controller, dataset: list[Path]) -> None:
    _open(qtbot, controller, *dataset)
    path = dataset[0].resolve()
    assert controller.worklist.paths == [p.resolve() for p in dataset]
    assert controller.worklist.state(path) is ImageState.PREDICTED
    assert controller.worklist.item(0, 3).text() == "yes"
    layer = controller.view.layer(Lesion.EX, "fill")
    assert layer is not None and layer.isVisible()
    assert np.shares_memory(layer.image, controller.analysis.prediction.probs), (
        "the uint8 map itself, no copy"
    )
    assert controller.view.layer(None, "truth_outlines").isVisible()
    assert "idrid" in controller.panel.truth_label.text()
    assert controller.panel.rows[Lesion.EX].stats_label.text().endswith("field of view)")


def test_slider_swaps_the_lookup_table_and_moves_the_operating_point(
    qtbot, controller: Controller, dataset: list[Path]
) -> None:
    _open(qtbot, controller, dataset[0])
    lesion = Lesion.EX
    layer = controller.view.layer(lesion, "fill")
    pixels_before = layer.image
    layer.render()
    table_before = layer.qimage.colorTable()
    point_before = controller.pr.image_points[lesion].getData()
    cell_before = controller.pr.table.item(LESIONS.index(lesion), 3).text()
    row = controller.panel.rows[lesion]
    curve = controller.pr.image_scores.curve(lesion)
    level = int(curve.thresholds[len(curve.thresholds) // 2])  # a level where recall is neither 0 nor 1
    row.threshold_slider.setValue(level)
    assert layer.image is pixels_before, "no pixel was recomputed"
    layer.render()
    assert layer.qimage.colorTable() != table_before
    lut = layer.lut
    assert lut[level - 1, 3] == 0 and lut[level, 3] > 0
    point_after = controller.pr.image_points[lesion].getData()
    assert controller.pr.image_scores is not None and controller.pr.image_scores.has_positives(lesion)
    assert (point_after[0][0], point_after[1][0]) != (point_before[0][0], point_before[1][0])
    expected = controller.pr.image_scores.operating_point(lesion, level / 255)
    assert point_after[0][0] == expected.recall and point_after[1][0] == expected.precision
    assert controller.pr.table.item(LESIONS.index(lesion), 3).text() != cell_before
    assert controller.pr.table.item(LESIONS.index(lesion), 0).text() == f"{level / 255:.3f}"


def test_clicking_a_curve_sets_the_threshold(qtbot, controller: Controller, dataset: list[Path]) -> None:
    _open(qtbot, controller, dataset[0])
    scores = controller.pr.image_scores
    curve = scores.curve(Lesion.EX)
    index = len(curve.thresholds) // 2
    controller.pr.curve_clicked.emit(Lesion.EX, float(curve.recall[index]), float(curve.precision[index]))
    expected = scores.threshold_near(Lesion.EX, float(curve.recall[index]), float(curve.precision[index]))
    assert controller.panel.rows[Lesion.EX].threshold_slider.value() == round(expected * 255)
    assert controller.state.thresholds[Lesion.EX] == round(expected * 255) / 255


def test_window_stays_responsive_during_inference(qtbot, controller: Controller, large_photo: Path) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(20)
    progress: list[tuple[int, int]] = []
    controller.queue.progress.connect(lambda _p, done, total: progress.append((done, total)))
    started = time.perf_counter()
    controller.open_paths([large_photo])
    wait_displayed(qtbot, controller, large_photo)
    elapsed = time.perf_counter() - started
    timer.stop()
    assert len(progress) > 5 and progress[-1][0] == progress[-1][1]
    gaps = np.diff([started, *ticks])
    # The GUI thread handled timer events all along: never a silent second.
    assert len(ticks) > elapsed / 0.2, (len(ticks), elapsed)
    assert gaps.max() < 1.0, gaps.max()


def test_cancel_inference(qtbot, controller: Controller, large_photo: Path, monkeypatch) -> None:
    gate = threading.Event()  # holds the inference after its first step, so the click always lands in time
    engine = controller.engine
    predict = engine.iter_predict  # iter_analyse predicts through it too

    def gated(inner):
        yield next(inner)
        gate.wait(30)
        return (yield from inner)

    monkeypatch.setattr(engine, "iter_predict", lambda *a, **k: gated(predict(*a, **k)))
    with qtbot.waitSignal(controller.queue.progress, timeout=30000):
        controller.open_paths([large_photo])
    assert controller.window.cancel_button.isVisible()
    with qtbot.waitSignal(controller.queue.cancelled, timeout=30000):
        controller.window.cancel_button.click()
        gate.set()
    monkeypatch.undo()
    path = large_photo.resolve()
    assert controller.worklist.state(path) is ImageState.NOT_RUN
    assert controller.analysis is not None and controller.analysis.prediction is None
    assert (
        controller.view.layer(Lesion.EX, "fill") is None
        or not controller.view.layer(Lesion.EX, "fill").isVisible()
    )
    assert not controller.window.progress_action.isVisible()
    # it can be run again afterwards
    controller.run_current()
    wait_displayed(qtbot, controller, large_photo)


def test_switching_during_inference_never_shows_stale_results(
    qtbot, controller: Controller, large_photo: Path, dataset: list[Path]
) -> None:
    with qtbot.waitSignal(controller.queue.progress, timeout=30000):
        controller.open_paths([large_photo, dataset[0]])
    controller.worklist.select(dataset[0].resolve())
    with qtbot.waitSignal(controller.queue.finished, timeout=60000) as blocker:
        pass
    first_finished = blocker.args[0]
    wait_displayed(qtbot, controller, dataset[0])
    assert controller.view.base.image.shape[:2] == (480, 720)
    assert controller.analysis.path == dataset[0].resolve()
    assert controller.analysis.prediction.probs.shape[1:] == (480, 720)
    if first_finished == large_photo.resolve():
        assert controller.worklist.state(large_photo.resolve()) is ImageState.PREDICTED


def test_reopening_uses_the_cache(qtbot, controller: Controller, dataset: list[Path]) -> None:
    _open(qtbot, controller, *dataset)
    controller.worklist.step(1)
    wait_displayed(qtbot, controller, dataset[1])
    started: list[Path] = []
    controller.queue.started.connect(started.append)
    controller.worklist.step(-1)
    wait_displayed(qtbot, controller, dataset[0])
    assert controller.analysis.from_cache and started == []
    assert controller.worklist.state(dataset[0].resolve()) is ImageState.PREDICTED
    _, pooled_images = controller.pooled()
    assert pooled_images == 2


def test_bad_file_gives_a_dialog_and_no_crash(qtbot, controller: Controller, tmp_path: Path, dataset) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with qtbot.waitSignal(controller.error, timeout=10000) as blocker:
        controller.open_paths([bad])
    assert "broken.jpg" in blocker.args[0]
    boxes = [w for w in controller.window.findChildren(QMessageBox) if w.objectName() == "error_dialog"]
    assert boxes and boxes[-1].isVisible() and "broken.jpg" in boxes[-1].text()
    assert controller.worklist.state(bad.resolve()) is ImageState.FAILED
    boxes[-1].close()
    controller.open_paths([dataset[0]])
    controller.worklist.select(dataset[0].resolve())
    wait_displayed(qtbot, controller, dataset[0])


def test_ground_truth_modes(qtbot, controller: Controller, dataset: list[Path]) -> None:
    _open(qtbot, controller, dataset[0])
    view = controller.view
    controller.panel.select(controller.panel.truth_box, TruthMode.COMPARE)
    assert (
        view.layer(Lesion.EX, "compare_truth").isVisible()
        and view.layer(Lesion.EX, "compare_other").isVisible()
    )
    assert not view.layer(Lesion.EX, "fill").isVisible()
    controller.panel.select(controller.panel.truth_box, TruthMode.TRUTH)
    assert (
        view.layer(None, "truth_labels").isVisible()
        and not view.layer(Lesion.EX, "compare_truth").isVisible()
    )
    controller.panel.select(controller.panel.truth_box, TruthMode.OFF)
    assert view.layer(Lesion.EX, "fill").isVisible() and not view.layer(None, "truth_labels").isVisible()
    controller.panel.select(controller.panel.overlay_box, OverlayStyle.CONTOUR)
    contour = view.layer(Lesion.EX, "contour")
    assert contour.isVisible() and not view.layer(Lesion.EX, "fill").isVisible()
    before = contour.image.copy()
    controller.panel.rows[Lesion.EX].threshold_slider.setValue(3)
    assert not np.array_equal(contour.image, before), "contours follow the threshold"


def test_ground_truth_chosen_by_hand(qtbot, controller: Controller, tmp_path: Path) -> None:
    from core.data.synthetic import encode_jpeg, synth_fundus
    from core.imaging.io import write_png

    sample = synth_fundus(480, 720, seed=3)
    photo = tmp_path / "photos" / "eye.jpg"
    photo.parent.mkdir()
    photo.write_bytes(encode_jpeg(sample.image))
    _open(qtbot, controller, photo)
    assert controller.analysis.truth is None and controller.pr.image_scores is None
    write_png(tmp_path / "masks" / "eye_EX.png", sample.masks[Lesion.EX].astype(np.uint8) * 255)
    from core.data.ground_truth import find_ground_truth_in

    controller.set_truth(find_ground_truth_in(tmp_path / "masks", photo))
    qtbot.waitUntil(lambda: controller.analysis.truth is not None, timeout=10000)
    assert controller.pr.image_scores is not None and controller.pr.image_scores.has_positives(Lesion.EX)
    np.testing.assert_array_equal(controller.analysis.truth[Lesion.EX], sample.masks[Lesion.EX])


def test_display_aid_hover_and_navigation(qtbot, controller: Controller, dataset: list[Path]) -> None:
    _open(qtbot, controller, *dataset)
    controller.panel.select(controller.panel.aid_box, DisplayAid.GREEN)
    shown = controller.view.base.image
    np.testing.assert_array_equal(shown[:, :, 0], controller.analysis.image[:, :, 1])
    controller.view.hovered.emit(240, 360)
    text = controller.window.pixel_label.text()
    assert text.startswith("x 360, y 240") and "MA 0." in text and "truth:" in text
    controller.view.hovered.emit(-5, 10)
    assert controller.window.pixel_label.text() == ""
    controller.window.action("next_image").trigger()
    wait_displayed(qtbot, controller, dataset[1])
    controller.window.action("previous_image").trigger()
    wait_displayed(qtbot, controller, dataset[0])
    controller.window.action("mark_reviewed").trigger()
    assert controller.worklist.review(dataset[0].resolve()) == "reviewed"


def test_zoom_fit_and_actual_size(qtbot, controller: Controller, dataset: list[Path]) -> None:
    _open(qtbot, controller, dataset[0])
    view = controller.view
    view.actual_size()
    pixel = view.view.viewPixelSize()
    assert abs(pixel[0] - 1.0) < 0.02
    view.zoom(2.0)
    assert abs(view.view.viewPixelSize()[0] - 0.5) < 0.02
    view.fit()
    rect = view.view.viewRect()
    assert rect.width() >= 720 * 0.99 and rect.height() >= 480 * 0.99


def test_settings_are_remembered_but_thresholds_stay_with_their_folder(
    qtbot, engine, app_settings, dataset: list[Path]
) -> None:
    first = Controller(engine, app_settings)
    qtbot.addWidget(first.window)
    first.panel.rows[Lesion.HE].threshold_slider.setValue(100)
    assert first.state.thresholds[Lesion.HE] == 100 / 255
    first.panel.rows[Lesion.MA].colour_chosen.emit(Lesion.MA, (1, 2, 3))
    first.panel.select(first.panel.truth_box, TruthMode.COMPARE)
    first.settings.set_last_folder(dataset[0].parent)
    first.shutdown()
    second = Controller(engine, app_settings)
    qtbot.addWidget(second.window)
    assert second.state.layers[Lesion.MA].colour == (1, 2, 3)
    assert second.panel.truth_box.currentData() is TruthMode.COMPARE
    assert second.settings.last_folder() == dataset[0].parent
    default_he = round(engine.default_thresholds[Lesion.HE] * 255) / 255
    assert abs(second.state.thresholds[Lesion.HE] - default_he) < 1 / 255, (
        "a threshold moved without a folder open never carries over to another session"
    )
    second.shutdown()


def test_help_and_about(qtbot, controller: Controller) -> None:
    from app.dialogs import about_html, shortcuts_html

    shortcuts = shortcuts_html(list(controller.window.actions_by_name.values()))
    for text in ("Ctrl+R", "Next image", "Esc", "F1"):
        assert text in shortcuts
    about = "".join(about_html(controller.engine.loaded))
    for text in ("not a diagnosis", "PyTorch", "PySide6", controller.engine.loaded.sha256, "IDRiD"):
        assert text in about
    controller.window.action("about").trigger()
    controller.window.action("help").trigger()
    names = {w.objectName() for w in controller.window.findChildren(object) if w.objectName()}
    assert {"about_dialog", "help_dialog"} <= names


def test_about_renders_the_model_card_without_developer_notes(qtbot, controller: Controller) -> None:
    from PySide6.QtWidgets import QDialog, QTextBrowser

    from app.dialogs import about_dialog

    card = (
        "# Model card: x\n\n**A review aid.**\n\n| output | EX |\n|---|---|\n| 4 | 0.8596 |\n\n"
        "## Notes for developers\n\nsession notes: retrain later\n\n## Licence and attribution\n\nCC BY 4.0\n"
    )
    from core.assets.model_card import card_for_readers

    dialog: QDialog = about_dialog(controller.window, controller.engine.loaded, card_for_readers(card))
    qtbot.addWidget(dialog)
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert "Model card: x" in text and "0.8596" in text and "CC BY 4.0" in text
    assert "|---|" not in text and "**" not in text and "##" not in text, "Markdown is rendered, not shown"
    assert "session notes" not in text, "notes for developers stay out of the doctor's card"


def test_dropping_a_folder_adds_its_images(qtbot, controller: Controller, dataset: list[Path]) -> None:
    controller.window.paths_dropped.emit([dataset[0].parent])
    assert len(controller.worklist.paths) == 2
    wait_displayed(qtbot, controller, dataset[0])


def test_screenshot_is_written(qtbot, controller: Controller, dataset: list[Path], tmp_path: Path) -> None:
    _open(qtbot, controller, dataset[0])
    out = tmp_path / "shot.png"
    controller.save_screenshot(out)
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert image.width() == controller.window.width() and image.height() == controller.window.height()


def test_the_status_bar_says_when_mirrored_tiles_are_averaged(
    qtbot, tiny_checkpoint: Path, app_settings, tmp_path: Path
) -> None:
    from app.arguments import build_parser
    from app.engine_setup import build_engine

    args = build_parser().parse_args(["--flip-tta", "--model", str(tiny_checkpoint), "--device", "cpu"])
    engine, problem = build_engine(args.model, args.device, tmp_path / "cache", args.backend, args.flip_tta)
    assert problem is None and engine is not None and engine.config.flip_tta
    ctl = Controller(engine, app_settings)
    qtbot.addWidget(ctl.window)
    assert "mirrored tiles" in ctl.window.model_label.text()
    ctl.shutdown()
    # without the option the model file decides (this one: plain); --no-flip-tta forces plain
    for given in ([], ["--no-flip-tta"]):
        args = build_parser().parse_args([*given, "--model", str(tiny_checkpoint), "--device", "cpu"])
        assert args.flip_tta is (None if not given else False)
        engine, _ = build_engine(args.model, args.device, tmp_path / "cache", args.backend, args.flip_tta)
        assert engine is not None and engine.config.flip_tta is False


def test_a_bundled_sample_is_labelled_a_drawing_and_a_photograph_is_not(
    qtbot, controller: Controller, dataset: list[Path], monkeypatch
) -> None:
    drawing = dataset[0].resolve()  # stands in for a bundled sample (those are large to predict)
    monkeypatch.setattr("app.controller.is_synthetic_sample", lambda path: Path(path).resolve() == drawing)
    _open(qtbot, controller, *dataset)
    note = controller.panel.sample_note
    assert note.isVisibleTo(controller.panel) and "synthetic drawing" in note.text()
    controller.window.action("next_image").trigger()
    wait_displayed(qtbot, controller, dataset[1])
    assert not note.isVisibleTo(controller.panel)
