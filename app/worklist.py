"""The photographs under review, each with its state."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem, QWidget


class ImageState(Enum):
    """Where one photograph's inference stands (its review status is a column of its own)."""

    NOT_RUN = "not run"
    QUEUED = "queued"
    RUNNING = "running"
    PREDICTED = "predicted"
    FAILED = "failed"


_STATE_COLOURS = {
    ImageState.NOT_RUN: "#777777",
    ImageState.QUEUED: "#777777",
    ImageState.RUNNING: "#0072b2",
    ImageState.PREDICTED: "#000000",
    ImageState.FAILED: "#d55e00",
}


class Worklist(QTableWidget):
    """One row per photograph: name, state, ground truth.

    Signals:
        current_changed(path): the reader selected another photograph.
    """

    current_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(["image", "state", "review", "truth"])
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.paths: list[Path] = []
        self.states: dict[Path, ImageState] = {}
        self.currentCellChanged.connect(self._on_current)

    def add_paths(self, paths: list[Path]) -> list[Path]:
        """Append photographs not yet listed; returns those added."""
        added = [p for p in dict.fromkeys(paths) if p not in self.states]
        for path in added:
            row = self.rowCount()
            self.insertRow(row)
            name = QTableWidgetItem(path.name)
            name.setToolTip(str(path))
            self.setItem(row, 0, name)
            self.setItem(row, 1, QTableWidgetItem())
            self.setItem(row, 2, QTableWidgetItem("not started"))
            self.setItem(row, 3, QTableWidgetItem("?"))
            self.paths.append(path)
            self.set_state(path, ImageState.NOT_RUN)
        return added

    def set_state(self, path: Path, state: ImageState) -> None:
        if path not in self.states and state is not ImageState.NOT_RUN:
            return
        self.states[path] = state
        item = self.item(self.paths.index(path), 1)
        item.setText(state.value)
        item.setForeground(QBrush(QColor(_STATE_COLOURS[state])))

    def state(self, path: Path) -> ImageState:
        return self.states.get(path, ImageState.NOT_RUN)

    def set_truth(self, path: Path, description: str | None) -> None:
        """Mark whether ground truth was found (tooltip: where)."""
        if path not in self.states:
            return
        item = self.item(self.paths.index(path), 3)
        item.setText("yes" if description else "-")
        item.setToolTip(description or "no ground truth found")

    def set_review(self, path: Path, status: str) -> None:
        """Show a photograph's review status (not started, in progress, reviewed, flagged)."""
        if path in self.states:
            self.item(self.paths.index(path), 2).setText(status)

    def review(self, path: Path) -> str:
        return self.item(self.paths.index(path), 2).text() if path in self.states else ""

    @property
    def current_path(self) -> Path | None:
        row = self.currentRow()
        return self.paths[row] if 0 <= row < len(self.paths) else None

    def select(self, path: Path) -> None:
        if path in self.states:
            self.setCurrentCell(self.paths.index(path), 0)

    def step(self, offset: int) -> None:
        """Select the next (1) or previous (-1) photograph."""
        if not self.paths:
            return
        row = self.currentRow()
        target = 0 if row < 0 else min(max(row + offset, 0), len(self.paths) - 1)
        self.setCurrentCell(target, 0)

    def _on_current(self, row: int, _column: int, previous_row: int, _previous_column: int) -> None:
        if row != previous_row and 0 <= row < len(self.paths):
            self.current_changed.emit(self.paths[row])
