"""Reviewing in the window: adopt, brush, eraser, lasso, undo/redo, statuses, navigation,
journaling, export and agreement (pytest-qt, offscreen)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMessageBox

from app.controller import Controller
from core.data.ground_truth import find_ground_truth_in, load_ground_truth
from core.lesions import Lesion
from core.review.editable_mask import MaskState
from core.review.session import ReviewStatus
from tests.app.conftest import drag, wait_displayed


def _mask(controller: Controller, lesion: Lesion = Lesion.EX):
    return controller.review.mask(lesion, adopt=False)


def test_statuses_comment_and_next_unreviewed(qtbot, opened: Controller, dataset: list[Path]) -> None:
    c = opened
    panel = c.review.panel
    panel.comment.setText("drusen or exudates?")
    panel.comment.textEdited.emit("drusen or exudates?")
    panel.lesion_status[Lesion.HE].setCurrentIndex(
        panel.lesion_status[Lesion.HE].findData(ReviewStatus.FLAGGED)
    )
    panel.lesion_status[Lesion.HE].activated.emit(0)
    session = c.review.session_for(dataset[0].resolve())
    review = session.image(dataset[0].name)
    assert review.comment == "drusen or exudates?"
    assert review.lesions[Lesion.HE].status is ReviewStatus.FLAGGED
    assert review.status is ReviewStatus.IN_PROGRESS
    assert c.worklist.review(dataset[0].resolve()) == "in progress"
    c.window.action("mark_reviewed").trigger()
    assert review.status is ReviewStatus.REVIEWED and c.worklist.review(dataset[0].resolve()) == "reviewed"
    c.window.action("next_unreviewed").trigger()
    wait_displayed(qtbot, c, dataset[1])
    c.window.action("flag_image").trigger()
    assert session.image(dataset[1].name).status is ReviewStatus.FLAGGED


def test_component_walk_keep_and_delete(qtbot, opened: Controller) -> None:
    c = opened
    c.window.action("active_EX").trigger()
    c.set_threshold(Lesion.EX, 0.3)
    c.window.action("adopt").trigger()
    mask = _mask(c)
    before = mask.mask().copy()
    c.window.action("next_component").trigger()
    first = c.review.navigation._components[c.review.navigation._component_index]
    assert c.view.marker.isVisible()
    c.window.action("keep_component").trigger()
    assert mask.states[first.centre] == MaskState.CONFIRMED
    second = c.review.navigation._components[c.review.navigation._component_index]
    assert second != first
    c.window.action("delete_component").trigger()
    assert not mask.mask()[second.centre] and before[second.centre]


def test_uncertainty_layer_and_jump(qtbot, opened: Controller) -> None:
    c = opened
    assert c.analysis.prediction.spread is not None
    c.window.action("next_uncertain").trigger()
    layer = c.view.layer(None, "spread")
    assert layer is not None and layer.isVisible()
    region = c.review.navigation._uncertain[0]
    rect = c.view.view.viewRect()
    cy, cx = (region.box[0] + region.box[2]) / 2, (region.box[1] + region.box[3]) / 2
    assert rect.contains(QPointF(cx, cy))
    scores = [r.score for r in c.review.navigation._uncertain]
    assert scores == sorted(scores, reverse=True)
    c.window.action("toggle_spread").trigger()
    assert not layer.isVisible()


def test_export_round_trip_and_no_silent_overwrite(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path, monkeypatch
) -> None:
    c = opened
    c.window.action("tool_lasso_fill").trigger()
    drag(qtbot, c, [(200, 200), (200, 260), (260, 260), (260, 200)])
    c.window.action("mark_reviewed").trigger()
    out = tmp_path / "export"
    job = c.review.output.export(out)
    with qtbot.waitSignal(job.signals.ended, timeout=30000):
        pass
    source = find_ground_truth_in(out, dataset[0])
    loaded = load_ground_truth(source, (480, 720))
    np.testing.assert_array_equal(loaded[Lesion.EX], _mask(c).mask())
    assert (out / "manifest.csv").is_file() and (out / f"{dataset[0].stem}_overlay.png").is_file()
    model = json.loads((out / f"{dataset[0].stem}.json").read_text())["model"]
    assert model["sha256"] == c.engine.loaded.sha256  # which model and how its maps were computed
    computed = (model["backend"], model["device"], model["precision"])
    assert computed == (c.engine.config.backend, "cpu", "float32")
    before = (out / f"{dataset[0].stem}_EX.tif").read_bytes()
    asked = []
    monkeypatch.setattr(
        QMessageBox, "question", lambda *a, **k: asked.append(a) or QMessageBox.StandardButton.No
    )
    c.window.action("tool_brush").trigger()
    drag(qtbot, c, [(400, 400), (400, 450)])
    job = c.review.output.export(out)
    with qtbot.waitSignal(job.signals.ended, timeout=30000):
        pass
    qtbot.waitUntil(lambda: bool(asked), timeout=3000)
    assert (out / f"{dataset[0].stem}_EX.tif").read_bytes() == before, "nothing overwritten without asking"
    # exported masks load back as ground truth in the app
    c.truth_folder = out
    c.set_truth(source)
    qtbot.waitUntil(
        lambda: c.analysis.truth_source is not None and c.analysis.truth_source.origin == "folder",
        timeout=5000,
    )


def test_export_with_nothing_started_says_how_to_start(
    qtbot, opened: Controller, tmp_path: Path, monkeypatch
) -> None:
    """A trial moved sliders only and got a command-line hint ('use --all'); the window names
    its own way to start a review instead, and writes nothing."""
    c = opened
    c.set_threshold(Lesion.EX, 0.3)  # a threshold move alone starts no review
    errors: list[tuple[str, str]] = []
    monkeypatch.setattr(c.review.output.notifier, "show_error", lambda t, m: errors.append((t, m)))
    out = tmp_path / "export"
    assert c.review.output.export(out) is None
    assert not out.exists()
    ((title, message),) = errors
    assert title == "Nothing to export" and "Ctrl+Return" in message and "--all" not in message


def test_export_skips_a_folder_with_no_review_started(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path
) -> None:
    """Photographs of two folders open, a review started in one: the other folder's session
    must not fail the whole export with 'nothing to export'."""
    c = opened
    other = tmp_path / "other-folder" / dataset[1].name
    other.parent.mkdir()
    other.write_bytes(dataset[1].read_bytes())
    assert c.review.session_for(other.resolve()) is not None  # opened, nothing started in it
    c.window.action("mark_reviewed").trigger()
    out = tmp_path / "export"
    job = c.review.output.export(out)
    failures: list[str] = []
    job.signals.failed.connect(failures.append)
    with qtbot.waitSignal(job.signals.ended, timeout=30000):
        pass
    assert not failures
    assert (out / f"{dataset[0].stem}_EX.tif").is_file() and not (out / f"{dataset[1].stem}_EX.tif").exists()


def test_the_window_exports_png_when_chosen(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path, monkeypatch
) -> None:
    """The README promises .tif or .png; a trial found only the command line could write PNG."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    c = opened
    c.window.action("mark_reviewed").trigger()
    out = tmp_path / "export-png"
    out.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(out))
    offered: list[list[str]] = []
    monkeypatch.setattr(
        QInputDialog, "getItem", lambda _w, _t, _l, items, *a: offered.append(items) or ("PNG (.png)", True)
    )
    started: list = []
    monkeypatch.setattr(c.review.output.runner, "start", lambda job: started.append(job) or job.run())
    c.review.output.choose_export()
    assert offered and any("TIFF" in item for item in offered[0])
    assert started, "an export job ran"
    assert (out / f"{dataset[0].stem}_EX.png").is_file() and not (out / f"{dataset[0].stem}_EX.tif").exists()


