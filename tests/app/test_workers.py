"""Worker jobs: results, progress, cancel and errors arrive as signals in the GUI thread."""

from __future__ import annotations

import threading

import pytest

from app.workers import Job, JobRunner
from core.errors import ImageReadError
from core.inference.predictor import InferenceProgress


@pytest.fixture
def runner(qtbot) -> JobRunner:
    runner = JobRunner(threads=2)
    yield runner
    runner.cancel_all()
    runner.wait()


def test_generator_progress_and_result(qtbot, runner: JobRunner) -> None:
    seen: list[tuple[int, int]] = []
    threads: set[object] = set()

    def work():
        def generator():
            threads.add(threading.get_ident())
            for done in range(3):
                yield InferenceProgress(done + 1, 3)
            return "done"

        return generator()

    job = Job(work, "test")
    job.signals.progress.connect(lambda d, t: seen.append((d, t)))
    with qtbot.waitSignal(job.signals.finished, timeout=5000) as blocker:
        runner.start(job)
    assert blocker.args == ["done"]
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert threading.get_ident() not in threads, "the work ran off the GUI thread"
    qtbot.waitUntil(lambda: not runner.busy)


def test_cancel_stops_between_steps(qtbot, runner: JobRunner) -> None:
    release = threading.Event()
    closed = threading.Event()

    def generator():
        try:
            yield InferenceProgress(0, 10)
            release.wait(5)
            yield InferenceProgress(1, 10)
            yield InferenceProgress(2, 10)
        finally:
            closed.set()

    job = Job(generator, "slow")
    finished: list[object] = []
    job.signals.finished.connect(finished.append)
    with qtbot.waitSignal(job.signals.progress, timeout=5000):
        runner.start(job)
    with qtbot.waitSignal(job.signals.cancelled, timeout=5000):
        job.cancel()
        release.set()
    assert closed.wait(5), "the generator was closed (its finally ran)"
    assert finished == []


def test_errors_become_messages(qtbot, runner: JobRunner) -> None:
    def fail():
        raise ImageReadError("eye.jpg: truncated file")

    job = Job(fail, "eye.jpg")
    with qtbot.waitSignal(job.signals.failed, timeout=5000) as blocker:
        runner.start(job)
    assert blocker.args == ["eye.jpg: truncated file"]

    def crash():
        raise RuntimeError("boom")

    job = Job(crash, "other.jpg")
    with qtbot.waitSignal(job.signals.failed, timeout=5000) as blocker:
        runner.start(job)
    assert "other.jpg" in blocker.args[0] and "boom" in blocker.args[0]
