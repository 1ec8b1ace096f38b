"""The "Review" dock: reviewer, statuses and comment, editing tools, navigation, export."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.edit_tools import EditTool
from core.lesions import LESIONS, Lesion
from core.review.session import ReviewStatus


def _status_box() -> QComboBox:
    box = QComboBox()
    for status in ReviewStatus:
        box.addItem(status.value, status)
    return box


class ReviewPanel(QWidget):
    """Widgets only; the review controller connects them."""

    tool_changed = Signal(object)  # EditTool
    image_status_changed = Signal(object)  # ReviewStatus
    lesion_status_changed = Signal(object, object)  # Lesion, ReviewStatus
    comment_changed = Signal(str)
    reviewer_changed = Signal(str)
    active_lesion_changed = Signal(object)  # Lesion

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reviewer = QLineEdit()
        self.image_status = _status_box()
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("comment on this photograph")
        self.record_label = QLabel("no photograph open")
        self.record_label.setWordWrap(True)
        self.record_label.setStyleSheet("color: #8a4b00;")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.record_label)
        form.addRow("reviewer", self.reviewer)
        form.addRow("image", self.image_status)
        form.addRow("comment", self.comment)

        lesions = QGroupBox("lesions")
        grid = QGridLayout(lesions)
        self.active = QButtonGroup(self)
        self.lesion_status: dict[Lesion, QComboBox] = {}
        self.lesion_buttons: dict[Lesion, QToolButton] = {}
        for row, lesion in enumerate(LESIONS):
            button = QToolButton()
            button.setText(lesion.code)
            button.setCheckable(True)
            button.setToolTip(f"Edit {lesion.title.lower()} (Alt+{row + 1})")
            self.active.addButton(button, row)
            self.lesion_buttons[lesion] = button
            self.lesion_status[lesion] = _status_box()
            grid.addWidget(button, row, 0)
            grid.addWidget(self.lesion_status[lesion], row, 1)
        self.lesion_buttons[Lesion.EX].setChecked(True)

        tools = QGroupBox("tools")
        tool_grid = QGridLayout(tools)
        self.tools = QButtonGroup(self)
        self.tool_buttons: dict[EditTool, QToolButton] = {}
        for index, tool in enumerate(EditTool):
            button = QToolButton()
            button.setText(tool.value.split(" (")[0])
            button.setToolTip(tool.value)
            button.setCheckable(True)
            self.tools.addButton(button, index)
            self.tool_buttons[tool] = button
            tool_grid.addWidget(button, index // 2, index % 2)
        self.tool_buttons[EditTool.NAVIGATE].setChecked(True)
        self.brush_size = QSpinBox()
        self.brush_size.setRange(1, 300)
        self.brush_size.setValue(8)
        self.brush_size.setSuffix(" px radius")
        self.brush_size.setToolTip("Brush and eraser radius ([ and ])")
        tool_grid.addWidget(QLabel("brush"), 3, 0)
        tool_grid.addWidget(self.brush_size, 3, 1)

        self.adopt_button = QPushButton("Adopt EX")
        self.adopt_button.setToolTip(
            "Take the prediction of the active lesion at its threshold as your editable mask (Ctrl+E); "
            "again: start over from the slider's threshold (undoable)"
        )
        self.adopt_all_button = QPushButton("Adopt all")
        self.undo_button = QPushButton("Undo")
        self.redo_button = QPushButton("Redo")
        self.previous_component = QPushButton("< component")
        self.next_component = QPushButton("component >")
        self.keep_component = QPushButton("Keep (Y)")
        self.delete_component = QPushButton("Delete (X)")
        self.spread_box = QCheckBox("show where the heads disagree (U)")
        self.spread_box.setToolTip("White haze where the model's four outputs disagree: look twice there")
        self.next_uncertain = QPushButton("Next uncertain region (J)")
        self.export_button = QPushButton("Export reviewed masks…")
        self.export_label = QLabel("")
        self.export_label.setWordWrap(True)
        self.export_label.setVisible(False)
        self.agreement_button = QPushButton("Compare with another reviewer…")
        self.save_label = QLabel("no changes yet")
        self.save_label.setWordWrap(True)
        self.edit_label = QLabel("")
        buttons = QGridLayout()
        for index, widget in enumerate(
            (
                self.adopt_button,
                self.adopt_all_button,
                self.undo_button,
                self.redo_button,
                self.previous_component,
                self.next_component,
                self.keep_component,
                self.delete_component,
            )
        ):
            buttons.addWidget(widget, index // 2, index % 2)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addWidget(lesions)
        layout.addWidget(tools)
        layout.addLayout(buttons)
        layout.addWidget(self.spread_box)
        layout.addWidget(self.next_uncertain)
        layout.addWidget(self.export_button)
        layout.addWidget(self.export_label)
        layout.addWidget(self.agreement_button)
        layout.addWidget(self.edit_label)
        layout.addWidget(self.save_label)
        layout.addStretch(1)

        self.tools.idClicked.connect(lambda index: self.tool_changed.emit(list(EditTool)[index]))
        self.active.idClicked.connect(lambda index: self.active_lesion_changed.emit(LESIONS[index]))
        self.image_status.activated.connect(
            lambda: self.image_status_changed.emit(self.image_status.currentData())
        )
        for lesion, box in self.lesion_status.items():
            box.activated.connect(
                lambda _i, lesion=lesion, box=box: self.lesion_status_changed.emit(lesion, box.currentData())
            )
        self.comment.textEdited.connect(self.comment_changed.emit)
        self.reviewer.textEdited.connect(self.reviewer_changed.emit)
        self.show_no_record("no photograph open")

    def _record_widgets(self) -> list[QWidget]:
        return [self.image_status, self.comment, *self.lesion_status.values()]

    def show_record(self, image: ReviewStatus, lesions: dict[Lesion, ReviewStatus], comment: str) -> None:
        """Show a photograph's record (no signals) and let the reader change it."""
        self.image_status.setCurrentIndex(self.image_status.findData(image))
        for lesion, status in lesions.items():
            self.lesion_status[lesion].setCurrentIndex(self.lesion_status[lesion].findData(status))
        if self.comment.text() != comment:
            self.comment.setText(comment)
        for widget in self._record_widgets():
            widget.setEnabled(True)
        self.record_label.setVisible(False)

    def show_no_record(self, reason: str) -> None:
        """No photograph record to show (opening, or the file failed): blank and disabled."""
        self.show_record(ReviewStatus.NOT_STARTED, dict.fromkeys(LESIONS, ReviewStatus.NOT_STARTED), "")
        for widget in self._record_widgets():
            widget.setEnabled(False)
        self.record_label.setText(reason)
        self.record_label.setVisible(True)

    def show_export_status(self, text: str, tooltip: str, out_of_date: bool) -> None:
        """The photograph's last export: when and where, and whether edits came after it."""
        self.export_label.setText(text)
        self.export_label.setToolTip(tooltip)
        style = "color: #d55e00; font-weight: bold;" if out_of_date else "color: #555;"
        self.export_label.setStyleSheet(style)
        self.export_label.setVisible(bool(text))

    def select_tool(self, tool: EditTool) -> None:
        self.tool_buttons[tool].setChecked(True)
        self.tool_changed.emit(tool)

    def select_lesion(self, lesion: Lesion) -> None:
        self.lesion_buttons[lesion].setChecked(True)
        self.active_lesion_changed.emit(lesion)
