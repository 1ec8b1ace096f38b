"""Editing with the mouse: brush, eraser, lasso, component tools, undo and redo
(app/mask_strokes.py; pytest-qt, offscreen)."""

from __future__ import annotations

import numpy as np

from app.controller import Controller
from core.lesions import Lesion
from core.review.editable_mask import MaskState
from tests.app.conftest import click, drag


def _mask(controller: Controller, lesion: Lesion = Lesion.EX):
    return controller.review.mask(lesion, adopt=False)


def test_brush_eraser_undo_redo_with_the_mouse(qtbot, opened: Controller) -> None:
    c = opened
    c.window.action("active_EX").trigger()
    c.window.action("tool_brush").trigger()
    c.review.panel.brush_size.setValue(6)
    drag(qtbot, c, [(100, 100), (100, 140), (110, 180)])
    mask = _mask(c)
    assert mask is not None, "painting adopted the prediction first"
    assert mask.states[100, 120] in (MaskState.ADDED, MaskState.MODEL)
    assert np.count_nonzero(mask.states == MaskState.ADDED) > 100
    layer = c.view.layer(Lesion.EX, "review")
    assert layer.isVisible() and np.shares_memory(layer.image, mask.states), (
        "the layer shows the edited array"
    )
    after_brush = mask.states.copy()
    c.window.action("tool_eraser").trigger()
    drag(qtbot, c, [(100, 110), (100, 130)])
    assert mask.states[100, 120] == MaskState.EMPTY
    assert len(mask.undo_steps) == 2  # the brush stroke and the eraser stroke (adopting is the start)
    c.window.action("undo").trigger()
    np.testing.assert_array_equal(mask.states, after_brush)
    c.window.action("redo").trigger()
    assert mask.states[100, 120] == MaskState.EMPTY
    c.window.action("brush_larger").trigger()
    assert c.review.panel.brush_size.value() > 6
    c.window.action("brush_smaller").trigger()
    c.window.action("brush_smaller").trigger()
    assert c.review.panel.brush_size.value() < 8
    assert "px edited" in c.review.panel.edit_label.text()


def test_lasso_and_component_tools(qtbot, opened: Controller) -> None:
    c = opened
    c.window.action("tool_lasso_fill").trigger()
    drag(qtbot, c, [(200, 200), (200, 260), (260, 260), (260, 200)])
    mask = _mask(c)
    assert mask.states[230, 230] == MaskState.ADDED
    c.window.action("tool_component").trigger()
    click(c, 230, 230, shift=True)
    assert mask.states[230, 230] == MaskState.ADDED, "keeping an added component leaves it added"
    click(c, 230, 230)
    assert not mask.mask()[200:261, 200:261].any(), "a click deletes the component"
    c.window.action("tool_lasso_erase").trigger()
    c.window.action("undo").trigger()
    assert mask.states[230, 230] == MaskState.ADDED