def test_the_panel_says_when_the_export_is_out_of_date(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path
) -> None:
    """A trial found no sign that an export was older than later edits; the Review panel says
    when and where the photograph was exported and what changed since (and an undo back to
    the exported mask, or a threshold moved back, makes it current again)."""
    c = opened
    label = c.review.panel.export_label
    assert not label.isVisibleTo(c.window)  # never exported
    c.review.set_image_status(ReviewStatus.IN_PROGRESS)  # started, nothing adopted
    out = tmp_path / "export"

    def export() -> None:
        job = c.review.output.export(out, overwrite=True)
        with qtbot.waitSignal(job.signals.ended, timeout=30000):
            pass
        qtbot.waitUntil(lambda: "up to date" in label.text(), timeout=3000)

    export()
    assert label.isVisibleTo(c.window) and "export/" in label.text() and str(out) in label.toolTip()
    c.set_threshold(Lesion.HE, 0.3)  # HE is exported as the prediction: the export no longer shows it
    assert label.text().startswith("Changed since the export") and "(HE threshold)" in label.text()
    c.set_threshold(Lesion.HE, c.state.defaults[Lesion.HE])
    assert "up to date" in label.text()
    c.window.action("tool_brush").trigger()
    drag(qtbot, c, [(300, 300), (300, 340)])
    assert "EX mask" in label.text()
    export()
    drag(qtbot, c, [(100, 100), (100, 140)])
    assert "EX mask" in label.text()
    c.review.undo()
    assert "up to date" in label.text()
    c.review.flush(5000)
    session = c.review.sessions[dataset[0].parent.resolve()]
    reopened = type(session).open(session.folder)
    assert reopened.images[dataset[0].name].exported == session.images[dataset[0].name].exported
    sidecar = json.loads((out / f"{dataset[0].stem}.json").read_text())
    assert sidecar["exported"] == session.images[dataset[0].name].exported.at  # one time in both


