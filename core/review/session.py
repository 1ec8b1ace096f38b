"""The review session of one folder: statuses, comments, thresholds and edited masks.

Everything a reviewer did is journaled to disk: the session file
``<folder>/.lesionlens/session.json`` and one PNG per edited lesion mask beside it
(``masks/<image file>.<CODE>.png``, ``MaskState`` values). Each file is written to a
temporary name and renamed, so a crash leaves the previous complete version. When the
folder is read-only the session lives in the user's data folder instead
(``$LESIONLENS_DATA_DIR`` or ``~/.local/share/lesionlens/sessions/<hash>``).
"""

from __future__ import annotations

import getpass
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.errors import LesionLensError
from core.imaging.io import encode_png, write_bytes_atomic, write_json
from core.lesions import LESIONS, Lesion
from core.review.editable_mask import EditableMask, MaskState, is_edited
from core.review.export_record import ExportRecord
from core.review.session_files import (  # noqa: F401 - session_dir_for and copy_session are public here too
    SESSION_DIR,
    SESSION_FILE,
    _keep_aside,
    _mask_file_problem,
    _writable,
    copy_session,
    session_dir_for,
)
from core.review.session_lock import SessionLock
from core.review.session_schema import SchemaError, parse_session_text, validate_session

log = logging.getLogger(__name__)

SESSION_FORMAT = 1
#: A session of 10,000 photographs is about 10 MB; anything far larger is not one.
MAX_SESSION_BYTES = 256 * 1024**2
Snapshot = tuple[dict[str, Any], list[tuple[Path, np.ndarray, str, Lesion, int]]]


class SessionError(LesionLensError):
    """A session cannot be read or written."""


class ReviewStatus(Enum):
    """Where the review of an image, or of one lesion in it, stands."""

    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    REVIEWED = "reviewed"
    FLAGGED = "flagged"


def now() -> str:
    """UTC time stamp, ISO 8601 to the second."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_reviewer() -> str:
    """The operating-system user name (the reviewer can change it)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "reviewer"


@dataclass
class LesionReview:
    """One lesion of one image.

    Attributes:
        status: review status of this lesion.
        adopted_threshold: the threshold at which the prediction became the editable mask.
        mask: the editable mask, once adopted (loaded lazily from disk).
        saved_revision: the mask revision last written to disk.
        updated: time of the last change.
        accepted_with_photograph: adopted unopened when the photograph was marked reviewed.
        prefilled: adopted by ``lesionlens review --prefill`` and not touched by a person since.
    """

    status: ReviewStatus = ReviewStatus.NOT_STARTED
    adopted_threshold: float | None = None
    mask: EditableMask | None = None
    saved_revision: int = -1
    updated: str = ""
    edited_pixels: int = 0  # as of the last save (counted in the writer thread)
    accepted_with_photograph: bool = False
    prefilled: bool = False

    @property
    def adopted(self) -> bool:
        return self.adopted_threshold is not None


@dataclass
class ImageReview:
    """The review of one photograph (by file name inside the session's folder)."""

    name: str
    digest: str = ""
    status: ReviewStatus = ReviewStatus.NOT_STARTED
    comment: str = ""
    created: str = field(default_factory=now)
    updated: str = ""
    lesions: dict[Lesion, LesionReview] = field(
        default_factory=lambda: {lesion: LesionReview() for lesion in LESIONS}
    )
    #: The last export from the window (None: never exported from it).
    exported: ExportRecord | None = None

    @property
    def started(self) -> bool:
        """Whether the review has started (only started reviews are exported by default)."""
        return self.status is not ReviewStatus.NOT_STARTED

    def note_change(self, stamp: str | None = None) -> None:
        """Something in this record or its masks changed (its time stamp)."""
        self.updated = stamp or now()

    def touch(self) -> None:
        """A change that starts the review if it was not started."""
        self.note_change()
        if not self.started:
            self.status = ReviewStatus.IN_PROGRESS


