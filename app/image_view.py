"""The fundus photograph with one overlay layer per lesion (pyqtgraph).

Probability maps stay uint8; a threshold, colour or opacity change swaps the layer's
256-entry lookup table (an Indexed8 colour table in Qt), so no pixel is recomputed.
Contours and ground-truth layers are computed by ``core.review.display`` once per image or,
for prediction contours, once per threshold.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsPathItem, QGraphicsRectItem

from app.edit_tools import EditingViewBox
from app.overlay_state import LayerStyle, OverlayStyle, TruthMode

if TYPE_CHECKING:
    import numpy as np
from core.imaging.probability_maps import LesionProbabilities
from core.lesions import LESIONS, PAINT_ORDER, Lesion
from core.review import display

_LESION_LAYERS = ("fill", "contour", "compare_truth", "compare_other", "review")


class ImageView(pg.GraphicsLayoutWidget):
    """Zoomable, pannable photograph with lesion layers.

    Signals:
        hovered(y, x): the cursor is over image pixel (y, x) (may lie outside the image).
    """

    hovered = Signal(int, int)

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.setBackground("#202020")
        self.view = EditingViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.addItem(self.view)
        self.base = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.base)
        self._items: dict[tuple[Lesion | None, str], pg.ImageItem] = {}
        self._prediction: LesionProbabilities | None = None
        self._truth: dict[Lesion, np.ndarray] | None = None
        # Layers are keyed (lesion, name); the shared ground-truth layers have lesion None.
        self._derived: dict[tuple[Lesion | None, str], np.ndarray] = {}
        self._shown: dict[tuple[Lesion | None, str], np.ndarray] = {}
        self._contour_thresholds: dict[Lesion, float] = {}
        self._truth_state: tuple | None = None
        self.styles: dict[Lesion, LayerStyle] = {}
        self.overlay_style = OverlayStyle.FILL
        self.truth_mode = TruthMode.OUTLINE
        self.review_masks: dict[Lesion, np.ndarray] = {}  # editable masks (MaskState values), shown in place
        self._spread: np.ndarray | None = None
        self.spread_visible = False
        self.marker = QGraphicsRectItem()
        self.marker.setPen(pg.mkPen((255, 255, 255), width=2, style=Qt.PenStyle.DashLine, cosmetic=True))
        self.marker.setZValue(40)
        self.marker.setVisible(False)
        self.view.addItem(self.marker)
        self.lasso = QGraphicsPathItem()
        self.lasso.setPen(pg.mkPen((255, 255, 255), width=1.5, cosmetic=True))
        self.lasso.setZValue(41)
        self.view.addItem(self.lasso)
        self.cursor_ring = QGraphicsEllipseItem()
        self.cursor_ring.setPen(pg.mkPen((255, 255, 255), width=1, cosmetic=True))
        self.cursor_ring.setZValue(42)
        self.cursor_ring.setVisible(False)
        self.view.addItem(self.cursor_ring)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # content ------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray | None, keep_view: bool = False) -> None:
        """Show an H x W x 3 uint8 RGB photograph (None clears the view)."""
        if rgb is None:
            self.base.clear()
            self.set_maps(None, None)
            return
        same_size = self.base.image is not None and self.base.image.shape[:2] == rgb.shape[:2]
        self.base.setImage(rgb, autoLevels=False, levels=None)
        if not (keep_view and same_size):
            self.fit()

    def set_maps(
        self, prediction: LesionProbabilities | None, truth: dict[Lesion, np.ndarray] | None
    ) -> None:
        """Replace the prediction and ground truth; derived layers are rebuilt on demand."""
        self._prediction, self._truth = prediction, truth
        self.review_masks = {}
        self._spread = prediction.spread if prediction is not None else None
        self.marker.setVisible(False)
        self._derived.clear()
        self._shown.clear()
        self._contour_thresholds.clear()
        self._truth_state = None
        for item in self._items.values():
            item.clear()
            item.setVisible(False)
        self.refresh_all()

    # styles -------------------------------------------------------------------------
    def set_style(self, lesion: Lesion, style: LayerStyle) -> None:
        self.styles[lesion] = style
        self.refresh(lesion)

    def set_overlay_style(self, style: OverlayStyle) -> None:
        self.overlay_style = style
        self.refresh_all()

    def set_truth_mode(self, mode: TruthMode) -> None:
        self.truth_mode = mode
        self.refresh_all()

    def refresh_all(self) -> None:
        for lesion in LESIONS:
            self._refresh_lesion(lesion)
        self._refresh_truth()
        self._refresh_spread()

    # review layers ------------------------------------------------------------------
    def set_review_mask(self, lesion: Lesion, states: np.ndarray | None) -> None:
        """Show an editable mask (its ``MaskState`` array, edited in place) instead of the prediction."""
        if states is None:
            self.review_masks.pop(lesion, None)
        else:
            self.review_masks[lesion] = states
        for name in ("review", "compare_truth", "compare_other"):
            self._derived.pop((lesion, name), None)  # TP / FP / FN follow the edited mask
        self._refresh_lesion(lesion)

    def update_region(self, lesion: Lesion, box: tuple[int, int, int, int] | None) -> None:
        """Repaint only the rectangle an edit changed (the layer's image is the edited array itself)."""
        item = self._items.get((lesion, "review"))
        if item is None or box is None:
            return
        y0, x0, y1, x1 = box
        item.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    def set_spread_visible(self, visible: bool) -> None:
        self.spread_visible = visible
        self._refresh_spread()

    def _refresh_spread(self) -> None:
        lut = display.spread_lut() if self.spread_visible and self._spread is not None else None
        self._show_layer(None, "spread", lut)

    def show_marker(self, box: tuple[int, int, int, int] | None) -> None:
        """A dashed rectangle around a region (None hides it)."""
        if box is None:
            self.marker.setVisible(False)
            return
        y0, x0, y1, x1 = box
        margin = max(4, (y1 - y0 + x1 - x0) // 8)
        self.marker.setRect(QRectF(x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin))
        self.marker.setVisible(True)

    def centre_on(self, box: tuple[int, int, int, int], minimum: int = 240) -> None:
        """Centre the view on a region, zoomed so that it fills about a quarter of the view."""
        y0, x0, y1, x1 = box
        size = max(minimum, 4 * max(y1 - y0, x1 - x0))
        cy, cx = (y0 + y1) / 2, (x0 + x1) / 2
        self.view.setRange(
            xRange=(cx - size / 2, cx + size / 2), yRange=(cy - size / 2, cy + size / 2), padding=0
        )

    def set_lasso(self, points: list[tuple[float, float]]) -> None:
        path = QPainterPath()
        if points:
            path.moveTo(points[0][1], points[0][0])
            for y, x in points[1:]:
                path.lineTo(x, y)
            path.closeSubpath()
        self.lasso.setPath(path)

    def set_cursor_ring(self, centre: tuple[float, float] | None, radius: float) -> None:
        if centre is None:
            self.cursor_ring.setVisible(False)
            return
        y, x = centre
        self.cursor_ring.setRect(QRectF(x - radius, y - radius, 2 * radius, 2 * radius))
        self.cursor_ring.setVisible(True)

    def refresh(self, lesion: Lesion) -> None:
        """Show exactly the layers the current modes ask for, with current lookup tables."""
        self._refresh_lesion(lesion)
        self._refresh_truth()

    def _mode(self) -> TruthMode:
        return self.truth_mode if self._truth is not None else TruthMode.OFF

    def _refresh_lesion(self, lesion: Lesion) -> None:
        style = self.styles.get(lesion)
        wanted: dict[str, np.ndarray] = {}
        if (
            style is not None
            and style.visible
            and lesion in self.review_masks
            and self._mode() is not TruthMode.TRUTH
        ):
            if self._mode() is TruthMode.COMPARE and self._prediction is not None:
                wanted["compare_truth"], wanted["compare_other"] = display.comparison_luts(
                    style.threshold, style.opacity
                )
            else:
                wanted["review"] = display.review_lut(style.colour, style.opacity)
        elif style is not None and style.visible and self._prediction is not None:
            mode = self._mode()
            if mode is TruthMode.COMPARE:
                wanted["compare_truth"], wanted["compare_other"] = display.comparison_luts(
                    style.threshold, style.opacity
                )
            elif mode is not TruthMode.TRUTH and self.overlay_style is OverlayStyle.FILL:
                wanted["fill"] = display.threshold_lut(style.colour, style.threshold, style.opacity)
            elif mode is not TruthMode.TRUTH:
                wanted["contour"] = display.binary_lut(style.colour, max(style.opacity, 0.8))
        for name in _LESION_LAYERS:
            self._show_layer(lesion, name, wanted.get(name))

    def _refresh_truth(self) -> None:
        """The two shared ground-truth layers (all lesions in one label map each)."""
        mode = self._mode()
        visible = {lesion: s.colour for lesion, s in self.styles.items() if s.visible}
        opacity = max((s.opacity for s in self.styles.values() if s.visible), default=0.6)
        state = (mode, tuple(visible.items()), opacity, id(self._truth))
        if state == self._truth_state:
            return  # a threshold moved: nothing changes here
        self._truth_state = state
        pale = {lesion: display.tint(colour, 0.55) for lesion, colour in visible.items()}
        outlines = display.label_lut(pale, 1.0) if mode is TruthMode.OUTLINE else None
        filled = display.label_lut(visible, opacity) if mode is TruthMode.TRUTH else None
        self._show_layer(None, "truth_outlines", outlines if visible else None)
        self._show_layer(None, "truth_labels", filled if visible else None)

    def _show_layer(self, lesion: Lesion | None, name: str, lut: np.ndarray | None) -> None:
        key = (lesion, name)
        if lut is not None:
            item = self._item(lesion, name)
            item.setLookupTable(lut)
            item.setVisible(True)
        elif key in self._items:
            self._items[key].setVisible(False)

    def _layer_data(self, lesion: Lesion | None, name: str) -> np.ndarray:
        """The uint8 array behind one layer (computed by core.review.display once, then kept).

        Only called for layers that the refresh methods asked for, so the prediction or
        the ground truth it needs exists.
        """
        prediction, truth = self._prediction, self._truth
        key = (lesion, name)
        if key in self._derived and name != "contour":
            return self._derived[key]
        if name == "spread" and self._spread is not None:
            self._derived[key] = self._spread
        elif name == "review" and lesion is not None:
            self._derived[key] = self.review_masks[lesion]
        elif lesion is None and truth is not None:
            if name == "truth_outlines":
                width = display.outline_width(next(iter(truth.values())).shape)
                self._derived[key] = display.outline_labels(truth, width)
            else:
                self._derived[key] = display.lesion_labels(truth)
        elif lesion is not None and prediction is not None:
            if name == "fill":
                self._derived[key] = prediction[lesion]  # the same view every time
            elif name == "contour":
                threshold = self.styles[lesion].threshold
                if key not in self._derived or self._contour_thresholds.get(lesion) != threshold:
                    width = display.outline_width(prediction.probs.shape[1:])
                    self._derived[key] = display.threshold_outline(prediction[lesion], threshold, width)
                    self._contour_thresholds[lesion] = threshold
            elif truth is not None:
                levels = (
                    display.mask_levels(self.review_masks[lesion])
                    if lesion in self.review_masks
                    else prediction[lesion]
                )
                on, off = display.comparison_layers(levels, truth[lesion])
                self._derived[(lesion, "compare_truth")] = on
                self._derived[(lesion, "compare_other")] = off
        return self._derived[key]

    def _item(self, lesion: Lesion | None, name: str) -> pg.ImageItem:
        key = (lesion, name)
        item = self._items.get(key)
        if item is None:
            item = pg.ImageItem(axisOrder="row-major")
            order = PAINT_ORDER.index(lesion) if lesion is not None else len(PAINT_ORDER)
            is_line = name in ("contour", "truth_outlines")
            item.setZValue(30 if name == "spread" else (20 if is_line else 10) + order)
            self.view.addItem(item)
            self._items[key] = item
        data = self._layer_data(lesion, name)
        if self._shown.get(key) is not data:  # a new array only after set_maps or a contour change
            item.setImage(data, autoLevels=False, levels=None)
            self._shown[key] = data
        return item

    def layer(self, lesion: Lesion | None, name: str) -> pg.ImageItem | None:
        """A layer's item if it exists (for tests and benchmarks)."""
        return self._items.get((lesion, name))

    # navigation ---------------------------------------------------------------------
    def fit(self) -> None:
        """Whole photograph in the window."""
        if self.base.image is not None:
            self.view.autoRange(items=[self.base], padding=0.01)

    def actual_size(self) -> None:
        """One photograph pixel per screen pixel, around the view's centre."""
        pixel = self.view.viewPixelSize()
        if pixel[0] > 0:
            self.view.scaleBy((1.0 / pixel[0], 1.0 / pixel[1]), center=self.view.viewRect().center())

    def zoom(self, factor: float) -> None:
        """Zoom in (factor > 1) or out around the view's centre."""
        self.view.scaleBy((1.0 / factor, 1.0 / factor), center=self.view.viewRect().center())

    def _on_mouse_moved(self, position: QPointF) -> None:
        if self.base.image is None:
            return
        point = self.view.mapSceneToView(position)
        self.hovered.emit(math.floor(point.y()), math.floor(point.x()))
