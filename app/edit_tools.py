"""Mouse tools on the photograph: pan (default), brush, eraser, lasso, component picking."""

from __future__ import annotations

from enum import Enum

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal


class EditTool(Enum):
    """What a left-button drag or click on the photograph does."""

    NAVIGATE = "pan and zoom"
    BRUSH = "brush"
    ERASER = "eraser"
    LASSO_FILL = "lasso fill"
    LASSO_ERASE = "lasso erase"
    COMPONENT = "pick component (click: delete, Shift+click: keep)"

    @property
    def drags(self) -> bool:
        return self in (EditTool.BRUSH, EditTool.ERASER, EditTool.LASSO_FILL, EditTool.LASSO_ERASE)


class EditingViewBox(pg.ViewBox):
    """A ViewBox whose left button edits when a tool other than NAVIGATE is active.

    Signals carry photograph coordinates (y, x) as floats. The wheel always zooms and the
    right or middle button always pans, so navigation never needs a tool change.
    """

    stroke_started = Signal(float, float)
    stroke_moved = Signal(float, float)
    stroke_finished = Signal()
    clicked = Signal(float, float, bool)  # y, x, Shift held

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.tool = EditTool.NAVIGATE

    def _point(self, position: QPointF) -> tuple[float, float]:
        point = self.mapToView(position)
        return point.y(), point.x()

    def mouseDragEvent(self, ev, axis=None) -> None:  # type: ignore[no-untyped-def]  # noqa: N802 - Qt override
        if not self.tool.drags:
            if ev.button() == Qt.MouseButton.RightButton:  # right-drag pans too (pyqtgraph would zoom)
                ev.accept()
                delta = self.mapToView(ev.lastPos()) - self.mapToView(ev.pos())
                self.translateBy(x=delta.x(), y=delta.y())
                return
            super().mouseDragEvent(ev, axis)
            return
        if ev.button() != Qt.MouseButton.LeftButton:
            ev.accept()
            delta = self.mapToView(ev.lastPos()) - self.mapToView(ev.pos())
            self.translateBy(x=delta.x(), y=delta.y())
            return
        ev.accept()
        if ev.isStart():
            self.stroke_started.emit(*self._point(ev.buttonDownPos()))
        self.stroke_moved.emit(*self._point(ev.pos()))
        if ev.isFinish():
            self.stroke_finished.emit()

    def mouseClickEvent(self, ev) -> None:  # type: ignore[no-untyped-def]  # noqa: N802 - Qt override
        if self.tool is EditTool.NAVIGATE or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseClickEvent(ev)
            return
        ev.accept()
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        self.clicked.emit(*self._point(ev.pos()), shift)
