"""Editable masks: provenance per pixel, brush, eraser, lasso, components, undo and redo."""

from __future__ import annotations

import numpy as np

from core.review.editable_mask import EditableMask, MaskState, is_edited


def _adopted() -> EditableMask:
    probability = np.zeros((100, 120), np.uint8)
    probability[10:20, 10:20] = 200  # a model lesion
    probability[60:70, 80:90] = 90  # below a 0.5 threshold
    return EditableMask.adopt(probability, 0.5)


def test_adopt_marks_model_pixels() -> None:
    mask = _adopted()
    assert mask.mask().sum() == 100
    assert (mask.states[10:20, 10:20] == MaskState.MODEL).all()
    assert mask.edited_pixels() == 0


def test_brush_adds_and_eraser_removes_with_provenance() -> None:
    mask = _adopted()
    mask.begin_stroke("brush")
    mask.brush((50, 50), (50, 60), radius=3)
    box = mask.end_stroke()
    assert box is not None and box[0] <= 47 and box[2] >= 54
    assert mask.states[50, 55] == MaskState.ADDED
    assert mask.states[0, 0] == MaskState.EMPTY
    mask.brush((15, 15), (15, 15), radius=2, erase=True)
    assert mask.states[15, 15] == MaskState.REMOVED, "an erased model pixel keeps its origin"
    mask.brush((50, 55), (50, 55), radius=1, erase=True)
    assert mask.states[50, 55] == MaskState.EMPTY, "an erased reviewer pixel is simply empty"
    assert mask.edited_pixels() == int(is_edited(mask.states).sum()) > 0


def test_painting_over_the_model_keeps_it_a_model_pixel() -> None:
    mask = _adopted()
    mask.brush((15, 15), (15, 15), radius=2)
    assert mask.states[15, 15] == MaskState.MODEL
    assert mask.undo_steps == mask.undo_steps.__class__(maxlen=mask.undo_steps.maxlen)


def test_a_stroke_is_one_undo_step_and_redo_restores_it() -> None:
    mask = _adopted()
    original = mask.states.copy()
    mask.begin_stroke("brush")
    for x in range(30, 90, 5):
        mask.brush((40, x), (40, x + 5), radius=2)
    mask.end_stroke()
    painted = mask.states.copy()
    assert len(mask.undo_steps) == 1
    box = mask.undo()
    np.testing.assert_array_equal(mask.states, original)
    assert box is not None
    mask.redo()
    np.testing.assert_array_equal(mask.states, painted)
    assert mask.redo() is None


def test_at_least_a_hundred_undo_steps() -> None:
    mask = _adopted()
    snapshots = [mask.states.copy()]
    for step in range(120):
        row = 30 + (step // 2) % 60  # even steps paint a row, odd steps erase it again
        assert mask.brush((row, 5), (row, 100), radius=0.5, erase=step % 2 == 1) is not None
        snapshots.append(mask.states.copy())
    for step in range(120, 0, -1):
        mask.undo()
        np.testing.assert_array_equal(mask.states, snapshots[step - 1])


def test_new_edit_clears_redo() -> None:
    mask = _adopted()
    mask.brush((50, 50), (50, 50), radius=2)
    mask.undo()
    mask.brush((70, 70), (70, 70), radius=2)
    assert mask.redo() is None


def test_lasso_fill_and_erase() -> None:
    mask = _adopted()
    square = [(30, 30), (30, 40), (40, 40), (40, 30)]
    mask.fill_polygon(square)
    assert mask.states[35, 35] == MaskState.ADDED and mask.states[45, 45] == MaskState.EMPTY
    mask.fill_polygon([(5, 5), (5, 25), (25, 25), (25, 5)], erase=True)
    assert (mask.states[10:20, 10:20] == MaskState.REMOVED).all()
    assert len(mask.undo_steps) == 2
    mask.undo()
    assert (mask.states[10:20, 10:20] == MaskState.MODEL).all()


def test_component_delete_and_keep() -> None:
    mask = _adopted()
    mask.fill_polygon([(60, 5), (60, 15), (70, 15), (70, 5)])  # an added component
    assert mask.component_at(0, 0) is None
    region, box = mask.component_at(12, 12)
    assert region.sum() == 100 and box == (10, 10, 20, 20)
    mask.set_component(12, 12, keep=True)
    assert (mask.states[10:20, 10:20] == MaskState.CONFIRMED).all()
    mask.set_component(65, 10, keep=False)
    assert not mask.mask()[60:71, 5:16].any()
    mask.set_component(12, 12, keep=False)
    assert (mask.states[10:20, 10:20] == MaskState.REMOVED).all()
    mask.undo()
    assert (mask.states[10:20, 10:20] == MaskState.CONFIRMED).all()


def test_edits_outside_the_image_are_ignored() -> None:
    mask = _adopted()
    assert mask.brush((-50, -50), (-40, -40), radius=2) is None
    mask.brush((99, 119), (150, 200), radius=3)
    assert mask.states[99, 119] == MaskState.ADDED


def test_replace_is_undoable() -> None:
    mask = _adopted()
    before = mask.states.copy()
    mask.replace(np.zeros_like(before), "adopt again")
    assert not mask.mask().any()
    mask.undo()
    np.testing.assert_array_equal(mask.states, before)
