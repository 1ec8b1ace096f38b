"""Live precision-recall curves per lesion, with the operating point of each threshold.

The curves come from the per-image pixel histograms (``core.scoring.metrics.PRAccumulator``);
moving a threshold only moves a marker and rewrites one table row.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.overlay_state import Rgb
from core.lesions import LESIONS, Lesion
from core.review.display import threshold_text
from core.scoring.metrics import OperatingPoint, PRAccumulator

_COLUMNS = ("threshold", "AUPR", "precision", "recall", "Dice / F1", "AUPR, list", "Dice, list")
_WORKLIST_PEN = pg.mkPen((170, 170, 170), width=1.5, style=Qt.PenStyle.DashLine)
_UNIT_TICKS = [[(v / 5, f"{v / 5:.1f}") for v in range(6)], []]
_LABEL_ROOM = 15  # px a tick label may reach past the axis end
CURVE_KEY = (
    "solid, in the lesion's colour: this photograph; dashed grey: every predicted photograph of the "
    "list with ground truth, pooled. Filled dot: the current threshold on this photograph; "
    "hollow dot: on the list. Click a curve to set the threshold there."
)


class _UnitAxis(pg.AxisItem):
    """A 0..1 axis labelled 0.0, 0.2, ..., 1.0; pyqtgraph's own axis drops the labels at the
    ends when the grid is on (they reach past the plot by half their width)."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.setTicks(_UNIT_TICKS)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        room = _LABEL_ROOM
        return super().boundingRect().adjusted(-room, -room, room, room)


def _text(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.3f}"


