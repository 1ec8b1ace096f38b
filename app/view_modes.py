"""How the photograph is shown: display aid, prediction style, ground-truth mode, legend, hover."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication

from app.legend import Legend, legend_entries
from app.lesion_panel import LesionPanel
from app.main_window import MainWindow
from app.overlay_state import OverlayStyle, TruthMode
from app.settings import AppSettings
from core.lesions import LESIONS, Lesion
from core.review.display import DisplayAid, display_image
from core.review.state import Change, ReviewState

if TYPE_CHECKING:
    import numpy as np

    from core.review.engine import ImageAnalysis


class ViewModes(QObject):
    """The three mode boxes (remembered in the settings), the on-image legend and the pixel readout."""

    def __init__(self, state: ReviewState, window: MainWindow, settings: AppSettings) -> None:
        super().__init__(window)
        self.state, self.window, self.settings = state, window, settings
        self.view, self.panel = window.image_view, window.lesion_panel
        self.aid = DisplayAid.ORIGINAL
        self._aid_images: dict[DisplayAid, np.ndarray] = {}
        self.legend = Legend(self.view)
        self.legend_wanted = True  # the reader can hide it (View menu, Shift+O) when it covers lesions
        for box, kind, key, default in (
            (self.panel.aid_box, DisplayAid, "aid", DisplayAid.ORIGINAL),
            (self.panel.overlay_box, OverlayStyle, "overlay", OverlayStyle.FILL),
            (self.panel.truth_box, TruthMode, "truth", TruthMode.OUTLINE),
        ):
            name = settings.text(key, default.name)
            member = kind[name] if name in kind.__members__ else default
            LesionPanel.select(box, member)
            self.set_mode(key, member)
        self.panel.aid_changed.connect(lambda member: self.set_mode("aid", member))
        self.panel.overlay_style_changed.connect(lambda member: self.set_mode("overlay", member))
        self.panel.truth_mode_changed.connect(lambda member: self.set_mode("truth", member))
        self.view.hovered.connect(self.show_pixel)
        state.subscribe(self._on_state)

    def forget_image(self) -> None:
        """Another photograph: the display-aid images of the previous one are dropped."""
        self._aid_images.clear()

    def aid_image(self, analysis: ImageAnalysis | None) -> np.ndarray | None:
        """The photograph as the current display aid shows it (computed once per aid)."""
        if analysis is None:
            return None
        if self.aid not in self._aid_images:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self._aid_images[self.aid] = display_image(analysis.image, self.aid)
            finally:
                QApplication.restoreOverrideCursor()
        return self._aid_images[self.aid]

    def set_mode(self, key: str, member: object) -> None:
        if isinstance(member, DisplayAid):
            self.aid = member
            if self.state.analysis is not None:
                self.view.set_image(self.aid_image(self.state.analysis), keep_view=True)
        elif isinstance(member, OverlayStyle):
            self.view.set_overlay_style(member)
        elif isinstance(member, TruthMode):
            self.view.set_truth_mode(member)
        self.settings.set_text(key, member.name)  # type: ignore[attr-defined]
        self.show_legend()

    def _on_state(self, change: Change, _lesion: Lesion | None) -> None:
        if change in (Change.LAYER, Change.PHOTOGRAPH):
            self.show_legend()

    def show_legend(self) -> None:
        """What the colours of the current mode mean, over the photograph while it has a prediction."""
        analysis = self.state.analysis
        has_truth = analysis is not None and analysis.truth is not None
        self.legend.show_entries(
            *legend_entries(self.state.layers, self.view.overlay_style, self.view.truth_mode, has_truth)
        )
        self.legend.setVisible(
            self.legend_wanted and analysis is not None and analysis.prediction is not None
        )

    def set_legend_wanted(self, wanted: bool) -> None:
        self.legend_wanted = wanted
        self.show_legend()

    def show_pixel(self, y: int, x: int) -> None:
        """The status bar's readout: position, probabilities and ground truth under the cursor."""
        analysis = self.state.analysis
        if analysis is None or not (0 <= y < analysis.shape[0] and 0 <= x < analysis.shape[1]):
            self.window.pixel_label.setText("")
            return
        text = f"x {x}, y {y}"
        values = analysis.prediction.at(y, x) if analysis.prediction is not None else None
        if values is not None:
            text += "  |  " + "  ".join(f"{lesion.code} {p:.3f}" for lesion, p in values.items())
        if analysis.truth is not None:
            present = [lesion.code for lesion in LESIONS if analysis.truth[lesion][y, x]]
            text += f"  |  truth: {', '.join(present) or 'none'}"
        self.window.pixel_label.setText(text)
