"""Owns the engine objects, the review state and the views; wires their signals. No array maths here."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog

from app import dialogs
from app.edit_tools import EditTool
from app.inference_control import InferenceControl
from app.lesion_panel import LesionPanel
from app.main_window import MainWindow
from app.notify import Notifier
from app.pr_panel import PRPanel
from app.review_control import ReviewControl
from app.review_panel import ReviewPanel
from app.settings import AppSettings
from app.state_view import StateView
from app.truth_control import TruthControl
from app.view_modes import ViewModes
from app.workers import Job, JobRunner
from app.worklist import ImageState

if TYPE_CHECKING:
    pass
from core.assets.model_card import card_for_readers
from core.assets.paths import is_synthetic_sample
from core.data.ground_truth import GroundTruthSource, find_ground_truth
from core.imaging.io import IMAGE_SUFFIXES
from core.inference.predict_files import expand_inputs
from core.lesions import LESIONS, Lesion
from core.review.engine import ImageAnalysis, ReviewEngine, combine, open_without_model, with_truth
from core.review.state import Layer, ReviewState
from core.scoring.metrics import PRAccumulator

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
        layers = {
            lesion: Layer(True, settings.colour(lesion), settings.opacity(lesion)) for lesion in LESIONS
        }
        defaults = engine.default_thresholds if engine else dict.fromkeys(LESIONS, 0.5)
        self.state = ReviewState(defaults, layers)
        self.runner = JobRunner(threads=2, parent=self)
        self.window = MainWindow(
            LesionPanel(), PRPanel({k: v.colour for k, v in layers.items()}), ReviewPanel()
        )
        self.view = self.window.image_view
        self.panel = self.window.lesion_panel
        self.pr = self.window.pr_panel
        self.worklist = self.window.worklist
        self.notifier = Notifier(self.window)
        self.notifier.error.connect(self.error.emit)
        self.drawing = StateView(self.state, self.window)
        self.modes = ViewModes(self.state, self.window, settings)
        self.scores: dict[Path, PRAccumulator] = {}
        self.truth = TruthControl(self.state, self.window, self.runner, self.notifier, self._on_truth_loaded)
        self.inference = InferenceControl(
            engine, self.worklist, self.window, self.notifier, self.truth.for_path, self
        )
        self.inference.result.connect(self._on_inference_result)
        self.queue = self.inference.queue
        self.review = ReviewControl(
            self.state,
            self.view,
            self.window.review_panel,
            self.worklist,
            self.runner,
            self.notifier,
            settings,
            engine,
        )
        self._connect()
        self.window.model_label.setText(
            f"model: {engine.loaded.meta.name} ({self.model_sha[:12]}, {engine.config.backend}"
            f"{', mirrored tiles' if engine.config.flip_tta else ''})"
            if engine
            else "no model loaded"
        )
        geometry, state = settings.window_geometry(), settings.window_state()
        if geometry is not None:
            self.window.restoreGeometry(geometry)
        if state is not None:
            self.window.layout_restored = self.window.restoreState(state)

    @property
    def analysis(self) -> ImageAnalysis | None:
        """The photograph on screen (owned by the review state)."""
        return self.state.analysis

    # set-up -------------------------------------------------------------------------
    def _connect(self) -> None:
        w, a, state = self.window, self.window.action, self.state
        for name, slot in (
            ("open_files", self.choose_files),
            ("open_folder", self.choose_folder),
            ("choose_truth", self.truth.choose_folder),
            ("clear_truth", lambda: self.set_truth(None)),
            ("save_screenshot", self.choose_screenshot),
            ("quit", w.close),
            ("run", self.inference.run_current),
            ("run_all", self.inference.run_all),
            ("cancel", self.inference.cancel),
            ("next_image", lambda: self.worklist.step(1)),
            ("previous_image", lambda: self.worklist.step(-1)),
            ("mark_reviewed", self.mark_reviewed),
            ("fit", self.view.fit),
            ("actual_size", self.view.actual_size),
            ("zoom_in", lambda: self.view.zoom(1.25)),
            ("zoom_out", lambda: self.view.zoom(0.8)),
            ("cycle_aid", lambda: LesionPanel.cycle(self.panel.aid_box)),
            ("toggle_style", lambda: LesionPanel.cycle(self.panel.overlay_box)),
            ("cycle_truth", lambda: LesionPanel.cycle(self.panel.truth_box)),
            ("reset_palette", self.reset_palette),
            ("help", lambda: dialogs.help_dialog(w, list(w.actions_by_name.values())).open()),
            ("about", self.show_about),
        ):
            a(name).triggered.connect(slot)
        w.cancel_button.clicked.connect(self.inference.cancel)
        a("toggle_overlays").toggled.connect(state.set_all_visible)
        a("toggle_legend").toggled.connect(self.modes.set_legend_wanted)
        for lesion in LESIONS:
            row = self.panel.rows[lesion]
            a(f"toggle_{lesion.code}").toggled.connect(partial(state.set_visible, lesion))
            row.visible_toggled.connect(state.set_visible)
            row.threshold_moved.connect(state.set_threshold)
            row.opacity_moved.connect(state.set_opacity)
            row.colour_chosen.connect(state.set_colour)
        self._connect_review()
        w.paths_dropped.connect(partial(self.open_paths, select=True))
        w.closing.connect(self.shutdown)
        w.close_guard = self.review.ready_to_close
        self.worklist.current_changed.connect(self.show_image)
        self.panel.reset_thresholds.connect(state.reset_thresholds)
        self.pr.curve_clicked.connect(self._on_curve_clicked)

    def _connect_review(self) -> None:
        a, r, panel = self.window.action, self.review, self.review.panel
        for name, slot in (
            ("adopt", lambda: r.adopt(r.active)),
            ("adopt_all", r.adopt_all),
            ("undo", r.undo),
            ("redo", r.redo),
            ("brush_smaller", lambda: r.strokes.resize_brush(1 / 1.25)),
            ("brush_larger", lambda: r.strokes.resize_brush(1.25)),
            ("next_component", lambda: r.navigation.step_component(1)),
            ("previous_component", lambda: r.navigation.step_component(-1)),
            ("keep_component", lambda: r.navigation.decide_component(keep=True)),
            ("delete_component", lambda: r.navigation.decide_component(keep=False)),
            ("toggle_spread", panel.spread_box.toggle),
            ("next_uncertain", r.navigation.next_uncertain),
            ("next_unreviewed", r.next_unreviewed),
            ("flag_image", r.flag_image),
            ("export", r.output.choose_export),
            ("compare_reviewer", r.output.choose_reference),
        ):
            a(name).triggered.connect(slot)
        for tool in EditTool:
            a(f"tool_{tool.name.lower()}").triggered.connect(partial(panel.select_tool, tool))
        for lesion in LESIONS:
            a(f"active_{lesion.code}").triggered.connect(partial(panel.select_lesion, lesion))

    # opening ------------------------------------------------------------------------
    def open_paths(self, paths: list[Path], select: bool = False) -> None:
        """Add image files and the images inside folders (or a dataset's) to the worklist.

        With ``select`` (the reader opened them), the first of them becomes the current photograph.
        """
        files, problems = expand_inputs(paths)
        if problems:
            self.show_error("Cannot open", "\n".join(f"{p.path}: {p.error}" for p in problems))
        resolved = [f.resolve() for f in files]
        added = self.worklist.add_paths(resolved)
        for path in added:  # the truth column answers before the photograph is opened
            source = self.truth.for_path(path) or find_ground_truth(path)
            self.worklist.set_truth(path, source.describe() if source else None)
        if files:
            self.settings.set_last_folder(files[0].parent)
        if resolved and (select or self.worklist.current_path is None):
            self.worklist.select(resolved[0] if select else (added or resolved)[0])

    def choose_files(self) -> None:
        pattern = " ".join(f"*{s}" for s in IMAGE_SUFFIXES)
        names, _ = QFileDialog.getOpenFileNames(
            self.window, "Open fundus photographs", str(self.settings.last_folder()), f"Images ({pattern})"
        )
        self.open_paths([Path(n) for n in names], select=True)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Open a folder", str(self.settings.last_folder())
        )
        if folder:
            self.open_paths([Path(folder)], select=True)

    @Slot(object)
    def show_image(self, path: Path) -> None:
        """Make ``path`` the current photograph: nothing of the previous one stays on screen."""
        self.modes.forget_image()
        self.state.show(None, None)
        self.review.show_loading(path)
        self.view.set_image(None)
        self.pr.set_scores(None, *self.pooled())
        self.drawing.show_pr_rows()
        self.window.pixel_label.setText("")
        self.panel.truth_label.setText("ground truth: -")
        self.window.setWindowTitle(f"{path.name} - LesionLens: review aid, not a diagnosis")
        if self.queue is not None and self.queue.running_path not in (None, path):
            self.inference.prefer(path)  # the photograph on screen is predicted first
        override = self.truth.for_path(path)
        if self.engine is not None:
            work = partial(self.engine.open, path, override)
        else:
            work = partial(open_without_model, path, override)
        job = Job(work, str(path))
        job.signals.finished.connect(self._on_opened)
        job.signals.failed.connect(partial(self._on_open_failed, path))
        self.runner.start(job)

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
            self.inference.submit(analysis.path, analysis.truth_source, first=True, opened=analysis)

    def _on_open_failed(self, path: Path, message: str) -> None:
        self.worklist.set_state(path, ImageState.FAILED)
        if path == self.worklist.current_path:
            self.review.show_failed(path)
        self.show_error("Cannot open the image", message if str(path) in message else f"{path}: {message}")

    # display ------------------------------------------------------------------------
    def display(self, analysis: ImageAnalysis) -> None:
        """Show a photograph (or its new prediction / ground truth) through the review state."""
        same_image = self.analysis is not None and self.analysis.path == analysis.path
        if not same_image:
            self.modes.forget_image()
        self.view.set_image(self.modes.aid_image(analysis), keep_view=same_image)
        session = self.review.open_record(analysis)
        if same_image and session is self.state.session:
            self.state.update_analysis(analysis)
        else:
            self.state.show(session, analysis)
        source = analysis.truth_source.describe() if analysis.truth_source else None
        self.worklist.set_truth(analysis.path, source)
        self.panel.truth_label.setText(f"ground truth: {source or 'none found'}")
        self.panel.sample_note.setVisible(is_synthetic_sample(analysis.path))
        self.pr.set_scores(analysis.scores, *self.pooled())
        self.drawing.show_pr_rows()
        self.modes.show_legend()
        self.displayed.emit(analysis.path, analysis.prediction is not None)

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

    def _on_inference_result(self, analysis: ImageAnalysis) -> None:
        self.remember(analysis)
        if analysis.path != self.worklist.current_path:
            self.pr.set_scores(self.analysis.scores if self.analysis else None, *self.pooled())
            self.drawing.show_pr_rows()
            return
        current = self.analysis
        if (
            current is not None
            and current.path == analysis.path
            and current.truth_source != analysis.truth_source
        ):
            analysis = with_truth(analysis, current.truth_source)
            self.remember(analysis)
        self.display(analysis)

    # ground truth -------------------------------------------------------------------
    @property
    def truth_folder(self) -> Path | None:
        return self.truth.folder

    @truth_folder.setter
    def truth_folder(self, folder: Path | None) -> None:
        self.truth.folder = folder

    def set_truth(self, source: GroundTruthSource | None) -> None:
        """Use these masks for the current photograph (None: none)."""
        self.truth.set_truth(source)

    def _on_truth_loaded(self, analysis: ImageAnalysis) -> None:
        if analysis.prediction is not None:
            self.remember(analysis)
        self.display(analysis)

    # thresholds and display modes ---------------------------------------------------
    def set_threshold(self, lesion: Lesion, threshold: float) -> None:
        """Set the folder's threshold of a lesion (as the slider does)."""
        self.state.set_threshold(lesion, threshold)

    def _on_curve_clicked(self, lesion: Lesion, recall: float, precision: float) -> None:
        scores = self.pr.image_scores if self.pr.image_scores is not None else self.pr.worklist_scores
        if scores is None or not scores.has_positives(lesion):
            return
        threshold = scores.threshold_near(lesion, recall, precision)
        if threshold is not None:
            self.state.set_threshold(lesion, threshold)

    def reset_thresholds(self) -> None:
        self.state.reset_thresholds()

    def reset_palette(self) -> None:
        self.settings.reset_palette()
        for lesion in LESIONS:
            self.state.set_colour(lesion, lesion.colour)

    def toggle_overlays(self) -> None:
        """Hide every overlay, or show them all when all are hidden (O)."""
        self.state.set_all_visible(not self.state.any_visible)

    # review -------------------------------------------------------------------------
    def mark_reviewed(self) -> None:
        """The current photograph's review is finished (asks about lesions nobody opened)."""
        self.review.mark_reviewed()

    # dialogs and output -------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        self.notifier.show_error(title, message)

    def show_about(self) -> None:
        card = None
        if self.engine is not None:
            card_path = self.engine.loaded.path.with_suffix(".md")
            card = card_for_readers(card_path.read_text(encoding="utf-8")) if card_path.is_file() else None
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
        from core.imaging.io import atomic_path

        with atomic_path(path) as tmp:
            if not self.window.grab().save(str(tmp), "PNG"):
                raise OSError(f"{path}: could not write the PNG; check the folder is writable")

    # shutdown -----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Remember settings, stop inference, wait for workers, save the review."""
        self.drawing.stop()
        self.settings.set_window(self.window.saveGeometry(), self.window.saveState())
        for lesion, layer in self.state.layers.items():
            self.settings.set_colour(lesion, layer.colour)
            self.settings.set_opacity(lesion, layer.opacity)
        self.settings.sync()
        self.inference.shutdown()
        self.runner.cancel_all()
        self.runner.wait(60000)
        self.review.flush()
