"""Export of reviewed masks and agreement with another reviewer, both in worker threads."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

from app import dialogs
from app.workers import Job
from core.errors import LesionLensError
from core.review.export_currency import record_export
from core.review.export_record import ExportRecord
from core.review.session import now
from core.review.session_export import export_session, reviewed_image, session_thresholds
from core.scoring.agreement import Agreement

if TYPE_CHECKING:
    from app.notify import Notifier
    from app.review_panel import ReviewPanel
    from app.settings import AppSettings
    from app.workers import JobRunner
    from core.review.engine import ReviewEngine
    from core.review.session import ReviewSession


class ReviewAccess(Protocol):
    """What export and agreement need of the review controller (it owns them; they never import it)."""

    notifier: Notifier
    runner: JobRunner
    settings: AppSettings
    panel: ReviewPanel
    sessions: dict[Path, ReviewSession]
    engine: ReviewEngine | None

    def changed(self) -> None:
        """Something in a session changed (saved soon)."""


class ReviewOutput(QObject):
    """Export (never over existing files without asking) and the two-reviewer agreement."""

    #: An export finished and the photographs' export records changed.
    exported = Signal()

    def __init__(self, review: ReviewAccess, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.review = review
        self.notifier, self.runner, self.settings = review.notifier, review.runner, review.settings
        self.last_export: list[Path] = []
        self.last_agreement: Agreement | None = None

    @property
    def window(self) -> QWidget:
        """The main window (parent of the dialogs)."""
        return self.review.panel.window()

    def choose_export(self) -> None:
        if not self._explain_if_nothing_to_export():
            return
        folder = QFileDialog.getExistingDirectory(
            self.window, "Export reviewed masks into", str(self.settings.last_folder())
        )
        if not folder:
            return
        formats = {"TIFF (.tif, IDRiD's format)": "tif", "PNG (.png)": "png"}
        choice, accepted = QInputDialog.getItem(
            self.window, "Export reviewed masks", "Mask files as:", list(formats), 0, False
        )
        if accepted:
            self.export(Path(folder), fmt=formats[choice])

    def export(self, out_dir: Path, overwrite: bool = False, fmt: str = "tif") -> Job | None:
        """Export every started photograph of every open session, in a worker (masks as
        ``fmt``: "tif" or "png")."""
        self.flush_to_memory()
        # a folder with no review started would fail the whole export ("nothing to export")
        sessions = [session for session in self.review.sessions.values() if _started(session)]
        engine = self.review.engine
        if not self._explain_if_nothing_to_export():
            return None
        stamp = now()  # what is exported is taken now (and recorded in its files): later edits are not in it
        records = [
            (session, name, record_export(session, name, str(out_dir), fmt, stamp))
            for session in sessions
            for name, review in session.images.items()
            if review.started
        ]

        def work() -> list[Path]:
            written: list[Path] = []
            for session in sessions:
                written += export_session(session, out_dir, engine, fmt=fmt, overwrite=overwrite, stamp=stamp)
            return written

        job = Job(work, str(out_dir))
        job.signals.finished.connect(lambda files: self._on_exported(out_dir, files, records))
        job.signals.failed.connect(partial(self._on_export_failed, out_dir, fmt))
        self.runner.start(job)
        return job

    def _explain_if_nothing_to_export(self) -> bool:
        """True when some photograph's review is started; otherwise say how to start one."""
        started = any(_started(session) for session in self.review.sessions.values())
        if not started:
            self.notifier.show_error(
                "Nothing to export",
                "Export writes the photographs whose review is started (in progress, reviewed or "
                "flagged), and no photograph's is yet; moving a threshold does not start one.\n\n"
                "Set the photograph's status in the Review panel ('image'), edit or adopt a lesion, "
                "or mark it reviewed with Ctrl+Return, then export again.",
            )
        return started

    def flush_to_memory(self) -> None:
        """Close any stroke in progress so exports see it."""
        for session in self.review.sessions.values():
            for review in session.images.values():
                for item in review.lesions.values():
                    if item.mask is not None and item.mask.in_stroke:
                        item.mask.end_stroke()

    def _on_exported(
        self, out_dir: Path, files: list[Path], records: list[tuple[ReviewSession, str, ExportRecord]]
    ) -> None:
        self.notifier.show_message(f"exported {len(files)} files to {out_dir}", 8000)
        self.last_export = files
        for session, name, record in records:
            session.image(name).exported = record
        self.review.changed()  # the records are part of the session: journaled like an edit
        self.exported.emit()

    def _on_export_failed(self, out_dir: Path, fmt: str, message: str) -> None:
        if "already exist" in message:
            answer = QMessageBox.question(
                self.window,
                "Overwrite?",
                f"{message}\n\nReplace the existing files?",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.export(out_dir, overwrite=True, fmt=fmt)
            return
        self.notifier.show_error("Export failed", message)

    def choose_reference(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Another reviewer's export", str(self.settings.last_folder())
        )
        if folder:
            self.compare_with(Path(folder))

    def compare_with(self, reference: Path) -> Job | None:
        """Dice between this session's reviewed masks and another reviewer's export, in a worker."""
        from core.data.ground_truth import find_ground_truth_in, load_ground_truth
        from core.inference.predictor import run_to_end

        sessions, engine = list(self.review.sessions.values()), self.review.engine

        def work() -> Agreement:
            agreement = Agreement({})
            for session in sessions:
                for name, review in sorted(session.images.items()):
                    if not review.started:
                        continue
                    try:
                        source = find_ground_truth_in(reference, session.folder / name)
                    except LesionLensError:
                        continue  # the other reviewer did not export this photograph
                    analysis = run_to_end(engine.iter_analyse(session.folder / name)) if engine else None
                    if analysis is None:
                        continue
                    mine = reviewed_image(session, analysis, session_thresholds(session)).masks
                    agreement.add(name, mine, load_ground_truth(source, analysis.shape))
            if not agreement.images:
                raise LesionLensError(f"{reference}: no exported masks match the reviewed photographs")
            return agreement

        job = Job(work, str(reference))
        job.signals.finished.connect(lambda agreement: self._show_agreement(reference, agreement))
        job.signals.failed.connect(partial(self.notifier.show_error, "Agreement"))
        self.runner.start(job)
        return job

    def _show_agreement(self, reference: Path, agreement: Agreement) -> None:
        self.last_agreement = agreement
        dialogs.agreement_dialog(self.window, reference, agreement).open()


def _started(session: ReviewSession) -> bool:
    """Whether any photograph of the session has its review started (export writes those)."""
    return any(review.started for review in session.images.values())
