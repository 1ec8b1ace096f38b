"""One inference at a time, in a worker thread, for a queue of photographs."""

from __future__ import annotations

import logging
import time
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from app.workers import Job, JobRunner
from core.data.ground_truth import GroundTruthSource
from core.review.engine import ImageAnalysis, ReviewEngine

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1


class InferenceQueue(QObject):
    """Predicts queued photographs one after the other.

    Signals:
        started(path), progress(path, done, total), finished(path, analysis),
        failed(path, message), cancelled(path), paused(path): stopped to let the photograph on
        screen go first, back in the queue.
    """

    started = Signal(object)
    progress = Signal(object, int, int)
    finished = Signal(object, object)
    failed = Signal(object, str)
    cancelled = Signal(object)
    paused = Signal(object)

    def __init__(self, engine: ReviewEngine, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine = engine
        # One long-lived thread for every inference, warmed up at once: torch's CPU kernels ran
        # about 40 % slower on threads that had not run the network before (measured, 2 cores).
        self.runner = JobRunner(threads=1, parent=self, keep_threads=True)
        self.runner.start(Job(engine.warm_up, "warm-up"))
        self.writer = JobRunner(threads=1, parent=self)  # cache entries, written after display
        self.pending: list[tuple[Path, GroundTruthSource | None]] = []
        self.running: tuple[Path, Job] | None = None
        self._truths: dict[Path, GroundTruthSource | None] = {}
        self._pausing: Path | None = None
        self._last_progress = 0.0
        self._opened: dict[Path, ImageAnalysis] = {}

    @property
    def running_path(self) -> Path | None:
        return self.running[0] if self.running is not None else None

    def is_pending(self, path: Path) -> bool:
        return any(item[0] == path for item in self.pending)

    def submit(
        self,
        path: Path,
        truth: GroundTruthSource | None = None,
        first: bool = False,
        opened: ImageAnalysis | None = None,
    ) -> None:
        """Queue a photograph; a queued one moves, a running one stays.

        ``opened``: the photograph already read (and found missing from the cache) by the
        window; its prediction starts from it instead of reading and hashing the file again.

        With ``first`` it goes to the front, and a running photograph (another one) is
        stopped and put back right behind it: the photograph on screen is predicted first.
        """
        live = self.running is not None and not self.running[1].is_cancelled  # a cancelled job may
        if live and self.running[0] == path:  # still be winding down: it no longer counts
            return
        self.pending = [item for item in self.pending if item[0] != path]
        self.pending.insert(0 if first else len(self.pending), (path, truth))
        if opened is not None and opened.path == path and opened.prediction is None:
            self._opened[path] = opened
        if first and live and self._pausing is None:
            running_path, job = self.running
            self._pausing = running_path
            self.pending.insert(1, (running_path, self._truths.get(running_path)))
            job.cancel()
        self._start_next()

    def cancel(self) -> list[Path]:
        """Stop the running inference and empty the queue; returns the paths dropped from the queue."""
        dropped = [path for path, _ in self.pending]
        self.pending.clear()
        self._opened.clear()
        self._pausing = None
        if self.running is not None:
            self.running[1].cancel()
        return dropped

    def _start_next(self) -> None:
        if self.running is not None or not self.pending:
            return
        path, truth = self.pending.pop(0)
        self._truths[path] = truth
        opened = self._opened.pop(path, None)
        if opened is not None and opened.truth_source == truth:
            job = Job(partial(self.engine.iter_predict, opened, store=False), str(path))
        else:
            job = Job(partial(self.engine.iter_analyse, path, truth, store=False), str(path))
        # Bound slots of this QObject: Qt queues them into the GUI thread.
        job.signals.progress.connect(self._on_progress)
        job.signals.finished.connect(self._on_finished)
        job.signals.failed.connect(self._on_failed)
        job.signals.cancelled.connect(self._on_cancelled)
        job.signals.ended.connect(self._on_ended)
        self.running = (path, job)
        self.started.emit(path)
        self.runner.start(job)

    def _path_of_sender(self) -> Path | None:
        if self.running is not None and self.running[1].signals is self.sender():
            return self.running[0]
        return None

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        path = self._path_of_sender()
        now = time.monotonic()
        if path is None or (now - self._last_progress < PROGRESS_INTERVAL_S and done < total):
            return  # at most a few updates a second: the window stays out of the network's way
        self._last_progress = now
        self.progress.emit(path, done, total)

    @Slot(object)
    def _on_finished(self, analysis: ImageAnalysis) -> None:
        self.finished.emit(analysis.path, analysis)  # shown first, then cached
        if not analysis.from_cache:
            self.writer.start(Job(partial(self.engine.store, analysis), f"cache {analysis.path.name}"))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        path = self._path_of_sender()
        if path is not None:
            self.failed.emit(path, message)

    @Slot()
    def _on_cancelled(self) -> None:
        path = self._path_of_sender()
        if path is None:
            return
        if path == self._pausing:
            self._pausing = None
            self.paused.emit(path)
        else:
            self.cancelled.emit(path)

    @Slot()
    def _on_ended(self) -> None:
        if self._path_of_sender() is not None:
            self.running = None
        self._start_next()
