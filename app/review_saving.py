"""Saving a window's review sessions: soon after each change in a worker thread, at once on
closing (with "save elsewhere" when a folder cannot be written), and the review locks'
heartbeat. The GUI thread only takes snapshots (copies of the dirty masks)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from app.workers import Job, JobRunner
from core.review.session import ReviewSession, SessionError, now

if TYPE_CHECKING:
    from app.notify import Notifier
    from app.review_panel import ReviewPanel

#: How often this window renews its review locks (stale after core.review.session_lock.STALE_AFTER_S).
LOCK_HEARTBEAT_MS = 60_000
SAVE_DELAY_MS = 400
SAVE_ELSEWHERE, CLOSE_UNSAVED, STAY = "Save elsewhere...", "Close without saving", "Back to the review"
log = logging.getLogger(__name__)


class SessionSaver(QObject):
    """Writes the sessions of ``sessions`` (shared with the review controller, keyed by folder)."""

    def __init__(
        self,
        sessions: dict[Path, ReviewSession],
        panel: ReviewPanel,
        runner: JobRunner,
        notifier: Notifier,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.sessions, self.panel, self.runner, self.notifier = sessions, panel, runner, notifier
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self.save_now)
        self._lock_timer = QTimer(self, interval=LOCK_HEARTBEAT_MS)
        self._lock_timer.timeout.connect(self.heartbeat)
        self._lock_timer.start()
        self._saving = False
        self._save_again = False
        self._last_error = ""

    def changed(self) -> None:
        """Something in a session changed: save within SAVE_DELAY_MS (not postponed by further edits)."""
        if not self._save_timer.isActive():
            self._save_timer.start()

    def save_now(self) -> None:
        """Snapshot every session (GUI thread, cheap) and write them in a worker."""
        if self._saving:
            self._save_again = True
            return
        snapshots = [(session, session.snapshot()) for session in self.sessions.values() if session.has_work]
        if not snapshots:
            return
        self._saving = True

        def write() -> str:
            for session, snapshot in snapshots:
                session.write(snapshot)
            return now()

        job = Job(write, "review session")
        job.signals.finished.connect(self._on_saved)
        job.signals.failed.connect(self._on_save_failed)
        job.signals.ended.connect(self._on_save_ended)
        self.runner.start(job)

    def _on_saved(self, stamp: str) -> None:
        self._last_error = ""
        self.panel.save_label.setText(f"saved {stamp[11:19]} UTC")
        self.panel.save_label.setStyleSheet("")

    def _on_save_failed(self, message: str) -> None:
        self.panel.save_label.setText(f"NOT SAVED: {message}")
        self.panel.save_label.setStyleSheet("color: #d55e00;")
        if message != self._last_error:  # one dialog per problem, not one per edit
            self._last_error = message
            self.notifier.show_error("Cannot save the review", message)

    def _on_save_ended(self) -> None:
        self._saving = False
        if self._save_again or any(s.dirty_masks() for s in self.sessions.values()):
            self._save_again = False
            self.changed()

    def ready_to_close(self) -> bool:
        """Save everything now; if a session cannot be saved, ask the reader to save it
        elsewhere, close without it, or stay. True: the window may close."""
        self._save_timer.stop()
        self.runner.wait(10000)
        failing = self._save_all()
        while failing:
            problem = failing[0][1]
            answer = self.notifier.choose(
                "Unsaved review",
                f"The review of {len(failing)} folder(s) could not be saved:\n{problem}\n\n"
                "Save it in another folder, close without saving it, or go back to the review?",
                [SAVE_ELSEWHERE, CLOSE_UNSAVED, STAY],
            )
            if answer == CLOSE_UNSAVED:
                return True
            if answer != SAVE_ELSEWHERE:
                return False
            target = self.notifier.choose_folder("Save the review in")
            if target is None:
                continue
            failing = self._save_all(elsewhere=target)
        return True

    def _save_all(self, elsewhere: Path | None = None) -> list[tuple[ReviewSession, str]]:
        """Save every session with work (moved under ``elsewhere`` when given); the failures."""
        failing = []
        for session in self.sessions.values():
            if not session.has_work:
                continue
            try:
                if elsewhere is None:
                    session.save()
                else:
                    session.save_to(elsewhere / f"lesionlens-review-{session.folder.name}")
                    self.notifier.show_message(f"review saved in {session.location}", 10000)
            except SessionError as exc:
                failing.append((session, str(exc)))
        if not failing:
            self._on_saved(now())
        return failing

    def show_read_only(self, session: ReviewSession) -> None:
        """Say, in a dialog and in the save line, that this window does not save the folder."""
        self.panel.save_label.setText(f"READ-ONLY: {session.read_only}")
        self.panel.save_label.setStyleSheet("color: #d55e00; font-weight: bold;")
        window = self.notifier.window
        if "READ-ONLY" not in window.windowTitle():
            window.setWindowTitle(f"{window.windowTitle()} - READ-ONLY review of {session.folder.name}")
        self.notifier.show_warning(
            "Review opened read-only",
            f"{session.folder}: {session.read_only}. This window shows that review but does not save "
            "to it, so that neither of you loses work. Your changes here stay in this window; when "
            "you close it you can save them in another folder.",
        )

    def heartbeat(self) -> None:
        """Renew the review locks (timer); a lock another window took over turns read-only."""
        for session in self.sessions.values():
            if session.read_only is None and not session.heartbeat():
                self.show_read_only(session)

    def flush(self, timeout_ms: int = 10000) -> None:
        """Save synchronously (at exit)."""
        self._save_timer.stop()
        self.runner.wait(timeout_ms)
        self._lock_timer.stop()
        for session in self.sessions.values():
            try:
                if session.has_work:
                    session.save()
            except SessionError as exc:
                log.error("%s", exc)
            finally:
                session.release()
