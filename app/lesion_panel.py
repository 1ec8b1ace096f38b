"""Per-lesion controls: visibility, colour, opacity, threshold, counts/areas; the display modes."""

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

from app.overlay_state import OverlayStyle, Rgb, TruthMode
from core.imaging.lesion_stats import LesionStats
from core.imaging.probability_maps import probability_to_level
from core.lesions import LESIONS, Lesion
from core.review.display import MIN_THRESHOLD_LEVEL, DisplayAid, threshold_text
from core.review.state import Layer

#: Shown beside a bundled synthetic sample: a drawing, not a photograph.
SAMPLE_NOTE = (
    "Bundled sample: a synthetic drawing, not a photograph; the model's marks on it do not show "
    "its accuracy (Help > About LesionLens)."
)


def _swatch_css(colour: Rgb) -> str:
    return f"background-color: rgb{colour}; border: 1px solid #444; min-width: 28px;"


class LesionRow(QGroupBox):
    """One lesion's controls. They show the review state and send what the reader asks for;
    they keep no copy of it (see ``core.review.state``)."""

    visible_toggled = Signal(object, bool)  # Lesion, visible
    threshold_moved = Signal(object, float)  # Lesion, threshold 0..1
    opacity_moved = Signal(object, float)  # Lesion, opacity 0..1
    colour_chosen = Signal(object, object)  # Lesion, Rgb

    def __init__(self, lesion: Lesion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesion = lesion
        self._colour: Rgb = lesion.colour
        self.visible_box = QCheckBox(f"{lesion.code}  {lesion.title}")
        self.colour_button = QPushButton()
        self.colour_button.setToolTip(f"Colour of {lesion.title}")
        self.threshold_slider = QSlider(Qt.Orientation.Horizontal)
        self.threshold_slider.setRange(MIN_THRESHOLD_LEVEL, 254)
        self.threshold_label = QLabel()
        self.threshold_label.setMinimumWidth(36)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setMaximumWidth(90)
        self.opacity_slider.setToolTip(f"Opacity of the {lesion.title.lower()} layer")
        self.stats_label = QLabel("not predicted")
        self.stats_label.setStyleSheet("color: #555;")
        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        self.note_label.setStyleSheet("color: #8a4b00;")
        self.note_label.setVisible(False)

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
        grid.addWidget(self.note_label, 3, 0, 1, 6)
        grid.setColumnStretch(1, 1)

        self.visible_box.toggled.connect(lambda checked: self.visible_toggled.emit(self.lesion, checked))
        self.colour_button.clicked.connect(self._choose_colour)
        self.threshold_slider.valueChanged.connect(
            lambda level: self.threshold_moved.emit(self.lesion, level / 255.0)
        )
        self.opacity_slider.valueChanged.connect(
            lambda value: self.opacity_moved.emit(self.lesion, value / 100.0)
        )

    def show_layer(
        self, layer: Layer, threshold: float, default: float, moved: bool, adopted_at: float | None
    ) -> None:
        """Show the state of this lesion (no signals).

        Args:
            layer: visibility, colour, opacity.
            threshold: the folder's threshold; ``default``: the model's; ``moved``: they differ.
            adopted_at: the threshold the shown edited mask was adopted at, or None.
        """
        self._colour = layer.colour
        for widget, setter, value in (
            (self.visible_box, self.visible_box.setChecked, layer.visible),
            (self.threshold_slider, self.threshold_slider.setValue, level_of(threshold)),
            (self.opacity_slider, self.opacity_slider.setValue, round(layer.opacity * 100)),
        ):
            widget.blockSignals(True)
            setter(value)
            widget.blockSignals(False)
        self.colour_button.setStyleSheet(_swatch_css(layer.colour))
        shown = threshold_text(threshold)
        self.threshold_label.setText(f"{shown}*" if moved else shown)
        self.threshold_label.setStyleSheet("color: #d55e00; font-weight: bold;" if moved else "")
        tip = (
            f"{self.lesion.title}: pixels at or above this probability are shown (probabilities come in "
            "steps of 1/255; the value shown names one step). The model's default is "
            f"{threshold_text(default)}"
            + (" (* = moved away from it)" if moved else "")
            + ". The threshold applies to every photograph of this folder and is saved with its review."
        )
        self.threshold_slider.setToolTip(tip)
        self.threshold_label.setToolTip(tip)
        if adopted_at is None:
            self.note_label.setVisible(False)
        else:
            self.note_label.setText(
                f"Showing the adopted mask (adopted at {threshold_text(adopted_at)}); the slider no longer "
                "changes it here. Re-adopt (Ctrl+E) to start again from the slider's threshold."
            )
            self.note_label.setVisible(True)

    def _choose_colour(self) -> None:
        chosen = QColorDialog.getColor(QColor(*self._colour), self, f"Colour of {self.lesion.title}")
        if chosen.isValid():
            self.colour_chosen.emit(self.lesion, (chosen.red(), chosen.green(), chosen.blue()))

    def show_stats(self, stats: LesionStats | None, mask_kind: str = "") -> None:
        """Counts and area of the shown mask (``mask_kind``: which reviewer's mask it is, e.g.
        "edited mask"; empty for the prediction at the threshold)."""
        if stats is None:
            self.stats_label.setText("not predicted")
            return
        self.stats_label.setText(
            f"{mask_kind + ': ' if mask_kind else ''}"
            f"{stats.count} component{'s' if stats.count != 1 else ''} · {stats.area_px:,} px "
            f"({stats.area_fraction * 100:.3f} % of the field of view)"
        )


def level_of(threshold: float) -> int:
    """The slider position of a threshold."""
    return max(probability_to_level(threshold), MIN_THRESHOLD_LEVEL)


class LesionPanel(QWidget):
    """Display aid, overlay and ground-truth modes, then one row per lesion."""

    aid_changed = Signal(object)  # DisplayAid
    overlay_style_changed = Signal(object)  # OverlayStyle
    truth_mode_changed = Signal(object)  # TruthMode
    reset_thresholds = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.aid_box = self._combo(DisplayAid)
        self.overlay_box = self._combo(OverlayStyle)
        self.truth_box = self._combo(TruthMode)
        self.truth_box.setToolTip("Ground truth, when found beside the photograph or chosen by hand")
        self.truth_label = QLabel("ground truth: none found")
        self.truth_label.setWordWrap(True)
        self.sample_note = QLabel(SAMPLE_NOTE)
        self.sample_note.setWordWrap(True)
        self.sample_note.setStyleSheet("color: #8a5a00; font-style: italic;")
        self.sample_note.setVisible(False)
        self.reset_button = QPushButton("Reset thresholds")
        form = QFormLayout()
        form.addRow("photograph", self.aid_box)
        form.addRow("prediction", self.overlay_box)
        form.addRow("ground truth", self.truth_box)
        form.addRow("thresholds", self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(form)
        layout.addWidget(self.truth_label)
        layout.addWidget(self.sample_note)
        self.rows = {lesion: LesionRow(lesion) for lesion in LESIONS}
        for row in self.rows.values():
            layout.addWidget(row)
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
