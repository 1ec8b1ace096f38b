"""Reviewing: adopt, edit, statuses, journaling, navigation aids, export and agreement.

Owns one ``ReviewSession`` per folder; saving, locks and closing are the
:class:`app.review_saving.SessionSaver`'s, pointer edits :class:`app.mask_strokes.MaskStrokes`'.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from app.edit_tools import EditTool
from app.mask_strokes import MaskStrokes
from app.review_navigation import NavigationAids
from app.review_output import ReviewOutput
from app.review_panel import ReviewPanel
from app.review_saving import SessionSaver
from app.workers import JobRunner
from core.lesions import LESIONS, Lesion
from core.review.display import threshold_text
from core.review.editable_mask import EditableMask
from core.review.export_currency import export_status
from core.review.session import ReviewSession, ReviewStatus, SessionError
from core.review.state import Change, ReviewState

if TYPE_CHECKING:
    from app.image_view import ImageView
    from app.notify import Notifier
    from app.settings import AppSettings
    from app.worklist import Worklist
    from core.review.engine import ImageAnalysis, ReviewEngine

log = logging.getLogger(__name__)


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
        self.saver = SessionSaver(self.sessions, panel, runner, notifier, parent=self)
        self.panel.reviewer.setText(settings.text("reviewer", ""))
        self.navigation = NavigationAids(self, parent=self)
        self.output = ReviewOutput(self, parent=self)
        self.strokes = MaskStrokes(self, parent=self)
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
        self.output.exported.connect(self._update_export_label)
        p.brush_size.valueChanged.connect(lambda _v: self.strokes.update_cursor(None))
        view.stroke_started.connect(self.strokes.stroke_started)
        view.stroke_moved.connect(self.strokes.stroke_moved)
        view.stroke_finished.connect(self.strokes.stroke_finished)
        view.clicked.connect(self.strokes.click)
        self.view.hovered.connect(lambda y, x: self.strokes.update_cursor((y + 0.5, x + 0.5)))
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
                self.saver.show_read_only(session)
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
            elif recorded and bool(session.model.get("flip_tta", False)) != engine.config.flip_tta:
                used = "with" if session.model.get("flip_tta") else "without"
                self.notifier.show_warning(
                    "Other inference settings",
                    f"{session.file}: this folder was predicted {used} mirrored tiles (--flip-tta); "
                    "the window now runs the other way, so new predictions may differ slightly. Edits "
                    "are kept; exports record the current setting.",
                )
            session.model = engine.provenance()
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
        self._update_export_label()
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

    # saving (SessionSaver) ----------------------------------------------------------
    def changed(self) -> None:
        """Something in a session changed: saved within SAVE_DELAY_MS."""
        self.saver.changed()

    def save_now(self) -> None:
        self.saver.save_now()

    def ready_to_close(self) -> bool:
        """Everything saved (or the reader chose otherwise): the window may close."""
        return self.saver.ready_to_close()

    def flush(self, timeout_ms: int = 10000) -> None:
        """Save synchronously (at exit)."""
        self.saver.flush(timeout_ms)

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
        self.strokes.update_cursor(None)

    def set_active(self, lesion: Lesion) -> None:
        self.active = lesion
        self.navigation.reset()
        self._update_adopt_button()
        self._update_edit_label()

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
            f"Adopt {lesion.code} at {threshold_text(threshold)}"
            if adopted is None
            else f"Re-adopt {lesion.code} at {threshold_text(threshold)}"
        )

    def _update_export_label(self) -> None:
        """Whether the photograph on screen was exported from the window, and whether it changed since."""
        session, name = self.state.session, self.state.name
        shown = export_status(session, name) if session is not None and name else ("", "", False)
        self.panel.show_export_status(*shown)

    def _update_edit_label(self) -> None:
        mask = self.mask(self.active, adopt=False)
        if mask is None:
            self.panel.edit_label.setText(f"{self.active.code}: prediction not adopted yet")
            return
        self.panel.edit_label.setText(
            f"{self.active.code}: {mask.edited_pixels():,} px edited · {len(mask.undo_steps)} undo / "
            f"{len(mask.redo_steps)} redo steps"
        )