def test_agreement_with_another_reviewer(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path
) -> None:
    c = opened
    c.window.action("adopt_all").trigger()
    c.window.action("mark_reviewed").trigger()
    out = tmp_path / "reviewer-a"
    job = c.review.output.export(out)
    with qtbot.waitSignal(job.signals.ended, timeout=30000):
        pass
    c.window.action("tool_lasso_fill").trigger()
    drag(qtbot, c, [(200, 200), (200, 300), (300, 300), (300, 200)])
    job = c.review.output.compare_with(out)
    with qtbot.waitSignal(job.signals.finished, timeout=30000):
        pass
    qtbot.waitUntil(lambda: c.review.output.last_agreement is not None, timeout=3000)
    agreement = c.review.output.last_agreement
    assert list(agreement.images) == [dataset[0].name]
    ex = agreement.images[dataset[0].name][Lesion.EX]
    assert ex.first > ex.second and ex.dice < 1.0
    assert agreement.pooled(Lesion.MA).dice in (1.0,) or np.isnan(agreement.pooled(Lesion.MA).dice)
    names = {w.objectName() for w in c.window.findChildren(object) if w.objectName()}
    assert "agreement_dialog" in names


def test_crash_recovery_after_kill(
    qtbot, tiny_checkpoint: Path, dataset: list[Path], tmp_path: Path, engine, app_settings
) -> None:
    """Kill the app's process in the middle of a session, reopen, find everything."""
    import hashlib
    import os
    import signal
    import subprocess
    import sys

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "LESIONLENS_SETTINGS": str(tmp_path / "crash-settings.ini"),
        "LESIONLENS_CACHE_DIR": str(tmp_path / "crash-cache"),
    }
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.app.crash_session", str(dataset[0]), str(tiny_checkpoint)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("READY"), line
        expected = line.split()[1]
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(30)
    assert process.returncode == -signal.SIGKILL
    reopened = Controller(engine, app_settings)
    qtbot.addWidget(reopened.window)
    reopened.window.show()
    try:
        reopened.open_paths([dataset[0]])
        wait_displayed(qtbot, reopened, dataset[0])
        mask = reopened.review.mask(Lesion.EX, adopt=False)
        assert mask is not None
        assert hashlib.sha256(mask.states.tobytes()).hexdigest() == expected
        assert reopened.review.panel.comment.text() == "check the macula"
        assert reopened.review.panel.lesion_status[Lesion.EX].currentData() is ReviewStatus.REVIEWED
        assert reopened.state.thresholds[Lesion.HE] == pytest.approx(0.3)
        assert reopened.worklist.review(dataset[0].resolve()) == "in progress"
        assert reopened.view.layer(Lesion.EX, "review").isVisible()
    finally:
        reopened.shutdown()
