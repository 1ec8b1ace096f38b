"""The screen describes what will be exported: counts, table and overlays follow the review
state (issue 11, defects 1, 5 and 8)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QApplication

from app.controller import Controller
from app.overlay_state import TruthMode
from core.imaging.lesion_stats import mask_stats
from core.lesions import LESIONS, Lesion
from tests.app.conftest import drag


def _row_text(c: Controller, lesion: Lesion) -> str:
    return c.panel.rows[lesion].stats_label.text()


def _fov_pixels(c: Controller) -> int:
    return int(np.count_nonzero(c.analysis.prediction.fov.mask))


def test_counts_table_and_export_describe_the_edited_mask(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path
) -> None:
    c = opened
    c.window.action("active_EX").trigger()
    c.window.action("adopt").trigger()
    # adopted, no pixel changed: not called edited (a trial saw "edited mask" on accepted lesions)
    qtbot.waitUntil(lambda: _row_text(c, Lesion.EX).startswith("adopted mask: "), timeout=3000)
    assert c.pr.table.item(LESIONS.index(Lesion.EX), 0).text() == "adopted"  # the PR table agrees
    c.window.action("tool_lasso_fill").trigger()
    drag(qtbot, c, [(200, 200), (200, 300), (300, 300), (300, 200)])
    mask = c.state.mask(Lesion.EX)
    expected = mask_stats(mask.mask(), _fov_pixels(c))
    qtbot.waitUntil(lambda: f"{expected.area_px:,} px" in _row_text(c, Lesion.EX), timeout=3000)
    assert _row_text(c, Lesion.EX).startswith("edited mask: ")
    table_before = [c.pr.table.item(LESIONS.index(Lesion.EX), column).text() for column in range(5)]
    assert table_before[0] == "edited"
    point = c.state.edited_point(Lesion.EX)
    assert table_before[2] == f"{point.precision:.3f}" and table_before[3] == f"{point.recall:.3f}"
    assert c.panel.rows[Lesion.EX].note_label.isVisible()

    # the slider no longer drives an adopted lesion: counts, table and overlay stay
    c.panel.rows[Lesion.EX].threshold_slider.setValue(30)
    QApplication.processEvents()
    qtbot.wait(200)
    assert f"{expected.area_px:,} px" in _row_text(c, Lesion.EX)
    assert [c.pr.table.item(LESIONS.index(Lesion.EX), column).text() for column in range(5)] == table_before
    assert c.view.layer(Lesion.EX, "review").isVisible()
    assert c.review.panel.adopt_button.text() == f"Re-adopt EX at {c.state.thresholds[Lesion.EX]:.3f}"

    c.panel.select(c.panel.truth_box, TruthMode.COMPARE)  # TP / FP / FN of the edited mask, not the map
    truth = c.analysis.truth[Lesion.EX]
    marked_not_true = c.view.layer(Lesion.EX, "compare_other").image > 0
    np.testing.assert_array_equal(marked_not_true, mask.mask() & ~truth)
    c.panel.select(c.panel.truth_box, TruthMode.OUTLINE)

    c.window.action("mark_reviewed").trigger()
    out = tmp_path / "export"
    job = c.review.output.export(out)
    with qtbot.waitSignal(job.signals.ended, timeout=30000):
        pass
    manifest = json.loads((out / f"{dataset[0].stem}.json").read_text())
    exported = manifest["lesions"]["EX"]
    assert (exported["count"], exported["area_px"]) == (expected.count, expected.area_px), (
        "the export records what the screen said"
    )
    assert exported["source"] == "reviewed: edited" and exported["looked_at_by_reviewer"]


def test_counts_follow_the_threshold_before_adopting(qtbot, opened: Controller) -> None:
    c = opened
    c.set_threshold(Lesion.HE, 0.2)
    expected = mask_stats(c.analysis.prediction.mask(Lesion.HE, 0.2), _fov_pixels(c))
    qtbot.waitUntil(lambda: f"{expected.area_px:,} px" in _row_text(c, Lesion.HE), timeout=3000)
    assert not _row_text(c, Lesion.HE).startswith("edited")


def test_hiding_all_overlays_shows_in_the_checkboxes_and_the_menu(qtbot, opened: Controller) -> None:
    c = opened
    overlays = c.window.action("toggle_overlays")
    assert overlays.isCheckable() and overlays.isChecked()
    overlays.trigger()  # O
    for lesion in LESIONS:
        assert not c.panel.rows[lesion].visible_box.isChecked()
        assert not c.window.action(f"toggle_{lesion.code}").isChecked()
        fill = c.view.layer(lesion, "fill")
        assert fill is None or not fill.isVisible()
    assert not overlays.isChecked()
    assert "hidden" in c.modes.legend.text()
    c.window.action("toggle_HE").trigger()  # H shows haemorrhages only
    assert c.panel.rows[Lesion.HE].visible_box.isChecked() and overlays.isChecked()
    assert not c.panel.rows[Lesion.MA].visible_box.isChecked()
    c.panel.rows[Lesion.MA].visible_box.setChecked(True)  # the checkbox and the menu agree
    assert c.window.action("toggle_MA").isChecked()


def test_a_threshold_away_from_the_default_is_marked_and_reset_explained(qtbot, opened: Controller) -> None:
    c = opened
    row = c.panel.rows[Lesion.SE]
    assert not row.threshold_label.text().endswith("*")
    c.set_threshold(Lesion.SE, 0.1)
    assert row.threshold_label.text() == "0.100*"
    c.set_threshold(Lesion.SE, 252 / 255)  # a slider step: shown as the masks use it, not rounded up
    assert row.threshold_label.text() == "0.988*"
    default = c.state.defaults[Lesion.SE]
    assert f"default is {default:.3f}" in row.threshold_slider.toolTip()
    assert "every photograph of this folder" in row.threshold_slider.toolTip()
    tip = c.panel.reset_button.toolTip()
    assert "model's defaults" in tip and f"SE {default:.3f}" in tip
    c.panel.reset_button.click()
    assert c.state.thresholds[Lesion.SE] == default and not row.threshold_label.text().endswith("*")
