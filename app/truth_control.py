"""Which ground truth a photograph is compared with: found beside it, in a chosen folder, or none."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QWidget

from app.notify import Notifier
from app.workers import Job, JobRunner
from core.data.ground_truth import GroundTruthSource, find_ground_truth_in
from core.errors import LesionLensError
from core.review.engine import ImageAnalysis, with_truth
from core.review.state import ReviewState


class TruthControl(QObject):
    """Ground truth chosen by hand (per photograph) or searched in a folder (``--ground-truth``).

    Args:
        on_loaded: called in the GUI thread with the photograph's analysis and its new truth.
    """

    def __init__(
        self,
        state: ReviewState,
        window: QWidget,
        runner: JobRunner,
        notifier: Notifier,
        on_loaded: Callable[[ImageAnalysis], None],
    ) -> None:
        super().__init__(window)
        self.state, self.window, self.runner, self.notifier = state, window, runner, notifier
        self.on_loaded = on_loaded
        self.overrides: dict[Path, GroundTruthSource | None] = {}
        self.folder: Path | None = None  # searched when a photograph has no ground truth of its own

    def for_path(self, path: Path) -> GroundTruthSource | None:
        """The truth chosen for ``path``, else one in the searched folder, else None (found beside it)."""
        if path in self.overrides:
            return self.overrides[path]
        if self.folder is None:
            return None
        try:
            return find_ground_truth_in(self.folder, path)
        except LesionLensError:
            return None

    def choose_folder(self) -> None:
        analysis = self.state.analysis
        if analysis is None:
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, f"Ground-truth folder for {analysis.path.name}", str(analysis.path.parent)
        )
        if folder:
            try:
                source = find_ground_truth_in(folder, analysis.path)
            except LesionLensError as exc:
                self.notifier.show_error("No ground truth", str(exc))
                return
            self.set_truth(source)

    def set_truth(self, source: GroundTruthSource | None) -> None:
        """Use these masks for the current photograph (None: none)."""
        analysis = self.state.analysis
        if analysis is None:
            return
        self.overrides[analysis.path] = source
        job = Job(partial(with_truth, analysis, source), str(analysis.path))
        job.signals.finished.connect(self._on_loaded)
        job.signals.failed.connect(partial(self.notifier.show_error, "Cannot read the ground truth"))
        self.runner.start(job)

    @Slot(object)
    def _on_loaded(self, analysis: ImageAnalysis) -> None:
        current = self.state.analysis
        if current is not None and analysis.path == current.path:
            self.on_loaded(analysis)