class PRPanel(QWidget):
    """Four PR plots (MA, HE, EX, SE) and a metrics table.

    Signals:
        curve_clicked(lesion, recall, precision): the reader clicked inside a lesion's plot.
    """

    curve_clicked = Signal(object, float, float)

    def __init__(self, colours: dict[Lesion, Rgb], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_scores: PRAccumulator | None = None
        self.worklist_scores: PRAccumulator | None = None
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202020")
        self.plots: dict[Lesion, pg.PlotItem] = {}
        self.image_curves: dict[Lesion, pg.PlotDataItem] = {}
        self.list_curves: dict[Lesion, pg.PlotDataItem] = {}
        self.image_points: dict[Lesion, pg.ScatterPlotItem] = {}
        self.list_points: dict[Lesion, pg.ScatterPlotItem] = {}
        for index, lesion in enumerate(LESIONS):
            plot = self.graphics.addPlot(
                row=index // 2,
                col=index % 2,
                axisItems={"bottom": _UnitAxis("bottom"), "left": _UnitAxis("left")},
            )
            plot.setMenuEnabled(False)
            plot.setMouseEnabled(False, False)
            plot.hideButtons()
            plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            plot.setLabel("bottom", "recall")
            plot.setLabel("left", "precision")
            plot.showGrid(x=True, y=True, alpha=0.2)
            self.plots[lesion] = plot
            self.list_curves[lesion] = plot.plot([], [], pen=_WORKLIST_PEN)
            self.image_curves[lesion] = plot.plot([], [])
            self.list_points[lesion] = pg.ScatterPlotItem(
                size=9, pen=pg.mkPen((200, 200, 200), width=1.5), brush=None
            )
            self.image_points[lesion] = pg.ScatterPlotItem(size=11, pen=pg.mkPen("w"))
            plot.addItem(self.list_points[lesion])
            plot.addItem(self.image_points[lesion])
        self.set_colours(colours)
        self.table = QTableWidget(len(LESIONS), len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(_COLUMNS))
        self.table.setVerticalHeaderLabels([lesion.code for lesion in LESIONS])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(150)
        self.table.setToolTip(
            "Pixel scores inside the field of view at the current thresholds; 'list' pools every "
            "predicted image of the worklist that has ground truth (IDRiD's way)"
        )
        self.key = QLabel(CURVE_KEY)
        self.key.setWordWrap(True)
        self.key.setStyleSheet("background: #202020; color: #d0d0d0; font-size: 11px; padding: 2px 6px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.key)
        layout.addWidget(self.table)
        self.graphics.scene().sigMouseClicked.connect(self._on_click)
        self.set_scores(None, None, 0)

    def set_colours(self, colours: dict[Lesion, Rgb]) -> None:
        for lesion, colour in colours.items():
            self.image_curves[lesion].setPen(pg.mkPen(colour, width=2.5))
            self.image_points[lesion].setBrush(pg.mkBrush(colour))

    def set_scores(
        self, image: PRAccumulator | None, worklist: PRAccumulator | None, worklist_images: int
    ) -> None:
        """New histograms (image changed, ground truth changed, a prediction finished); the rows
        and operating points follow with :meth:`show_row`."""
        self.image_scores, self.worklist_scores = image, worklist
        for lesion in LESIONS:
            plot = self.plots[lesion]
            for scores, curve in ((image, self.image_curves[lesion]), (worklist, self.list_curves[lesion])):
                if scores is not None and scores.has_positives(lesion):
                    c = scores.curve(lesion)
                    curve.setData(c.recall, c.precision)
                else:
                    curve.setData([], [])
            title = f"{lesion.code}: {lesion.title}"
            if image is not None and not image.has_positives(lesion):
                title = f"{lesion.code}: not in the ground truth"
            plot.setTitle(title, size="9pt")
        images = f"{worklist_images} image{'' if worklist_images == 1 else 's'}"
        for column, score in ((5, "AUPR"), (6, "Dice")):
            if worklist_images:
                header = QTableWidgetItem(f"{score}, {worklist_images} img")
                header.setToolTip(
                    f"The model's {score} with every pixel of the worklist's {images} with ground "
                    "truth pooled (IDRiD's way), its maps at the slider thresholds: edited and adopted "
                    "masks are not in it. With one photograph and no edits it equals the photograph's own"
                )
            else:
                header = QTableWidgetItem(f"{score}, list")
                header.setToolTip(
                    f"{score} pooled over the worklist's predicted photographs that have ground "
                    "truth: none has yet (open or drop the masks to score against them)"
                )
            self.table.setHorizontalHeaderItem(column, header)

    def show_row(
        self,
        lesion: Lesion,
        threshold: float,
        edited: OperatingPoint | None = None,
        mask_kind: str = "edited",
    ) -> None:
        """Move the operating points of one lesion and update its table row.

        Args:
            lesion: the row.
            threshold: the folder's threshold (0..1).
            edited: the reviewer's adopted mask scored against the truth; when given, the
                photograph's point and cells describe it instead of the threshold.
            mask_kind: what the threshold cell says then: ``"edited"``, or ``"adopted"`` for a
                mask adopted with no pixel changed (as the lesion panel words it).
        """
        row = LESIONS.index(lesion)
        cells = [threshold_text(threshold) if edited is None else mask_kind] + ["-"] * (len(_COLUMNS) - 1)
        tip = ""
        image, worklist = self.image_scores, self.worklist_scores
        if image is not None and image.has_positives(lesion):
            point = edited or image.operating_point(lesion, threshold)
            self.image_points[lesion].setData([point.recall], [point.precision])
            cells[1:5] = [
                _text(image.aupr(lesion)),
                _text(point.precision),
                _text(point.recall),
                _text(point.f1),
            ]
        else:
            self.image_points[lesion].setData([], [])
            point = edited or (image.operating_point(lesion, threshold) if image is not None else None)
            if point is not None and point.false_positives > 0:  # marks where the truth has none: all false
                cells[2], cells[4] = _text(point.precision), _text(point.f1)
                tip = (
                    f"{point.false_positives} pixels marked {lesion.code}, and the ground truth has no "
                    f"{lesion.code}: every mark is a false alarm (AUPR and recall need a lesion to find)"
                )
        list_tip = ""
        if worklist is not None and worklist.has_positives(lesion):
            point = worklist.operating_point(lesion, threshold)
            self.list_points[lesion].setData([point.recall], [point.precision])
            cells[5:7] = [_text(worklist.aupr(lesion)), _text(point.f1)]
            if edited is not None:
                list_tip = (
                    f"The model's maps at the slider's threshold ({threshold_text(threshold)}), pooled: "
                    f"this photograph's edited {lesion.code} mask is scored in the photograph's own "
                    "columns (precision, recall, Dice / F1), not here"
                )
        else:
            self.list_points[lesion].setData([], [])
        for column, text in enumerate(cells):
            item = self.table.item(row, column)
            if item is None:
                item = QTableWidgetItem(text)
                self.table.setItem(row, column, item)
            elif item.text() != text:
                item.setText(text)
            wanted = tip if column in (2, 4) else list_tip if column in (5, 6) else ""
            if item.toolTip() != wanted:
                item.setToolTip(wanted)

    def _on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        position = event.scenePos()
        for lesion, plot in self.plots.items():
            if plot.vb.sceneBoundingRect().contains(position):
                point = plot.vb.mapSceneToView(position)
                self.curve_clicked.emit(lesion, float(point.x()), float(point.y()))
                event.accept()
                return
