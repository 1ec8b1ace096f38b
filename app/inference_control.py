"""Inference from the reader's side: run, run all, cancel, and the queue's progress and results."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.inference_queue import InferenceQueue
from app.main_window import MainWindow
from app.notify import Notifier
from app.worklist import ImageState, Worklist
from core.data.ground_truth import GroundTruthSource
from core.review.engine import ImageAnalysis, ReviewEngine


class InferenceControl(QObject):
    """Connects the inference queue to the worklist and the progress bar.

    Signals:
        result(analysis): a photograph was predicted (the controller shows or pools it).
    """

    result = Signal(object)

    def __init__(
        self,
        engine: ReviewEngine | None,
        worklist: Worklist,
        window: MainWindow,
        notifier: Notifier,
        truth_for: Callable[[Path], GroundTruthSource | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.worklist, self.window, self.notifier, self.truth_for = worklist, window, notifier, truth_for
        self.queue = InferenceQueue(engine, self) if engine else None
        if self.queue is not None:
            self.queue.started.connect(self._on_started)
            self.queue.progress.connect(self._on_progress)
            self.queue.finished.connect(self._on_finished)
            self.queue.failed.connect(self._on_failed)
            self.queue.cancelled.connect(self._on_cancelled)
            self.queue.paused.connect(self._mark_queued)

    def submit(
        self,
        path: Path,
        truth: GroundTruthSource | None,
        first: bool = False,
        opened: ImageAnalysis | None = None,
    ) -> None:
        if self.queue is not None:
            self.queue.submit(path, truth, first=first, opened=opened)
            self._mark_queued(path)

    def prefer(self, path: Path) -> None:
        """The reader moved to ``path``: if it is waiting, it goes first and the running one waits."""
        if self.queue is not None and self.queue.is_pending(path):
            self.queue.submit(path, self.truth_for(path), first=True)

    def _mark_queued(self, path: Path) -> None:
        if self.worklist.state(path) in (ImageState.NOT_RUN, ImageState.FAILED, ImageState.RUNNING):
            self.worklist.set_state(path, ImageState.QUEUED)

    def run_current(self) -> None:
        path = self.worklist.current_path
        if path is not None:
            self.submit(path, self.truth_for(path), first=True)

    def run_all(self) -> None:
        """Queue every photograph of the worklist that has no prediction yet."""
        for path in self.worklist.paths:
            if self.worklist.state(path) in (ImageState.NOT_RUN, ImageState.FAILED):
                self.submit(path, self.truth_for(path))

    def cancel(self) -> None:
        if self.queue is None:
            return
        for path in self.queue.cancel():
            self.worklist.set_state(path, ImageState.NOT_RUN)

    def shutdown(self, timeout_ms: int = 60000) -> None:
        """Stop inference and wait for its thread (at exit)."""
        self.cancel()
        if self.queue is not None:
            self.queue.runner.wait(timeout_ms)
            self.queue.writer.wait(timeout_ms)

    def _on_started(self, path: Path) -> None:
        self.worklist.set_state(path, ImageState.RUNNING)
        self.window.show_progress(0, 1, path.name)

    def _on_progress(self, path: Path, done: int, total: int) -> None:
        self.window.show_progress(done, total, path.name)

    def _on_finished(self, _path: Path, analysis: ImageAnalysis) -> None:
        self.window.hide_progress()
        self.result.emit(analysis)

    def _on_failed(self, path: Path, message: str) -> None:
        self.window.hide_progress()
        self.worklist.set_state(path, ImageState.FAILED)
        self.notifier.show_error(
            "Inference failed", message if str(path) in message else f"{path}: {message}"
        )

    def _on_cancelled(self, path: Path) -> None:
        self.window.hide_progress()
        self.worklist.set_state(path, ImageState.NOT_RUN)
        self.notifier.show_message(f"inference of {path.name} cancelled", 5000)
