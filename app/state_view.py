"""Draws the review state: image layers, lesion rows, PR rows, counts and the View menu's checks.

Listens to ``core.review.state.ReviewState`` and redraws what changed; it never keeps a
copy of a threshold, a visibility or a mask, so the screen always shows the state.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from app.image_view import ImageView
from app.lesion_panel import LesionPanel
from app.main_window import MainWindow
from app.overlay_state import LayerStyle
from app.pr_panel import PRPanel
from core.lesions import LESIONS, Lesion
from core.review.display import threshold_text
from core.review.state import Change, ReviewState

STATS_DELAY_MS = 120  # counts follow a moving slider at this pace


class StateView(QObject):
    """Keeps the image view, the lesion panel, the PR panel and the View menu in line with the state."""

    def __init__(self, state: ReviewState, window: MainWindow) -> None:
        super().__init__(window)
        self.state = state
        self.window = window
        self.view: ImageView = window.image_view
        self.panel: LesionPanel = window.lesion_panel
        self.pr: PRPanel = window.pr_panel
        self._stats_dirty: set[Lesion] = set()
        self._stats_timer = QTimer(self, singleShot=True, interval=STATS_DELAY_MS)
        self._stats_timer.timeout.connect(self.update_stats)
        self._show_reset_tip()
        state.subscribe(self.on_change)
        for lesion in LESIONS:
            self._show_lesion(lesion)

    def stop(self) -> None:
        self._stats_timer.stop()

    def style(self, lesion: Lesion) -> LayerStyle:
        """What the image view needs to draw one lesion."""
        layer = self.state.layers[lesion]
        return LayerStyle(layer.visible, layer.colour, layer.opacity, self.state.thresholds[lesion])

    # listener -----------------------------------------------------------------------
    def on_change(self, change: Change, lesion: Lesion | None) -> None:
        lesions = [lesion] if lesion is not None else list(LESIONS)
        if change is Change.PHOTOGRAPH:
            self._show_photograph()
            return
        if change is Change.RECORD:
            return
        for item in lesions:
            if change is Change.MASK:
                mask = self.state.mask(item)
                self.view.set_review_mask(item, mask.states if mask is not None else None)
            self._show_lesion(item)
            if change is not Change.LAYER:
                self._stats_dirty.add(item)
        if change is Change.LAYER:
            self.pr.set_colours({item: self.state.layers[item].colour for item in lesions})
        else:
            self._stats_timer.start()

    def _show_photograph(self) -> None:
        analysis = self.state.analysis
        if analysis is None:
            self.view.set_maps(None, None)
        else:
            self.view.set_maps(analysis.prediction, analysis.truth)
            for lesion in LESIONS:
                mask = self.state.mask(lesion)
                self.view.set_review_mask(lesion, mask.states if mask is not None else None)
        for lesion in LESIONS:
            self._show_lesion(lesion)
        self._stats_dirty = set(LESIONS)
        self.update_stats()

    def _show_lesion(self, lesion: Lesion) -> None:
        state = self.state
        self.view.set_style(lesion, self.style(lesion))
        self.panel.rows[lesion].show_layer(
            state.layers[lesion],
            state.thresholds[lesion],
            state.defaults[lesion],
            not state.is_default(lesion),
            state.adopted_threshold(lesion),
        )
        self._show_pr_row(lesion)
        action = self.window.action(f"toggle_{lesion.code}")
        action.blockSignals(True)
        action.setChecked(state.layers[lesion].visible)
        action.blockSignals(False)
        overlays = self.window.action("toggle_overlays")
        overlays.blockSignals(True)
        overlays.setChecked(state.any_visible)
        overlays.blockSignals(False)

    def show_pr_rows(self) -> None:
        """Every row of the PR table and every operating point (after new histograms)."""
        for lesion in LESIONS:
            self._show_pr_row(lesion)

    def _show_pr_row(self, lesion: Lesion) -> None:
        """One PR table row: the threshold's scores, or the reviewer's mask's ("edited" or
        "adopted", as the lesion panel words it)."""
        state = self.state
        mask = state.mask(lesion)
        kind = "edited" if mask is not None and mask.edited_pixels() else "adopted"
        self.pr.show_row(lesion, state.thresholds[lesion], state.edited_point(lesion), kind)

    def update_stats(self) -> None:
        """Counts and areas of the shown masks (the edited one once adopted), as exported."""
        for lesion in sorted(self._stats_dirty, key=LESIONS.index):
            mask = self.state.mask(lesion)
            kind = "" if mask is None else "edited mask" if mask.edited_pixels() else "adopted mask"
            self.panel.rows[lesion].show_stats(self.state.stats(lesion), kind)
        self._stats_dirty.clear()

    def _show_reset_tip(self) -> None:
        defaults = ", ".join(
            f"{lesion.code} {threshold_text(value)}" for lesion, value in self.state.defaults.items()
        )
        self.panel.reset_button.setToolTip(
            f"Set every threshold back to the model's defaults ({defaults}) for the photographs of "
            "this folder. Adopted (edited) masks are not changed."
        )
