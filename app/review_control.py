"""Reviewing: adopt, edit, statuses, journaling, navigation aids, export and agreement.

Owns one ``ReviewSession`` per folder. Every change schedules a save that runs within
``SAVE_DELAY_MS`` in a worker thread (the GUI thread only copies the dirty masks).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from app.edit_tools import EditTool
from app.review_navigation import NavigationAids
from app.review_output import ReviewOutput
from app.review_panel import ReviewPanel
from app.workers import Job, JobRunner
from core.lesions import LESIONS, Lesion
from core.review_mask import EditableMask
from core.review_state import Change, ReviewState
from core.session import ReviewSession, ReviewStatus, SessionError, now

if TYPE_CHECKING:
    from app.image_view import ImageView
    from app.notify import Notifier
    from app.settings import AppSettings
    from app.worklist import Worklist
    from core.review import ImageAnalysis, ReviewEngine

#: How often this window renews its review locks (stale after core.session_lock.STALE_AFTER_S).
LOCK_HEARTBEAT_MS = 60_000
SAVE_ELSEWHERE, CLOSE_UNSAVED, STAY = "Save elsewhere...", "Close without saving", "Back to the review"
log = logging.getLogger(__name__)

SAVE_DELAY_MS = 400


class ReviewControl(QObject):
    """The reviewer's side of the session for the current photograph."""

    def __init__(
        self,
        state: ReviewState,
        view: ImageView,
        panel: ReviewPanel,
        worklist: Worklist,
        runner: JobRunner,
        notifier: Notifier,
        settings: AppSettings,
        engine: ReviewEngine | None,
    ) -> None:
        super().__init__(panel)
        self.state, self.view, self.panel, self.worklist = state, view, panel, worklist
        self.runner, self.notifier, self.settings, self.engine = runner, notifier, settings, engine
        self.sessions: dict[Path, ReviewSession] = {}
        self.active = Lesion.EX
        self.tool = EditTool.NAVIGATE
        self._last_point: tuple[float, float] | None = None
        self._lasso: list[tuple[float, float]] = []
        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._lock_timer = QTimer(self, interval=LOCK_HEARTBEAT_MS)
        self._lock_timer.timeout.connect(self.heartbeat)
        self._lock_timer.start()
        self._save_timer.timeout.connect(self.save_now)
        self._saving = False
        self._save_again = False
        self._last_error = ""
        self.panel.reviewer.setText(settings.text("reviewer", ""))
        self.navigation = NavigationAids(self)
        self.output = ReviewOutput(self)
        self._connect()

    # wiring -------------------------------------------------------------------------
    def _connect(self) -> None:
        p, view = self.panel, self.view.view
        p.tool_changed.connect(self.set_tool)
        p.active_lesion_changed.connect(self.set_active)
        p.image_status_changed.connect(self.set_image_status)
        p.lesion_status_changed.connect(self.set_lesion_status)
        p.comment_changed.connect(self.set_comment)
        p.reviewer_changed.connect(self.set_reviewer)
        p.adopt_button.clicked.connect(lambda: self.adopt(self.active))
        p.adopt_all_button.clicked.connect(self.adopt_all)
        p.undo_button.clicked.connect(self.undo)
        p.redo_button.clicked.connect(self.redo)
        p.next_component.clicked.connect(lambda: self.navigation.step_component(1))
        p.previous_component.clicked.connect(lambda: self.navigation.step_component(-1))
        p.keep_component.clicked.connect(lambda: self.navigation.decide_component(keep=True))
        p.delete_component.clicked.connect(lambda: self.navigation.decide_component(keep=False))
        p.spread_box.toggled.connect(self.view.set_spread_visible)
        p.next_uncertain.clicked.connect(self.navigation.next_uncertain)
        p.export_button.clicked.connect(self.output.choose_export)
        p.agreement_button.clicked.connect(self.output.choose_reference)
        p.brush_size.valueChanged.connect(lambda _v: self._update_cursor(None))
        view.stroke_started.connect(self._on_stroke_started)
        view.stroke_moved.connect(self._on_stroke_moved)
        view.stroke_finished.connect(self._on_stroke_finished)
        view.clicked.connect(self._on_click)
        self.view.hovered.connect(lambda y, x: self._update_cursor((y + 0.5, x + 0.5)))
        self.state.subscribe(self._on_state)

    # sessions -----------------------------------------------------------------------
    def session_for(self, path: Path) -> ReviewSession | None:
        """The session of a photograph's folder (opened, or created, on first use)."""
        folder = path.parent
        if folder not in self.sessions:
            try:
                session = ReviewSession.open(folder, lock=True)
            except SessionError as exc:
                self.notifier.show_error("Review session", str(exc))
                return None
            if session.read_only is not None:
                self._show_read_only(session)
            self._adopt_session(session)
            self.sessions[folder] = session
        return self.sessions[folder]

    def _adopt_session(self, session: ReviewSession) -> None:
        """Bring a newly opened session and the window into line (reviewer, model)."""
        engine = self.engine
        if engine is not None:
            recorded = session.model.get("sha256")
            if recorded and recorded != engine.loaded.sha256:
                self.notifier.show_error(
                    "Another model",
                    f"{session.file}: this folder was reviewed with model {session.model.get('name')} "
                    f"({recorded[:12]}); the current model is {engine.loaded.meta.name}. Edits are kept; "
                    "exports record the current model.",
                )
            session.model = {**engine.loaded.provenance(), "path": str(engine.loaded.path)}
        name = self.panel.reviewer.text().strip()
        if name:
            session.reviewer = name
        else:
            self.panel.reviewer.setText(session.reviewer)
        for image in session.images.values():
            self._show_status_in_worklist(session.folder / image.name, image.status)

    def _show_status_in_worklist(self, path: Path, status: ReviewStatus) -> None:
        self.worklist.set_review(path, status.value)

    def open_record(self, analysis: ImageAnalysis) -> ReviewSession | None:
        """The session of a photograph about to be shown, with its saved masks loaded."""
        session = self.session_for(analysis.path)
        if session is None:
            return None
        if session is self.state.session:
            return session  # the photograph on screen got a prediction or ground truth: loaded already
        name = analysis.path.name
        review = session.image(name)
        if review.digest and review.digest != analysis.digest:
            self.notifier.show_error(
                "The photograph changed",
                f"{analysis.path}: its content differs from the one reviewed on {review.updated}; "
                "the saved masks may not fit it",
            )
        for lesion in LESIONS:
            try:
                session.load_mask(name, lesion, analysis.shape)
            except SessionError as exc:
                self.notifier.show_error("Reviewed mask", str(exc))
        return session

    def show_loading(self, path: Path) -> None:
        """Another photograph was chosen: no record is shown until it is open."""
        self.panel.show_no_record(f"opening {path.name}…")

    def show_failed(self, path: Path) -> None:
        self.panel.show_no_record(f"{path.name} could not be opened: nothing to review")

    def _on_state(self, change: Change, lesion: Lesion | None) -> None:
        """Show the record of the photograph on screen; save what changed."""
        if change is Change.PHOTOGRAPH:
            self.navigation.reset()
        review = self.state.review
        if review is None:
            if change is Change.PHOTOGRAPH and self.state.analysis is not None:
                self.panel.show_no_record("no review session for this folder")
            return
        self.panel.show_record(
            review.status, {k: v.status for k, v in review.lesions.items()}, review.comment
        )
        self._update_adopt_button()
        self._update_edit_label()
        if self.state.analysis is not None:
            self._show_status_in_worklist(self.state.analysis.path, review.status)
        if change is not Change.PHOTOGRAPH and change is not Change.LAYER:
            self.changed()

    # saving -------------------------------------------------------------------------
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

    def _show_read_only(self, session: ReviewSession) -> None:
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
                self._show_read_only(session)

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

    # statuses -----------------------------------------------------------------------
    def set_reviewer(self, name: str) -> None:
        self.settings.set_text("reviewer", name.strip())
        for session in self.sessions.values():
            session.reviewer = name.strip() or session.reviewer
        self.changed()

    def set_image_status(self, status: ReviewStatus) -> None:
        if status is ReviewStatus.REVIEWED:
            self.mark_reviewed()
        elif not self.state.set_image_status(status):
            self.notifier.show_message("no photograph is open for review", 4000)

    def flag_image(self) -> None:
        self.set_image_status(ReviewStatus.FLAGGED)

    def mark_reviewed(self) -> None:
        """Finish the photograph; lesions nobody opened are accepted as shown only after asking."""
        state = self.state
        if state.review is None:
            self.notifier.show_message("no photograph is open for review", 4000)
            return
        unopened = state.unopened_lesions()
        if unopened and (state.analysis is None or state.analysis.prediction is None):
            self.notifier.show_message("wait for the prediction before marking the photograph reviewed", 6000)
        elif not unopened or self.notifier.confirm(
            "Mark reviewed",
            f"Nobody opened {', '.join(lesion.code for lesion in unopened)} on this photograph. Accept the "
            "model's masks for them exactly as shown (at the current thresholds) and mark the photograph "
            "reviewed? The export records that they were accepted unopened.",
        ):
            state.mark_reviewed()
        review = state.review
        self.panel.show_record(
            review.status, {k: v.status for k, v in review.lesions.items()}, review.comment
        )

    def set_lesion_status(self, lesion: Lesion, status: ReviewStatus) -> None:
        self.state.set_lesion_status(lesion, status)

    def set_comment(self, text: str) -> None:
        if not self.state.set_comment(text):
            self.notifier.show_message("no photograph is open: the comment was not recorded", 6000)

    def next_unreviewed(self) -> None:
        """Select the next photograph of the worklist whose review is not finished."""
        paths = self.worklist.paths
        if not paths:
            return
        start = paths.index(self.worklist.current_path) if self.worklist.current_path in paths else -1
        for offset in range(1, len(paths) + 1):
            path = paths[(start + offset) % len(paths)]
            session = self.session_for(path)
            status = session.image(path.name).status if session is not None else ReviewStatus.NOT_STARTED
            if status is not ReviewStatus.REVIEWED:
                self.worklist.select(path)
                return
        self.notifier.show_message("every photograph of the worklist is reviewed", 5000)

    # editing ------------------------------------------------------------------------
    def set_tool(self, tool: EditTool) -> None:
        self.tool = tool
        self.view.view.tool = tool
        self._update_cursor(None)

    def set_active(self, lesion: Lesion) -> None:
        self.active = lesion
        self.navigation.reset()
        self._update_adopt_button()
        self._update_edit_label()

    def resize_brush(self, factor: float) -> None:
        box = self.panel.brush_size
        box.setValue(
            max(box.minimum(), min(box.maximum(), round(box.value() * factor) + (1 if factor > 1 else 0)))
        )

    def _update_cursor(self, centre: tuple[float, float] | None) -> None:
        if self.tool in (EditTool.BRUSH, EditTool.ERASER):
            self._cursor_centre = centre or getattr(self, "_cursor_centre", None)
            self.view.set_cursor_ring(self._cursor_centre, self.panel.brush_size.value())
        else:
            self.view.set_cursor_ring(None, 0)

    def mask(self, lesion: Lesion, adopt: bool = True) -> EditableMask | None:
        """The current photograph's editable mask of ``lesion``, adopted first if needed."""
        mask = self.state.mask(lesion)
        if mask is None and adopt:
            return self.adopt(lesion)
        return mask

    def adopt(self, lesion: Lesion) -> EditableMask | None:
        """Take the prediction at the folder's threshold as the editable mask (undoable if one exists)."""
        mask = self.state.adopt(lesion)
        if mask is None:
            self.notifier.show_message("no prediction to adopt yet", 4000)
        return mask

    def adopt_all(self) -> None:
        for lesion in LESIONS:
            self.adopt(lesion)

    def edited(self, lesion: Lesion, box: tuple[int, int, int, int] | None) -> None:
        if box is None:
            return
        self.view.update_region(lesion, box)
        self.navigation.forget_components()
        self.state.mask_edited(lesion)

    def _on_stroke_started(self, y: float, x: float) -> None:
        mask = self.mask(self.active)
        if mask is None:
            return
        if self.tool in (EditTool.BRUSH, EditTool.ERASER):
            mask.begin_stroke(self.tool.value)
            self._last_point = (y, x)
        else:
            self._lasso = [(y, x)]

    def _on_stroke_moved(self, y: float, x: float) -> None:
        mask = self.mask(self.active, adopt=False)
        if mask is None:
            return
        if self.tool in (EditTool.BRUSH, EditTool.ERASER) and self._last_point is not None:
            box = mask.brush(
                self._last_point, (y, x), self.panel.brush_size.value(), erase=self.tool is EditTool.ERASER
            )
            self._last_point = (y, x)
            if box is not None:
                self.view.update_region(self.active, box)
            self._update_cursor((y, x))
        elif self._lasso:
            self._lasso.append((y, x))
            self.view.set_lasso(self._lasso)

    def _on_stroke_finished(self) -> None:
        mask = self.mask(self.active, adopt=False)
        if mask is None:
            return
        if self.tool in (EditTool.BRUSH, EditTool.ERASER):
            self._last_point = None
            self.edited(self.active, mask.end_stroke())
        elif self._lasso:
            box = mask.fill_polygon(self._lasso, erase=self.tool is EditTool.LASSO_ERASE)
            self._lasso = []
            self.view.set_lasso([])
            self.edited(self.active, box)

    def _on_click(self, y: float, x: float, shift: bool) -> None:
        if self.tool is EditTool.COMPONENT:
            mask = self.mask(self.active)
            if mask is not None:
                self.edited(self.active, mask.set_component(int(y), int(x), keep=shift))
        elif self.tool in (EditTool.BRUSH, EditTool.ERASER):  # a click paints a dot
            self._on_stroke_started(y, x)
            self._on_stroke_moved(y, x)
            self._on_stroke_finished()

    def undo(self) -> None:
        mask = self.mask(self.active, adopt=False)
        if mask is not None:
            self.edited(self.active, mask.undo())

    def redo(self) -> None:
        mask = self.mask(self.active, adopt=False)
        if mask is not None:
            self.edited(self.active, mask.redo())

    def _update_adopt_button(self) -> None:
        lesion, threshold = self.active, self.state.thresholds[self.active]
        adopted = self.state.adopted_threshold(lesion)
        self.panel.adopt_button.setText(
            f"Adopt {lesion.code} at {threshold:.2f}"
            if adopted is None
            else f"Re-adopt {lesion.code} at {threshold:.2f}"
        )

    def _update_edit_label(self) -> None:
        mask = self.mask(self.active, adopt=False)
        if mask is None:
            self.panel.edit_label.setText(f"{self.active.code}: prediction not adopted yet")
            return
        self.panel.edit_label.setText(
            f"{self.active.code}: {mask.edited_pixels():,} px edited · {len(mask.undo_steps)} undo / "
            f"{len(mask.redo_steps)} redo steps"
        )
