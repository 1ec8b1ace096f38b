"""Inference from the reader's side: run, run all, cancel, and the queue's progress and results."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.inference_queue import InferenceQueue
from app.worklist import ImageState
from core.ground_truth import GroundTruthSource
from core.review import ImageAnalysis, with_truth

if TYPE_CHECKING:
    from app.controller import Controller


class InferenceControl(QObject):
    """Connects the inference queue to the worklist, the progress bar and the display."""

    def __init__(self, controller: Controller) -> None:
        super().__init__(controller)
        self.ctl = controller
        engine = controller.engine
        self.queue = InferenceQueue(engine, controller.runner, self) if engine else None
        if self.queue is not None:
            self.queue.started.connect(self._on_inference_started)
            self.queue.progress.connect(self._on_inference_progress)
            self.queue.finished.connect(self._on_inference_finished)
            self.queue.failed.connect(self._on_inference_failed)
            self.queue.cancelled.connect(self._on_inference_cancelled)

    def submit(self, path: Path, truth: GroundTruthSource | None, first: bool = False) -> None:
        if self.queue is not None:
            self.queue.submit(path, truth, first=first)
            self._mark_queued(path)

    def _mark_queued(self, path: Path) -> None:
        if self.ctl.worklist.state(path) in (ImageState.NOT_RUN, ImageState.FAILED):
            self.ctl.worklist.set_state(path, ImageState.QUEUED)

    def run_current(self) -> None:
        path = self.ctl.worklist.current_path
        if path is None or self.queue is None:
            return
        self.queue.submit(path, self.ctl.truth_overrides.get(path), first=True)
        self._mark_queued(path)

    def run_all(self) -> None:
        """Queue every photograph of the worklist that has no prediction yet."""
        if self.queue is None:
            return
        for path in self.ctl.worklist.paths:
            if self.ctl.worklist.state(path) in (ImageState.NOT_RUN, ImageState.FAILED):
                self.queue.submit(path, self.ctl.truth_overrides.get(path))
                self._mark_queued(path)

    def cancel(self) -> None:
        if self.queue is None:
            return
        for path in self.queue.cancel():
            self.ctl.worklist.set_state(path, ImageState.NOT_RUN)

    def _on_inference_started(self, path: Path) -> None:
        self.ctl.worklist.set_state(path, ImageState.RUNNING)
        self.ctl.window.show_progress(0, 1, path.name)

    def _on_inference_progress(self, path: Path, done: int, total: int) -> None:
        self.ctl.window.show_progress(done, total, path.name)

    def _on_inference_finished(self, path: Path, analysis: ImageAnalysis) -> None:
        self.ctl.window.hide_progress()
        self.ctl.remember(analysis)
        if path == self.ctl.worklist.current_path:
            current = self.ctl.analysis
            if current is not None and current.path == path and current.truth_source != analysis.truth_source:
                analysis = with_truth(analysis, current.truth_source)
                self.ctl.remember(analysis)
            self.ctl.display(analysis)
        else:
            self.ctl.pr.set_scores(
                self.ctl.analysis.scores if self.ctl.analysis else None, *self.ctl.pooled()
            )

    def _on_inference_failed(self, path: Path, message: str) -> None:
        self.ctl.window.hide_progress()
        self.ctl.worklist.set_state(path, ImageState.FAILED)
        self.ctl.show_error("Inference failed", message if str(path) in message else f"{path}: {message}")

    def _on_inference_cancelled(self, path: Path) -> None:
        self.ctl.window.hide_progress()
        self.ctl.worklist.set_state(path, ImageState.NOT_RUN)
        self.ctl.window.statusBar().showMessage(f"inference of {path.name} cancelled", 5000)
