"""Owns the engine objects and the views; wires their signals. No array maths here."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QApplication, QFileDialog

from app import dialogs
from app.edit_tools import EditTool
from app.inference_control import InferenceControl
from app.lesion_panel import LesionPanel
from app.main_window import MainWindow
from app.overlay_state import LayerStyle, OverlayStyle, TruthMode
from app.pr_panel import PRPanel
from app.review_control import ReviewControl
from app.review_panel import ReviewPanel
from app.settings import AppSettings
from app.workers import Job, JobRunner
from app.worklist import ImageState

if TYPE_CHECKING:
    import numpy as np
from core.display import DisplayAid, display_image
from core.errors import LesionLensError
from core.ground_truth import GroundTruthSource, find_ground_truth_in
from core.io import IMAGE_SUFFIXES
from core.lesion_stats import lesion_stats
from core.lesions import LESIONS, Lesion
from core.metrics import PRAccumulator
from core.predict_files import expand_inputs
from core.review import ImageAnalysis, ReviewEngine, combine, open_without_model, with_truth
from core.session import ReviewStatus

log = logging.getLogger(__name__)


class Controller(QObject):
    """The review session.

    Signals:
        displayed(path, has_prediction): the window now shows this photograph.
        error(message): an error was shown to the reader.
    """

    displayed = Signal(object, bool)
    error = Signal(str)

    def __init__(self, engine: ReviewEngine | None, settings: AppSettings, auto_run: bool = True) -> None:
        super().__init__()
        self.engine = engine
        self.settings = settings
        self.auto_run = auto_run
        self.model_sha = engine.loaded.sha256 if engine else ""
        self.styles = {lesion: self._initial_style(lesion) for lesion in LESIONS}
        self.runner = JobRunner(threads=2, parent=self)
        self.window = MainWindow(
            LesionPanel(self.styles), PRPanel({k: v.colour for k, v in self.styles.items()}), ReviewPanel()
        )
        self.view = self.window.image_view
        self.panel = self.window.lesion_panel
        self.pr = self.window.pr_panel
        self.worklist = self.window.worklist
        self.analysis: ImageAnalysis | None = None
        self.scores: dict[Path, PRAccumulator] = {}
        self.truth_overrides: dict[Path, GroundTruthSource | None] = {}
        self.aid = DisplayAid.ORIGINAL
        self._aid_images: dict[DisplayAid, np.ndarray] = {}
        self._stats_dirty: set[Lesion] = set()
        self._stats_timer = QTimer(self, singleShot=True, interval=120)
        self._stats_timer.timeout.connect(self._update_stats)
        self._overlays_hidden = False
        self.inference = InferenceControl(self)
        self.queue = self.inference.queue
        self.review = ReviewControl(self, self.window.review_dock.widget().widget())
        self.truth_folder: Path | None = None  # searched when a photograph has no ground truth of its own
        for lesion, style in self.styles.items():
            self.view.set_style(lesion, style)
            self.pr.set_threshold(lesion, style.threshold)
        self._restore_view_modes()
        self._connect()
        self.window.model_label.setText(
            f"model: {engine.loaded.meta.name} ({self.model_sha[:12]})" if engine else "no model loaded"
        )
        geometry, state = settings.window_geometry(), settings.window_state()
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        if state is not None:
            self.window.layout_restored = self.window.restoreState(state)

    # set-up -------------------------------------------------------------------------
    def _initial_style(self, lesion: Lesion) -> LayerStyle:
        threshold = self.settings.threshold(self.model_sha, lesion) if self.model_sha else None
        if threshold is None:
            threshold = self.engine.default_thresholds[lesion] if self.engine else 0.5
        return LayerStyle(True, self.settings.colour(lesion), self.settings.opacity(lesion), threshold)

    def _restore_view_modes(self) -> None:
        for box, kind, key, default in (
            (self.panel.aid_box, DisplayAid, "aid", DisplayAid.ORIGINAL),
            (self.panel.overlay_box, OverlayStyle, "overlay", OverlayStyle.FILL),
            (self.panel.truth_box, TruthMode, "truth", TruthMode.OUTLINE),
        ):
            name = self.settings.text(key, default.name)
            member = kind[name] if name in kind.__members__ else default
            LesionPanel.select(box, member)
            self._on_mode(key, member)

    def _connect(self) -> None:
        w, a = self.window, self.window.action
        a("open_files").triggered.connect(self.choose_files)
        a("open_folder").triggered.connect(self.choose_folder)
        a("choose_truth").triggered.connect(self.choose_truth_folder)
        a("clear_truth").triggered.connect(lambda: self.set_truth(None))
        a("save_screenshot").triggered.connect(self.choose_screenshot)
        a("quit").triggered.connect(w.close)
        a("run").triggered.connect(self.inference.run_current)
        a("run_all").triggered.connect(self.inference.run_all)
        a("cancel").triggered.connect(self.inference.cancel)
        w.cancel_button.clicked.connect(self.inference.cancel)
        a("next_image").triggered.connect(lambda: self.worklist.step(1))
        a("previous_image").triggered.connect(lambda: self.worklist.step(-1))
        a("mark_reviewed").triggered.connect(self.mark_reviewed)
        a("fit").triggered.connect(self.view.fit)
        a("actual_size").triggered.connect(self.view.actual_size)
        a("zoom_in").triggered.connect(lambda: self.view.zoom(1.25))
        a("zoom_out").triggered.connect(lambda: self.view.zoom(0.8))
        a("cycle_aid").triggered.connect(lambda: LesionPanel.cycle(self.panel.aid_box))
        a("toggle_style").triggered.connect(lambda: LesionPanel.cycle(self.panel.overlay_box))
        a("cycle_truth").triggered.connect(lambda: LesionPanel.cycle(self.panel.truth_box))
        a("toggle_overlays").triggered.connect(self.toggle_overlays)
        for lesion in LESIONS:
            row = self.panel.rows[lesion]
            a(f"toggle_{lesion.code}").triggered.connect(partial(row.visible_box.toggle))
            row.changed.connect(self._on_style)
        a("reset_palette").triggered.connect(self.reset_palette)
        a("help").triggered.connect(lambda: dialogs.help_dialog(w, list(w.actions_by_name.values())).open())
        a("about").triggered.connect(self.show_about)
        self._connect_review()
        w.paths_dropped.connect(self.open_paths)
        w.closing.connect(self.shutdown)
        self.worklist.current_changed.connect(self.show_image)
        self.panel.aid_changed.connect(partial(self._on_mode, "aid"))
        self.panel.overlay_style_changed.connect(partial(self._on_mode, "overlay"))
        self.panel.truth_mode_changed.connect(partial(self._on_mode, "truth"))
        self.panel.reset_thresholds.connect(self.reset_thresholds)
        self.pr.curve_clicked.connect(self._on_curve_clicked)
        self.view.hovered.connect(self._on_hover)

    def _connect_review(self) -> None:
        a, r, panel = self.window.action, self.review, self.review.panel
        a("adopt").triggered.connect(lambda: r.adopt(r.active))
        a("adopt_all").triggered.connect(r.adopt_all)
        a("undo").triggered.connect(r.undo)
        a("redo").triggered.connect(r.redo)
        for tool in EditTool:
            a(f"tool_{tool.name.lower()}").triggered.connect(partial(panel.select_tool, tool))
        a("brush_smaller").triggered.connect(lambda: r.resize_brush(1 / 1.25))
        a("brush_larger").triggered.connect(lambda: r.resize_brush(1.25))
        for lesion in LESIONS:
            a(f"active_{lesion.code}").triggered.connect(partial(panel.select_lesion, lesion))
        a("next_component").triggered.connect(lambda: r.navigation.step_component(1))
        a("previous_component").triggered.connect(lambda: r.navigation.step_component(-1))
        a("keep_component").triggered.connect(lambda: r.navigation.decide_component(keep=True))
        a("delete_component").triggered.connect(lambda: r.navigation.decide_component(keep=False))
        a("toggle_spread").triggered.connect(panel.spread_box.toggle)
        a("next_uncertain").triggered.connect(r.navigation.next_uncertain)
        a("next_unreviewed").triggered.connect(r.next_unreviewed)
        a("flag_image").triggered.connect(lambda: r.set_image_status(ReviewStatus.FLAGGED))
        a("export").triggered.connect(r.output.choose_export)
        a("compare_reviewer").triggered.connect(r.output.choose_reference)

    # opening ------------------------------------------------------------------------
    def open_paths(self, paths: list[Path]) -> None:
        """Add image files and the images inside folders to the worklist."""
        files, problems = expand_inputs(paths)
        if problems:
            self.show_error("Cannot open", "\n".join(f"{p.path}: {p.error}" for p in problems))
        added = self.worklist.add_paths([f.resolve() for f in files])
        if files:
            self.settings.set_last_folder(files[0].parent)
        if added and self.worklist.current_path is None:
            self.worklist.select(added[0])

    def choose_files(self) -> None:
        pattern = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        names, _ = QFileDialog.getOpenFileNames(
            self.window, "Open fundus photographs", str(self.settings.last_folder()), f"Images ({pattern})"
        )
        self.open_paths([Path(n) for n in names])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Open a folder", str(self.settings.last_folder())
        )
        if folder:
            self.open_paths([Path(folder)])

    @Slot(object)
    def show_image(self, path: Path) -> None:
        """Make ``path`` the current photograph: nothing of the previous one stays on screen."""
        self.analysis = None
        self._aid_images.clear()
        self.view.set_image(None)
        self.pr.set_scores(None, *self.pooled())
        self._show_stats(clear=True)
        self.window.setWindowTitle(f"{path.name} - LesionLens: review aid, not a diagnosis")
        override = self.truth_overrides.get(path) or self._truth_from_folder(path)
        if self.engine is not None:
            work = partial(self.engine.open, path, override)
        else:
            work = partial(open_without_model, path, override)
        job = Job(work, str(path))
        job.signals.finished.connect(self._on_opened)
        job.signals.failed.connect(partial(self._on_open_failed, path))
        self.runner.start(job)

    def _truth_from_folder(self, path: Path) -> GroundTruthSource | None:
        if self.truth_folder is None or path in self.truth_overrides:
            return None
        try:
            return find_ground_truth_in(self.truth_folder, path)
        except LesionLensError:
            return None

    @Slot(object)
    def _on_opened(self, analysis: ImageAnalysis) -> None:
        if analysis.path != self.worklist.current_path:
            return  # the reader moved on meanwhile
        current = self.analysis
        if current is not None and current.path == analysis.path and current.prediction is not None:
            return  # inference finished first; keep its result
        if analysis.prediction is not None:
            self.remember(analysis)
        self.display(analysis)
        if analysis.prediction is None and self.auto_run and self.queue is not None:
            self.inference.submit(analysis.path, analysis.truth_source, first=True)

    def _on_open_failed(self, path: Path, message: str) -> None:
        self.worklist.set_state(path, ImageState.FAILED)
        self.show_error("Cannot open the image", message if str(path) in message else f"{path}: {message}")

    # display ------------------------------------------------------------------------
    def display(self, analysis: ImageAnalysis) -> None:
        same_image = self.analysis is not None and self.analysis.path == analysis.path
        self.analysis = analysis
        if not same_image:
            self._aid_images.clear()
        self.view.set_image(self._aid_image(), keep_view=same_image)
        self.view.set_maps(analysis.prediction, analysis.truth)
        self.worklist.set_truth(
            analysis.path, analysis.truth_source.describe() if analysis.truth_source else None
        )
        self.panel.truth_label.setText(
            f"ground truth: {analysis.truth_source.describe()}"
            if analysis.truth_source
            else "ground truth: none found"
        )
        self.pr.set_scores(analysis.scores, *self.pooled())
        self._show_stats()
        self.displayed.emit(analysis.path, analysis.prediction is not None)

    def _aid_image(self) -> np.ndarray | None:
        if self.analysis is None:
            return None
        if self.aid not in self._aid_images:
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self._aid_images[self.aid] = display_image(self.analysis.image, self.aid)
            finally:
                QApplication.restoreOverrideCursor()
        return self._aid_images[self.aid]

    def run_current(self) -> None:
        """Predict the current photograph (again), first in the queue."""
        self.inference.run_current()

    def remember(self, analysis: ImageAnalysis) -> None:
        if analysis.scores is not None:
            self.scores[analysis.path] = analysis.scores
        else:
            self.scores.pop(analysis.path, None)
        self.worklist.set_state(analysis.path, ImageState.PREDICTED)

    def pooled(self) -> tuple[PRAccumulator | None, int]:
        known = [self.scores[p] for p in self.worklist.paths if p in self.scores]
        return (combine(known) if known else None), len(known)

    def _show_stats(self, clear: bool = False) -> None:
        self._stats_dirty = set(LESIONS)
        if clear or self.analysis is None or self.analysis.prediction is None:
            for row in self.panel.rows.values():
                row.show_stats(None)
            self._stats_dirty.clear()
            return
        self._update_stats()

    def _update_stats(self) -> None:
        analysis = self.analysis
        if analysis is None or analysis.prediction is None:
            return
        for lesion in sorted(self._stats_dirty, key=LESIONS.index):
            stats = lesion_stats(
                analysis.prediction[lesion], self.styles[lesion].threshold, analysis.prediction.fov
            )
            self.panel.rows[lesion].show_stats(stats)
        self._stats_dirty.clear()

    # ground truth -------------------------------------------------------------------
    def choose_truth_folder(self) -> None:
        if self.analysis is None:
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, f"Ground-truth folder for {self.analysis.path.name}", str(self.analysis.path.parent)
        )
        if folder:
            try:
                source = find_ground_truth_in(folder, self.analysis.path)
            except LesionLensError as exc:
                self.show_error("No ground truth", str(exc))
                return
            self.set_truth(source)

    def set_truth(self, source: GroundTruthSource | None) -> None:
        """Use these masks for the current photograph (None: none)."""
        analysis = self.analysis
        if analysis is None:
            return
        self.truth_overrides[analysis.path] = source
        job = Job(partial(with_truth, analysis, source), str(analysis.path))
        job.signals.finished.connect(self._on_truth_loaded)
        job.signals.failed.connect(partial(self.show_error, "Cannot read the ground truth"))
        self.runner.start(job)

    @Slot(object)
    def _on_truth_loaded(self, analysis: ImageAnalysis) -> None:
        if self.analysis is None or analysis.path != self.analysis.path:
            return
        if analysis.prediction is not None:
            self.remember(analysis)
        self.display(analysis)

    # styles -------------------------------------------------------------------------
    @Slot(object, object)
    def _on_style(self, lesion: Lesion, style: LayerStyle) -> None:
        threshold_changed = self.pr.thresholds.get(lesion) != style.threshold
        self.styles[lesion] = style
        self.view.set_style(lesion, self._effective(style))
        if threshold_changed:
            self.pr.set_threshold(lesion, style.threshold)
            self._stats_dirty.add(lesion)
            self._stats_timer.start()
            self.review.thresholds_changed()
        self.pr.set_colours({lesion: style.colour})

    def _effective(self, style: LayerStyle) -> LayerStyle:
        if not self._overlays_hidden:
            return style
        return LayerStyle(False, style.colour, style.opacity, style.threshold)

    def set_threshold(self, lesion: Lesion, threshold: float) -> None:
        """Set a threshold as if the slider was moved."""
        row = self.panel.rows[lesion]
        row.threshold_slider.setValue(round(threshold * 255))

    def _on_curve_clicked(self, lesion: Lesion, recall: float, precision: float) -> None:
        scores = self.pr.image_scores if self.pr.image_scores is not None else self.pr.worklist_scores
        if scores is None or not scores.has_positives(lesion):
            return
        threshold = scores.threshold_near(lesion, recall, precision)
        if threshold is not None:
            self.set_threshold(lesion, threshold)

    def reset_thresholds(self) -> None:
        if self.engine is None:
            return
        for lesion, value in self.engine.default_thresholds.items():
            self.set_threshold(lesion, value)

    def reset_palette(self) -> None:
        self.settings.reset_palette()
        for lesion in LESIONS:
            self.panel.rows[lesion].set_colour(lesion.colour)

    def toggle_overlays(self) -> None:
        self._overlays_hidden = not self._overlays_hidden
        for lesion, style in self.styles.items():
            self.view.set_style(lesion, self._effective(style))

    def _on_mode(self, key: str, member: object) -> None:
        if isinstance(member, DisplayAid):
            self.aid = member
            if self.analysis is not None:
                self.view.set_image(self._aid_image(), keep_view=True)
        elif isinstance(member, OverlayStyle):
            self.view.set_overlay_style(member)
        elif isinstance(member, TruthMode):
            self.view.set_truth_mode(member)
        self.settings.set_text(key, member.name)  # type: ignore[attr-defined]

    def _on_hover(self, y: int, x: int) -> None:
        analysis = self.analysis
        if analysis is None or not (0 <= y < analysis.shape[0] and 0 <= x < analysis.shape[1]):
            self.window.pixel_label.setText("")
            return
        text = f"x {x}, y {y}"
        values = analysis.prediction.at(y, x) if analysis.prediction is not None else None
        if values is not None:
            text += "  |  " + "  ".join(f"{lesion.code} {p:.2f}" for lesion, p in values.items())
        if analysis.truth is not None:
            present = [lesion.code for lesion in LESIONS if analysis.truth[lesion][y, x]]
            text += f"  |  truth: {', '.join(present) or 'none'}"
        self.window.pixel_label.setText(text)

    # review -------------------------------------------------------------------------
    def mark_reviewed(self) -> None:
        """The current photograph's review is finished (journaled like every change)."""
        if self.analysis is not None:
            self.review.set_image_status(ReviewStatus.REVIEWED)
            self.review.panel.image_status.setCurrentIndex(
                self.review.panel.image_status.findData(ReviewStatus.REVIEWED)
            )

    # dialogs and output -------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        log.error("%s: %s", title, message)
        dialogs.show_error(self.window, title, message)
        self.error.emit(message)

    def show_about(self) -> None:
        card = None
        if self.engine is not None:
            card_path = self.engine.loaded.path.with_suffix(".md")
            card = card_path.read_text(encoding="utf-8") if card_path.is_file() else None
        dialogs.about_dialog(self.window, self.engine.loaded if self.engine else None, card).open()

    def choose_screenshot(self) -> None:
        name, _ = QFileDialog.getSaveFileName(
            self.window,
            "Save window as PNG",
            str(self.settings.last_folder() / "lesionlens.png"),
            "PNG (*.png)",
        )
        if name:
            self.save_screenshot(Path(name))

    def save_screenshot(self, path: Path) -> None:
        """Render the window to a PNG (written to a temporary name, then renamed)."""
        from core.io import atomic_path

        with atomic_path(path) as tmp:
            if not self.window.grab().save(str(tmp), "PNG"):
                raise OSError(f"{path}: could not write the PNG; check the folder is writable")

    # shutdown -----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Remember settings, stop inference, wait for workers, save the review."""
        self._stats_timer.stop()
        self.settings.set_window(self.window.saveGeometry(), self.window.saveState())
        for lesion, style in self.styles.items():
            self.settings.set_colour(lesion, style.colour)
            self.settings.set_opacity(lesion, style.opacity)
            if self.model_sha:
                self.settings.set_threshold(self.model_sha, lesion, style.threshold)
        self.settings.sync()
        if self.queue is not None:
            self.queue.cancel()
        self.runner.cancel_all()
        self.runner.wait(60000)
        self.review.flush()
