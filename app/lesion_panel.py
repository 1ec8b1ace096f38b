"""Per-lesion controls: visibility, colour, opacity, threshold, and counts/areas."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QColorDialog,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.overlay_state import LayerStyle, OverlayStyle, Rgb, TruthMode
from core.display import MIN_THRESHOLD_LEVEL, DisplayAid
from core.inference import probability_to_level
from core.lesion_stats import LesionStats
from core.lesions import LESIONS, Lesion


def _swatch_css(colour: Rgb) -> str:
    return f"background-color: rgb{colour}; border: 1px solid #444; min-width: 28px;"


class LesionRow(QGroupBox):
    """One lesion's controls."""

    changed = Signal(object, object)  # Lesion, LayerStyle

    def __init__(self, lesion: Lesion, style: LayerStyle, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesion = lesion
        self.style = style
        self.visible_box = QCheckBox(f"{lesion.code}  {lesion.title}")
        self.visible_box.setChecked(style.visible)
        self.colour_button = QPushButton()
        self.colour_button.setToolTip(f"Colour of {lesion.title}")
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(MIN_THRESHOLD_LEVEL, 254)
        self.threshold_slider.setToolTip(f"{lesion.title}: pixels at or above this probability are shown")
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(36)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setMaximumWidth(90)
        self.opacity_slider.setToolTip(f"Opacity of the {lesion.title.lower()} layer")
        self.stats_label = QLabel("not predicted")
        self.stats_label.setStyleSheet("color: #555;")

        grid = QGridLayout(self)
        grid.setContentsMargins(6, 2, 6, 2)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.visible_box, 0, 0, 1, 3)
        grid.addWidget(QLabel("opacity"), 0, 3, Qt.AlignmentFlag.AlignRight)
        grid.addWidget(self.opacity_slider, 0, 4)
        grid.addWidget(self.colour_button, 0, 5)
        grid.addWidget(QLabel("threshold"), 1, 0)
        grid.addWidget(self.threshold_slider, 1, 1, 1, 4)
        grid.addWidget(self.threshold_label, 1, 5)
        grid.addWidget(self.stats_label, 2, 0, 1, 6)
        grid.setColumnStretch(1, 1)
        self._show(style)

        self.visible_box.toggled.connect(self._on_visible)
        self.colour_button.clicked.connect(self._choose_colour)
        self.threshold_slider.valueChanged.connect(self._on_threshold)
        self.opacity_slider.valueChanged.connect(self._on_opacity)

    def _show(self, style: LayerStyle) -> None:
        self.colour_button.setStyleSheet(_swatch_css(style.colour))
        self.threshold_slider.blockSignals(True)
        self.threshold_slider.setValue(max(probability_to_level(style.threshold), MIN_THRESHOLD_LEVEL))
        self.threshold_slider.blockSignals(False)
        self.threshold_label.setText(f"{style.threshold:.2f}")
        self.opacity_slider.blockSignals(True)
        self.opacity_slider.setValue(round(style.opacity * 100))
        self.opacity_slider.blockSignals(False)

    def set_style(self, style: LayerStyle) -> None:
        """Show a style set from outside (no signal)."""
        self.style = style
        self.visible_box.blockSignals(True)
        self.visible_box.setChecked(style.visible)
        self.visible_box.blockSignals(False)
        self._show(style)

    def _emit(self) -> None:
        self.changed.emit(self.lesion, self.style)

    def _on_visible(self, checked: bool) -> None:
        self.style.visible = checked
        self._emit()

    def _on_threshold(self, level: int) -> None:
        self.style.threshold = level / 255.0
        self.threshold_label.setText(f"{self.style.threshold:.2f}")
        self._emit()

    def _on_opacity(self, value: int) -> None:
        self.style.opacity = value / 100.0
        self._emit()

    def _choose_colour(self) -> None:
        chosen = QColorDialog.getColor(QColor(*self.style.colour), self, f"Colour of {self.lesion.title}")
        if chosen.isValid():
            self.set_colour((chosen.red(), chosen.green(), chosen.blue()))

    def set_colour(self, colour: Rgb) -> None:
        self.style.colour = colour
        self.colour_button.setStyleSheet(_swatch_css(colour))
        self._emit()

    def show_stats(self, stats: LesionStats | None) -> None:
        if stats is None:
            self.stats_label.setText("not predicted")
            return
        self.stats_label.setText(
            f"{stats.count} component{'s' if stats.count != 1 else ''} · {stats.area_px:,} px "
            f"({stats.area_fraction * 100:.3f} % of the field of view)"
        )


class LesionPanel(QWidget):
    """Display aid, overlay and ground-truth modes, then one row per lesion."""

    aid_changed = Signal(object)  # DisplayAid
    overlay_style_changed = Signal(object)  # OverlayStyle
    truth_mode_changed = Signal(object)  # TruthMode
    reset_thresholds = Signal()

    def __init__(self, styles: dict[Lesion, LayerStyle], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.aid_box = self._combo(DisplayAid)
        self.overlay_box = self._combo(OverlayStyle)
        self.truth_box = self._combo(TruthMode)
        self.truth_box.setToolTip("Ground truth, when found beside the photograph or chosen by hand")
        self.truth_label = QLabel("ground truth: none found")
        self.truth_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("photograph", self.aid_box)
        form.addRow("prediction", self.overlay_box)
        form.addRow("ground truth", self.truth_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self.truth_label)
        self.rows = {lesion: LesionRow(lesion, styles[lesion]) for lesion in LESIONS}
        for row in self.rows.values():
            layout.addWidget(row)
        self.reset_button = QPushButton("Model's default thresholds")
        layout.addWidget(self.reset_button)
        layout.addStretch(1)
        self.aid_box.currentIndexChanged.connect(lambda: self.aid_changed.emit(self.aid_box.currentData()))
        self.overlay_box.currentIndexChanged.connect(
            lambda: self.overlay_style_changed.emit(self.overlay_box.currentData())
        )
        self.truth_box.currentIndexChanged.connect(
            lambda: self.truth_mode_changed.emit(self.truth_box.currentData())
        )
        self.reset_button.clicked.connect(self.reset_thresholds.emit)

    @staticmethod
    def _combo(kind: type) -> QComboBox:
        box = QComboBox()
        for member in kind:
            box.addItem(member.value, member)
        return box

    @staticmethod
    def select(box: QComboBox, member: object) -> None:
        """Select an enum member in one of the combo boxes (emits the change signal)."""
        index = box.findData(member)
        if index >= 0:
            box.setCurrentIndex(index)

    @staticmethod
    def cycle(box: QComboBox) -> None:
        """Select the next entry (keyboard shortcut)."""
        box.setCurrentIndex((box.currentIndex() + 1) % box.count())
