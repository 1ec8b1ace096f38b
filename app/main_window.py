"""The main window: layout, menus, actions and status bar. No logic (see controller)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QWidget,
)

from app.image_view import ImageView
from app.lesion_panel import LesionPanel
from app.pr_panel import PRPanel
from app.worklist import Worklist
from core.inference.predict_files import DISCLAIMER

# View-menu actions with a check mark that shows the state
CHECKABLE = {"toggle_overlays", "toggle_MA", "toggle_HE", "toggle_EX", "toggle_SE", "toggle_legend"}
#: The precision-recall dock never gets less than this at the first layout (px).
_MIN_CURVES_HEIGHT = 360
# name: (menu text, shortcuts, menu)
ACTIONS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "open_files": ("&Open images…", ("Ctrl+O",), "File"),
    "open_folder": ("Open &folder…", ("Ctrl+Shift+O",), "File"),
    "choose_truth": ("Choose &ground-truth folder…", ("Ctrl+G",), "File"),
    "clear_truth": ("Forget this image's ground truth", (), "File"),
    "save_screenshot": ("Save window as PNG…", ("Ctrl+Shift+S",), "File"),
    "quit": ("&Quit", ("Ctrl+Q",), "File"),
    "run": ("&Run inference on this image", ("Ctrl+R",), "Image"),
    "run_all": ("Run inference on &all images", ("Ctrl+Shift+R",), "Image"),
    "cancel": ("&Cancel inference", ("Esc",), "Image"),
    "next_image": ("&Next image", ("PgDown", "N"), "Image"),
    "previous_image": ("&Previous image", ("PgUp", "P"), "Image"),
    "mark_reviewed": ("Mark image &reviewed", ("Ctrl+Return",), "Image"),
    "fit": ("&Fit to window", ("F",), "View"),
    "actual_size": ("&Actual size (1:1)", ("1",), "View"),
    "zoom_in": ("Zoom &in", ("+", "="), "View"),
    "zoom_out": ("Zoom &out", ("-",), "View"),
    "cycle_aid": ("Next &display aid (original, green, CLAHE)", ("D",), "View"),
    "toggle_style": ("Prediction filled / &contour", ("C",), "View"),
    "cycle_truth": ("Next ground-truth &mode", ("G",), "View"),
    "toggle_overlays": ("Show / hide all &overlays", ("O",), "View"),
    "toggle_MA": ("Show / hide microaneurysms", ("M",), "View"),
    "toggle_HE": ("Show / hide haemorrhages", ("H",), "View"),
    "toggle_EX": ("Show / hide hard exudates", ("E",), "View"),
    "toggle_SE": ("Show / hide soft exudates", ("S",), "View"),
    "reset_palette": ("Reset colours to the colour-blind-safe palette", (), "View"),
    "toggle_legend": ("Show / hide the colour &legend", ("Shift+O",), "View"),
    "toggle_spread": ("Show / hide where the model's heads disagree", ("U",), "View"),
    "adopt": ("&Adopt the prediction of the active lesion", ("Ctrl+E",), "Review"),
    "adopt_all": ("Adopt the prediction of every lesion", ("Ctrl+Shift+A",), "Review"),
    "undo": ("&Undo", ("Ctrl+Z",), "Review"),
    "redo": ("&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Review"),
    "tool_navigate": ("Pan and zoom tool", ("V",), "Review"),
    "tool_brush": ("&Brush", ("B",), "Review"),
    "tool_eraser": ("E&raser", ("R",), "Review"),
    "tool_lasso_fill": ("&Lasso fill", ("L",), "Review"),
    "tool_lasso_erase": ("Lasso erase", ("Shift+L",), "Review"),
    "tool_component": ("Pick components (click deletes, Shift+click keeps)", ("K",), "Review"),
    "brush_smaller": ("Smaller brush", ("[",), "Review"),
    "brush_larger": ("Larger brush", ("]",), "Review"),
    "active_MA": ("Edit microaneurysms", ("Alt+1",), "Review"),
    "active_HE": ("Edit haemorrhages", ("Alt+2",), "Review"),
    "active_EX": ("Edit hard exudates", ("Alt+3",), "Review"),
    "active_SE": ("Edit soft exudates", ("Alt+4",), "Review"),
    "next_component": ("Next candidate of the active lesion", (".",), "Review"),
    "previous_component": ("Previous candidate of the active lesion", (",",), "Review"),
    "keep_component": ("Keep this candidate and go to the next", ("Y",), "Review"),
    "delete_component": ("Delete this candidate and go to the next", ("X",), "Review"),
    "next_uncertain": ("Jump to the next most uncertain region", ("J",), "Review"),
    "next_unreviewed": ("Next unreviewed image", ("Shift+N",), "Review"),
    "flag_image": ("&Flag this image", ("Ctrl+Shift+F",), "Review"),
    "export": ("&Export reviewed masks…", ("Ctrl+Shift+E",), "Review"),
    "compare_reviewer": ("Compare with another reviewer's export…", (), "Review"),
    "help": ("&Keyboard shortcuts", ("F1",), "Help"),
    "about": ("&About LesionLens", (), "Help"),
}


class MainWindow(QMainWindow):
    """Image in the middle, worklist left, lesion controls and PR curves right."""

    paths_dropped = Signal(list)  # list[Path]
    closing = Signal()

    def __init__(self, lesion_panel: LesionPanel, pr_panel: PRPanel, review_panel: QWidget) -> None:
        super().__init__()
        #: Asked before the window closes; False keeps it open (the controller sets it).
        self.close_guard: Callable[[], bool] | None = None
        self.setWindowTitle("LesionLens: review aid, not a diagnosis")
        self.setAcceptDrops(True)
        self.image_view = ImageView()
        self.setCentralWidget(self.image_view)
        self.worklist = Worklist()
        self.lesion_panel = lesion_panel
        self.pr_panel = pr_panel
        self.review_panel = review_panel
        scroll = QScrollArea()
        scroll.setWidget(lesion_panel)
        scroll.setWidgetResizable(True)
        scroll.setMinimumWidth(360)
        worklist_dock = self._dock(
            "worklist", "Worklist", self.worklist, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        lesions_dock = self._dock("lesions", "Lesions", scroll, Qt.DockWidgetArea.RightDockWidgetArea)
        pr_dock = self._dock("pr_curves", "Precision-recall", pr_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        review_scroll = QScrollArea()
        review_scroll.setWidget(review_panel)
        review_scroll.setWidgetResizable(True)
        review_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.review_scroll = review_scroll
        self.lesion_scroll = scroll
        self.review_dock = self._dock("review", "Review", review_scroll, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._docks = (worklist_dock, lesions_dock, pr_dock, self.review_dock)
        self.layout_restored = False  # set by the controller when saved settings placed the docks
        self._shown_once = False
        self.resize(1720, 1000)
        self.actions_by_name: dict[str, QAction] = {}
        self._build_menus()
        self._build_status_bar()

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        menus = {}
        for name, (text, keys, menu_name) in ACTIONS.items():
            if menu_name not in menus:
                menus[menu_name] = self.menuBar().addMenu(f"&{menu_name}")
            action = QAction(text, self)
            action.setObjectName(f"action_{name}")
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            if name in CHECKABLE:
                action.setCheckable(True)
                action.setChecked(True)
            menus[menu_name].addAction(action)
            self.actions_by_name[name] = action
        toolbar = self.addToolBar("Inference")
        toolbar.setObjectName("toolbar_inference")
        for name in ("open_files", "open_folder", "run", "run_all", "previous_image", "next_image", "fit"):
            toolbar.addAction(self.actions_by_name[name])
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(260)
        self.progress.setFormat("%v / %m tiles")
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancel_button")
        self.cancel_button.setVisible(False)
        toolbar.addSeparator()
        self.progress_action = toolbar.addWidget(self.progress)
        self.cancel_action = toolbar.addWidget(self.cancel_button)

    def _build_status_bar(self) -> None:
        self.pixel_label = QLabel("")
        self.pixel_label.setObjectName("pixel_label")
        self.pixel_label.setMinimumWidth(430)
        self.model_label = QLabel("")
        disclaimer = QLabel(f"<b>{DISCLAIMER}</b>")
        self.statusBar().addWidget(self.pixel_label, 1)
        self.statusBar().addPermanentWidget(self.model_label)
        self.statusBar().addPermanentWidget(disclaimer)

    def action(self, name: str) -> QAction:
        return self.actions_by_name[name]

    def show_progress(self, done: int, total: int, label: str) -> None:
        """Update the progress bar; visibility and text change only when they must (each change
        relays out the toolbar and can repaint the window, the photograph included)."""
        if self.progress.maximum() != max(total, 1):
            self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        text = f"{label}: %v / %m tiles"
        if self.progress.format() != text:
            self.progress.setFormat(text)
        if not self.progress_action.isVisible():
            self.progress_action.setVisible(True)
            self.cancel_action.setVisible(True)
            self.progress.setVisible(True)
            self.cancel_button.setVisible(True)

    def hide_progress(self) -> None:
        if self.progress_action.isVisible():
            self.progress_action.setVisible(False)
            self.cancel_action.setVisible(False)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.paths_dropped.emit(paths)
            event.acceptProposedAction()

    def showEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once and not self.layout_restored:
            worklist, lesions, pr, review = self._docks
            self.resizeDocks([worklist, lesions], [340, 560], Qt.Orientation.Horizontal)
            self._fit_lesion_rows(lesions, pr)
            self.resizeDocks([worklist, review], [200, 760], Qt.Orientation.Vertical)
        self._shown_once = True

    def _fit_lesion_rows(self, lesions: QDockWidget, pr: QDockWidget) -> None:
        """Make the Lesions dock tall enough for all four lesion rows; the curves get the rest."""
        total = lesions.height() + pr.height()
        chrome = lesions.height() - self.lesion_scroll.viewport().height()
        wanted = self.lesion_panel.sizeHint().height() + max(chrome, 30) + 4
        lesion_height = min(wanted, total - _MIN_CURVES_HEIGHT) if total > 0 else wanted
        self.resizeDocks(
            [lesions, pr],
            [lesion_height, max(total - lesion_height, _MIN_CURVES_HEIGHT)],
            Qt.Orientation.Vertical,
        )

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802 - Qt override
        if self.close_guard is not None and not self.close_guard():
            event.ignore()  # the reader chose to stay: unsaved work is still on screen
            return
        self.closing.emit()
        super().closeEvent(event)
