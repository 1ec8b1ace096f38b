"""The default window shows every control whole (issue 11, defect 7)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect
from PySide6.QtWidgets import QApplication

from app.controller import Controller
from app.main import SCREENSHOT_SIZE


def test_default_size_shows_the_reset_button_whole_and_no_horizontal_scrollbar(
    qtbot, opened: Controller
) -> None:
    c = opened
    c.window.resize(*SCREENSHOT_SIZE)
    QApplication.processEvents()
    qtbot.wait(50)
    viewport = c.window.lesion_scroll.viewport()
    button = c.panel.reset_button
    top_left = button.mapTo(viewport, QPoint(0, 0))
    assert viewport.rect().contains(QRect(top_left, button.size())), "the reset button is not cut"
    assert not c.window.review_scroll.horizontalScrollBar().isVisible()
    panel = c.review.panel
    assert panel.width() <= c.window.review_scroll.viewport().width()
    for child in (panel.export_button, panel.agreement_button, panel.adopt_button):
        assert child.geometry().right() <= panel.width(), child.text()


def test_default_size_shows_every_lesion_row_whole(qtbot, opened: Controller) -> None:
    c = opened
    c.window.resize(*SCREENSHOT_SIZE)
    QApplication.processEvents()
    qtbot.wait(50)
    viewport = c.window.lesion_scroll.viewport()
    for lesion, row in c.panel.rows.items():
        label = row.stats_label
        top_left = label.mapTo(viewport, QPoint(0, 0))
        assert viewport.rect().contains(QRect(top_left, label.size())), f"{lesion.code} row is cut"
