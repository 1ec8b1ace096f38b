"""Pointer input on the image turned into mask edits: brush and eraser strokes, lasso fill and
erase, component clicks, and the brush's cursor ring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject

from app.edit_tools import EditTool

if TYPE_CHECKING:
    from app.image_view import ImageView
    from app.review_panel import ReviewPanel
    from core.lesions import Lesion
    from core.review.editable_mask import EditableMask


class EditingAccess(Protocol):
    """What the strokes need of the review controller (it owns them; they never import it)."""

    view: ImageView
    panel: ReviewPanel
    active: Lesion
    tool: EditTool

    def mask(self, lesion: Lesion, adopt: bool = True) -> EditableMask | None: ...

    def edited(self, lesion: Lesion, box: tuple[int, int, int, int] | None) -> None: ...


class MaskStrokes(QObject):
    """Turns the view's pointer signals into edits of the active lesion's mask."""

    def __init__(self, review: EditingAccess, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.review = review
        self._last_point: tuple[float, float] | None = None
        self._lasso: list[tuple[float, float]] = []
        self._cursor_centre: tuple[float, float] | None = None

    def resize_brush(self, factor: float) -> None:
        box = self.review.panel.brush_size
        box.setValue(
            max(box.minimum(), min(box.maximum(), round(box.value() * factor) + (1 if factor > 1 else 0)))
        )

    def update_cursor(self, centre: tuple[float, float] | None) -> None:
        if self.review.tool in (EditTool.BRUSH, EditTool.ERASER):
            self._cursor_centre = centre or self._cursor_centre
            self.review.view.set_cursor_ring(self._cursor_centre, self.review.panel.brush_size.value())
        else:
            self.review.view.set_cursor_ring(None, 0)

    def stroke_started(self, y: float, x: float) -> None:
        mask = self.review.mask(self.review.active)
        if mask is None:
            return
        if self.review.tool in (EditTool.BRUSH, EditTool.ERASER):
            mask.begin_stroke(self.review.tool.value)
            self._last_point = (y, x)
        else:
            self._lasso = [(y, x)]

    def stroke_moved(self, y: float, x: float) -> None:
        mask = self.review.mask(self.review.active, adopt=False)
        if mask is None:
            return
        if self.review.tool in (EditTool.BRUSH, EditTool.ERASER) and self._last_point is not None:
            box = mask.brush(
                self._last_point,
                (y, x),
                self.review.panel.brush_size.value(),
                erase=self.review.tool is EditTool.ERASER,
            )
            self._last_point = (y, x)
            if box is not None:
                self.review.view.update_region(self.review.active, box)
            self.update_cursor((y, x))
        elif self._lasso:
            self._lasso.append((y, x))
            self.review.view.set_lasso(self._lasso)

    def stroke_finished(self) -> None:
        mask = self.review.mask(self.review.active, adopt=False)
        if mask is None:
            return
        if self.review.tool in (EditTool.BRUSH, EditTool.ERASER):
            self._last_point = None
            self.review.edited(self.review.active, mask.end_stroke())
        elif self._lasso:
            box = mask.fill_polygon(self._lasso, erase=self.review.tool is EditTool.LASSO_ERASE)
            self._lasso = []
            self.review.view.set_lasso([])
            self.review.edited(self.review.active, box)

    def click(self, y: float, x: float, shift: bool) -> None:
        if self.review.tool is EditTool.COMPONENT:
            mask = self.review.mask(self.review.active)
            if mask is not None:
                self.review.edited(self.review.active, mask.set_component(int(y), int(x), keep=shift))
        elif self.review.tool in (EditTool.BRUSH, EditTool.ERASER):  # a click paints a dot
            self.stroke_started(y, x)
            self.stroke_moved(y, x)
            self.stroke_finished()
