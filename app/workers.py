"""Runs engine work off the GUI thread: progress, cancel and errors come back as signals.

A job wraps a callable returning either a value or a generator that yields
:class:`~core.inference.predictor.InferenceProgress` and returns a value (the engine's style).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.errors import LesionLensError

log = logging.getLogger(__name__)


class JobSignals(QObject):
    """Signals of one job; they arrive in the GUI thread (queued connections)."""

    progress = Signal(int, int)  # done, total
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()  # after any of finished / failed / cancelled


class Job(QRunnable):
    """One piece of work for a thread pool.

    Args:
        work: called in the worker thread.
        name: what the job is about (shown in messages, e.g. the file).
    """

    def __init__(self, work: Callable[[], Any], name: str) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.work = work
        self.name = name
        self.signals = JobSignals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next progress step."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def _drive(self, generator: Generator[Any, None, Any]) -> tuple[bool, Any]:
        while True:
            if self._cancel.is_set():
                generator.close()
                return False, None
            try:
                step = next(generator)
            except StopIteration as stop:
                return True, stop.value
            done, total = getattr(step, "done", 0), getattr(step, "total", 0)
            self.signals.progress.emit(int(done), int(total))

    def run(self) -> None:
        """Qt calls this in a pool thread."""
        try:
            result = self.work()
            completed = True
            if isinstance(result, Generator):
                completed, result = self._drive(result)
            if completed and not self._cancel.is_set():
                self.signals.finished.emit(result)
            else:
                self.signals.cancelled.emit()
        except LesionLensError as exc:
            self.signals.failed.emit(str(exc))
        except MemoryError:
            self.signals.failed.emit(f"{self.name}: not enough memory; close other images or programs")
        except Exception as exc:
            log.exception("job %s failed", self.name)
            self.signals.failed.emit(f"{self.name}: unexpected error: {exc!r}")
        finally:
            self.signals.ended.emit()


class JobRunner(QObject):
    """Thread pool plus the references that keep running jobs (and their signals) alive.

    Args:
        threads: worker threads (inference itself uses torch's own threads).
        keep_threads: never retire idle threads (Qt's default retires them after 30 s): the
            network ran about 40 % slower on a fresh thread than on a warmed-up one (2 cores).
    """

    def __init__(self, threads: int = 2, parent: QObject | None = None, keep_threads: bool = False) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        if keep_threads:
            self.pool.setExpiryTimeout(-1)
        self._running: dict[JobSignals, Job] = {}

    def start(self, job: Job) -> Job:
        """Queue a job; it is forgotten (in the GUI thread) once it has ended."""
        self._running[job.signals] = job
        job.signals.ended.connect(self._forget)
        self.pool.start(job)
        return job

    @Slot()
    def _forget(self) -> None:
        self._running.pop(self.sender(), None)  # type: ignore[call-overload]

    def cancel_all(self) -> None:
        for job in list(self._running.values()):
            job.cancel()

    def wait(self, msecs: int = 30000) -> bool:
        """Block until every job has ended (used at exit and in tests)."""
        return self.pool.waitForDone(msecs)

    @property
    def busy(self) -> bool:
        return bool(self._running)