class ReviewSession:
    """Statuses, comments, thresholds and masks of the photographs of one folder.

    Args:
        folder: the folder of the photographs.
        location: where the session files live (default: :func:`session_dir_for`).
    """

    def __init__(self, folder: Path, location: Path | None = None) -> None:
        self.folder = Path(folder).resolve()
        self.location = location or session_dir_for(self.folder)
        self.reviewer = default_reviewer()
        self.model: dict[str, Any] = {}
        self.thresholds: dict[Lesion, float] = {}
        self.images: dict[str, ImageReview] = {}
        self.created = now()
        #: This process's lock on the session (see :meth:`claim`).
        self.lock: SessionLock | None = None
        #: Why this session must not be written here (another writer holds it), or None.
        self.read_only: str | None = None

    @property
    def has_work(self) -> bool:
        """True once any photograph's review has started (only then is the session written)."""
        return (
            any(
                review.started
                or bool(review.comment)  # a comment alone is work too
                or any(item.adopted for item in review.lesions.values())
                for review in self.images.values()
            )
            or self.file.is_file()
        )

    @property
    def file(self) -> Path:
        return self.location / SESSION_FILE

    def mask_path(self, name: str, lesion: Lesion) -> Path:
        return self.location / "masks" / f"{name}.{lesion.code}.png"

    def image(self, name: str) -> ImageReview:
        """The review of a photograph (created on first use)."""
        if "/" in name or "\\" in name or name in ("", ".", ".."):
            raise SessionError(f"{name!r}: not a file name inside {self.folder}")
        return self.images.setdefault(name, ImageReview(name))

    # reading ------------------------------------------------------------------------
    @classmethod
    def open(cls, folder: Path, lock: bool = False) -> ReviewSession:
        """The folder's session from disk, or a new empty one.

        Args:
            folder: the photographs' folder.
            lock: claim the session for writing (:meth:`claim`); when another live process
                holds it, the session opens read-only (``read_only`` says who).

        Raises:
            SessionError: the session file exists but cannot be read (it is left untouched).
        """
        session = cls(folder)
        if session.file.is_file():
            session._read()
        if lock:
            session.claim()
        return session

    def claim(self) -> None:
        """Become this session's one writer, or note who is (``read_only``)."""
        lock = SessionLock(self.location, self.reviewer)
        try:
            holder = lock.acquire()
        except OSError as exc:  # an unwritable folder: saving will say so in its own words
            log.warning("no review lock in %s: %s", self.location, exc)
            return
        if holder is None:
            self.lock, self.read_only = lock, None
        else:
            self.read_only = f"{holder.describe()} is reviewing this folder"

    def heartbeat(self) -> bool:
        """Renew this writer's lock; False (and read-only from now on) when another took it over."""
        if self.lock is None:
            return self.read_only is None
        if self.lock.refresh():
            return True
        holder = self.lock.current_holder()
        self.lock = None
        self.read_only = (
            f"{holder.describe() if holder else 'another LesionLens'} took over this folder's review"
        )
        return False

    def release(self) -> None:
        """Give up the lock (at close)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def _read(self) -> None:
        try:
            if self.file.stat().st_size > MAX_SESSION_BYTES:
                raise SchemaError(
                    f"{self.file.stat().st_size} bytes, more than any session LesionLens writes"
                )
            text = self.file.read_text(encoding="utf-8")
            data = validate_session(parse_session_text(text), SESSION_FORMAT)
            self.reviewer = data.get("reviewer") or self.reviewer
            self.model = data.get("model", {})
            self.created = data.get("created", self.created)
            self.thresholds = {Lesion.from_code(k): float(v) for k, v in data.get("thresholds", {}).items()}
            for name, item in data.get("images", {}).items():
                review = self.image(name)
                review.digest = item.get("digest", "")
                review.status = ReviewStatus(item.get("status", ReviewStatus.NOT_STARTED.value))
                review.comment = item.get("comment", "")
                review.created = item.get("created", review.created)
                review.updated = item.get("updated", "")
                exported = item.get("exported")
                review.exported = ExportRecord.from_dict(exported) if exported else None
                for code, lesion_item in item.get("lesions", {}).items():
                    lesion_review = review.lesions[Lesion.from_code(code)]
                    lesion_review.status = ReviewStatus(lesion_item.get("status", "not started"))
                    lesion_review.adopted_threshold = lesion_item.get("adopted_threshold")
                    lesion_review.edited_pixels = int(lesion_item.get("edited_pixels", 0))
                    lesion_review.updated = lesion_item.get("updated", "")
                    lesion_review.accepted_with_photograph = bool(
                        lesion_item.get("accepted_with_photograph", False)
                    )
                    lesion_review.prefilled = bool(lesion_item.get("prefilled", False))
        except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
            raise SessionError(
                f"{self.file}: cannot read the review session ({exc}); it was left untouched. Move it "
                "away to start a new session, or restore it from a backup"
            ) from exc

    def load_mask(self, name: str, lesion: Lesion, shape: tuple[int, int]) -> EditableMask | None:
        """The saved editable mask of a lesion, or None if it was never adopted.

        Raises:
            SessionError: the mask file is missing, damaged or of another size.
        """
        review = self.image(name).lesions[lesion]
        if not review.adopted:
            return None
        if review.mask is not None:
            return review.mask
        path = self.mask_path(name, lesion)
        self._refuse_links(path)
        problem = _mask_file_problem(path, shape)
        states = None if problem else cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if problem is None and (
            states is None or states.shape != shape or states.max(initial=0) > max(MaskState)
        ):
            problem = "its pixels are not a reviewed mask"
        if problem is not None or states is None:
            kept = _keep_aside(path)
            raise SessionError(
                f"{path}: the reviewed {lesion.code} mask of {name} is missing or damaged ({problem})"
                + (f"; the file was copied to {kept.name}" if kept else "")
                + "; adopt the prediction again to restart this lesion"
            )
        review.mask = EditableMask(states)
        review.saved_revision = review.mask.revision
        return review.mask

    def _refuse_links(self, path: Path) -> None:
        """Refuse a session file, mask or folder that is a symbolic link: reads and writes stay
        inside the session folder, wherever a link would lead."""
        for part in (self.location, path.parent, path):
            if part.is_symlink():
                raise SessionError(
                    f"{part}: a symbolic link inside the review session; LesionLens reads and writes "
                    f"only real files under {self.location}. Replace the link with a folder or file"
                )

    # writing ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        images = {}
        for name, review in sorted(self.images.items()):
            lesions = {}
            for lesion, item in review.lesions.items():
                entry: dict[str, Any] = {
                    "status": item.status.value,
                    "adopted_threshold": item.adopted_threshold,
                }
                entry["updated"] = item.updated
                entry["edited_pixels"] = item.edited_pixels
                entry["accepted_with_photograph"] = item.accepted_with_photograph
                entry["prefilled"] = item.prefilled
                lesions[lesion.code] = entry
            images[name] = {
                "digest": review.digest,
                "status": review.status.value,
                "comment": review.comment,
                "created": review.created,
                "updated": review.updated,
                "lesions": lesions,
            }
            if review.exported is not None:
                images[name]["exported"] = review.exported.to_dict()
        return {
            "format": SESSION_FORMAT,
            "software": "LesionLens",
            "folder": str(self.folder),
            "reviewer": self.reviewer,
            "model": self.model,
            "thresholds": {lesion.code: value for lesion, value in self.thresholds.items()},
            "created": self.created,
            "saved": now(),
            "images": images,
        }

    def dirty_masks(self) -> list[tuple[str, Lesion, EditableMask]]:
        """Masks changed since they were last saved."""
        return [
            (name, lesion, item.mask)
            for name, review in self.images.items()
            for lesion, item in review.lesions.items()
            if item.mask is not None and item.mask.revision != item.saved_revision
        ]

    def snapshot(self) -> Snapshot:
        """A copy of what :meth:`write` needs (the session document and copies of the dirty
        masks): cheap, so the GUI thread can go on editing while another thread writes."""
        masks = [
            (self.mask_path(name, lesion), mask.states.copy(), name, lesion, mask.revision)
            for name, lesion, mask in self.dirty_masks()
        ]
        return self.to_dict(), masks

    def write(self, snapshot: Snapshot) -> None:
        """Write a snapshot: masks first (PNG), then the session file, each atomically.

        Raises:
            SessionError: the disk refused (read-only, full); the files on disk keep their
                previous complete version.
        """
        document, masks = snapshot
        if self.read_only is None and self.lock is not None:
            self.heartbeat()  # a writer that lost its lock must not overwrite the new holder's work
        if self.read_only is not None:
            raise SessionError(
                f"{self.location}: not saved, the review is read-only here: {self.read_only}. Your changes "
                "stay in this window; on closing it you can save them in another folder"
            )
        for _, states, name, lesion, _ in masks:  # counted here, off the GUI thread
            count = int(np.count_nonzero(is_edited(states)))
            document["images"][name]["lesions"][lesion.code]["edited_pixels"] = count
            self.images[name].lesions[lesion].edited_pixels = count
        for path, *_ in masks:
            self._refuse_links(path)
        self._refuse_links(self.file)
        try:
            for path, states, _, _, _ in masks:
                write_bytes_atomic(path, encode_png(states, compression=1))
            write_json(self.file, document)
        except OSError as exc:
            raise SessionError(
                f"{self.location}: could not save the review session ({exc.strerror or exc}); your work "
                "is kept in memory and saved again on the next change; free disk space or make the folder "
                "writable"
            ) from exc
        for _, _, name, lesion, revision in masks:
            self.images[name].lesions[lesion].saved_revision = revision

    def save(self) -> None:
        """Snapshot and write now (in the calling thread)."""
        self.write(self.snapshot())

    def save_to(self, location: Path) -> None:
        """Move this session to ``location`` (e.g. when its folder cannot be written any more):
        the masks already saved are copied, every mask in memory written, then the session file.

        Raises:
            SessionError: ``location`` cannot be written either.
        """
        try:
            if self.file.is_file():
                copy_session(self.location, location)
        except OSError as exc:
            raise SessionError(f"{location}: cannot save the review here ({exc.strerror or exc})") from exc
        self.release()
        self.location, self.read_only = location, None
        self.claim()
        for review in self.images.values():
            for item in review.lesions.values():
                item.saved_revision = -1  # written again at the new place
        self.save()
