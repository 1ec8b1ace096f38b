"""The precision-recall table scores marks on a photograph whose ground truth lacks the lesion."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPainter

from app.pr_panel import PRPanel
from core.lesions import LESIONS, Lesion
from core.scoring.metrics import PRAccumulator


def _cells(panel: PRPanel, lesion: Lesion) -> list[str]:
    row = LESIONS.index(lesion)
    return [panel.table.item(row, column).text() for column in range(5)]


def test_marks_without_any_lesion_in_the_truth_are_false_alarms(qtbot) -> None:
    panel = PRPanel(dict.fromkeys(LESIONS, (255, 255, 255)))
    qtbot.addWidget(panel)
    probs = np.zeros((len(LESIONS), 20, 20), np.uint8)
    probs[LESIONS.index(Lesion.SE), :5, :5] = 230  # 25 soft-exudate pixels marked...
    probs[LESIONS.index(Lesion.EX), :5, :5] = 230
    truth = {lesion: np.zeros((20, 20), bool) for lesion in LESIONS}
    truth[Lesion.EX][:5, :5] = True  # ...the truth has exudate there, no soft exudate anywhere
    scores = PRAccumulator()
    scores.add(probs, truth)
    panel.set_scores(scores, None, 0)
    panel.show_row(Lesion.SE, 0.5)
    assert _cells(panel, Lesion.SE) == ["0.500", "-", "0.000", "-", "0.000"]
    precision = panel.table.item(LESIONS.index(Lesion.SE), 2)
    assert "25 pixels marked SE" in precision.toolTip() and "no SE" in precision.toolTip()
    panel.show_row(Lesion.SE, 0.95)  # above the marks: nothing to score
    assert _cells(panel, Lesion.SE) == ["0.950", "-", "-", "-", "-"]
    assert panel.table.item(LESIONS.index(Lesion.SE), 2).toolTip() == ""
    panel.show_row(Lesion.EX, 0.5)
    assert _cells(panel, Lesion.EX)[2:5] == ["1.000", "1.000", "1.000"]


def test_the_worklist_columns_say_how_many_images_they_pool(qtbot) -> None:
    panel = PRPanel(dict.fromkeys(LESIONS, (255, 255, 255)))
    qtbot.addWidget(panel)
    panel.set_scores(None, None, 1)
    assert [panel.table.horizontalHeaderItem(c).text() for c in (5, 6)] == ["AUPR, 1 img", "Dice, 1 img"]
    panel.set_scores(None, None, 3)
    header = panel.table.horizontalHeaderItem(5)
    assert header.text() == "AUPR, 3 img" and "3 images with ground truth pooled" in header.toolTip()
    panel.set_scores(None, None, 0)  # nothing with ground truth: no "0 img" to puzzle over
    header = panel.table.horizontalHeaderItem(5)
    assert header.text() == "AUPR, list" and "none has yet" in header.toolTip()


def test_both_axes_label_zero_to_one(qtbot) -> None:
    """The ends of recall and precision are labelled (pyqtgraph's own ticks left 1.0 bare)."""
    panel = PRPanel(dict.fromkeys(LESIONS, (255, 255, 255)))
    qtbot.addWidget(panel)
    panel.resize(600, 600)
    panel.show()
    qtbot.waitExposed(panel)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for plot in panel.plots.values():
            for side in ("bottom", "left"):
                texts = [spec[2] for spec in plot.getAxis(side).generateDrawSpecs(painter)[2]]
                assert "0.0" in texts and "1.0" in texts, (side, texts)
    finally:
        painter.end()


def test_the_worklist_cells_say_an_edited_mask_is_not_in_them(qtbot) -> None:
    """A trial saw 'Dice / F1' 0.781 beside 'Dice, 1 img' 0.820 on an edited lesion: the list
    columns score the model's maps, and with an edited mask their cells say so."""
    panel = PRPanel(dict.fromkeys(LESIONS, (255, 255, 255)))
    qtbot.addWidget(panel)
    probs = np.zeros((len(LESIONS), 20, 20), np.uint8)
    probs[LESIONS.index(Lesion.EX), :5, :5] = 230
    truth = {lesion: np.zeros((20, 20), bool) for lesion in LESIONS}
    truth[Lesion.EX][:5, :10] = True
    scores = PRAccumulator()
    scores.add(probs, truth)
    panel.set_scores(scores, scores, 1)
    panel.show_row(Lesion.EX, 0.5)
    dice_list = panel.table.item(LESIONS.index(Lesion.EX), 6)
    assert dice_list.toolTip() == ""
    edited = scores.operating_point(Lesion.EX, 0.0)  # stands in for the reviewer's mask
    panel.show_row(Lesion.EX, 0.5, edited)
    assert _cells(panel, Lesion.EX)[0] == "edited"
    assert "edited EX mask" in dice_list.toolTip() and "not here" in dice_list.toolTip()
    assert "edited and adopted masks are not in it" in panel.table.horizontalHeaderItem(6).toolTip()


def test_a_key_under_the_plots_says_which_curve_and_dot_is_which(qtbot) -> None:
    panel = PRPanel(dict.fromkeys(LESIONS, (255, 255, 255)))
    qtbot.addWidget(panel)
    panel.resize(500, 600)
    panel.show()
    qtbot.waitExposed(panel)
    key = panel.key.text()
    assert panel.key.isVisible() and panel.key.geometry().bottom() <= panel.table.geometry().top()
    for words in ("solid", "this photograph", "dashed grey", "pooled", "Filled dot", "hollow dot"):
        assert words in key, words
