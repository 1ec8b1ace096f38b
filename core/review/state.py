"""The one owner of what the reader sees and what will be exported, for the photograph on screen.

Qt-free. Per lesion it holds the layer (visibility, colour, opacity), the folder session's
threshold and, once adopted, the editable mask; the shown mask, its counts and its
operating point always come from here, so the screen and the export cannot disagree.
Widgets never keep copies: they call the ``set_*`` methods and redraw when a listener
(:meth:`ReviewState.subscribe`) is told what changed.

Rules a clinic can rely on:

* Thresholds belong to a folder's review session (recorded in its ``session.json``); a
  new folder starts at the model's defaults. Every photograph of a folder is shown at
  the folder's thresholds.
* Once a lesion is adopted on a photograph, its edited mask is what is shown, counted,
  scored and exported; the threshold no longer changes it (re-adopting does, undoably).
* A photograph is "reviewed" only when every lesion is: marking it reviewed adopts the
  lesions nobody opened at the thresholds on screen (after the app asked) and records
  that they were accepted that way.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

import numpy as np

from core.imaging.lesion_stats import LesionStats, mask_stats
from core.lesions import LESIONS, Lesion
from core.review.display import threshold_text
from core.review.editable_mask import EditableMask
from core.review.session import ImageReview, ReviewSession, ReviewStatus, now
from core.review.session_export import session_thresholds
from core.scoring.metrics import OperatingPoint, mask_operating_point

if TYPE_CHECKING:
    from core.review.engine import ImageAnalysis

Rgb = tuple[int, int, int]
# Thresholds the sliders offer: level 2..254 of 255 (see core.review.display.MIN_THRESHOLD_LEVEL).
THRESHOLD_RANGE = (2 / 255, 254 / 255)


class Change(Enum):
    """What a listener is told about (with the lesion concerned, or None for all)."""

    LAYER = "visibility, colour or opacity"
    THRESHOLD = "threshold"
    MASK = "adopted or edited mask"
    RECORD = "statuses or comment"
    PHOTOGRAPH = "another photograph, or none"


Listener = Callable[[Change, "Lesion | None"], None]


@dataclass
class Layer:
    """How one lesion is drawn: visible or not, RGB 0..255 colour, opacity 0..1."""

    visible: bool
    colour: Rgb
    opacity: float


def checked_threshold(value: float) -> float:
    """A threshold the sliders can show, or ValueError for NaN / inf / non-numbers."""
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"threshold {value!r} is not a finite number")
    low, high = THRESHOLD_RANGE
    return min(max(value, low), high)


class ReviewState:
    """Layers, thresholds, the record and the masks of the photograph on screen.

    Args:
        defaults: the model's threshold per lesion (0..1).
        layers: the initial layer of each lesion.
    """

    def __init__(self, defaults: dict[Lesion, float], layers: dict[Lesion, Layer]) -> None:
        self.defaults = {lesion: checked_threshold(defaults.get(lesion, 0.5)) for lesion in LESIONS}
        self.layers = layers
        self.thresholds = dict(self.defaults)
        self.session: ReviewSession | None = None
        self.name: str | None = None
        self.analysis: ImageAnalysis | None = None
        self._listeners: list[Listener] = []

    # listeners ----------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(change, lesion)`` after every change."""
        self._listeners.append(listener)

    def _emit(self, change: Change, lesion: Lesion | None = None) -> None:
        for listener in self._listeners:
            listener(change, lesion)

    # the photograph -----------------------------------------------------------------
    def show(self, session: ReviewSession | None, analysis: ImageAnalysis | None) -> None:
        """Bind the photograph on screen (None: nothing usable is shown, no record is open).

        The thresholds become the session's (the model's defaults where it has none).
        """
        self.analysis = analysis
        self.session = session if analysis is not None else None
        self.name = analysis.path.name if analysis is not None and session is not None else None
        if self.session is not None:
            stored = session_thresholds(self.session, self.defaults)
            self.thresholds = {lesion: checked_threshold(value) for lesion, value in stored.items()}
            self.session.thresholds = dict(self.thresholds)
        self._emit(Change.PHOTOGRAPH)

    def update_analysis(self, analysis: ImageAnalysis) -> None:
        """Same photograph, new prediction or ground truth."""
        self.analysis = analysis
        self._emit(Change.PHOTOGRAPH)

    @property
    def review(self) -> ImageReview | None:
        """The record of the photograph on screen (None when none is open)."""
        if self.session is None or self.name is None:
            return None
        return self.session.image(self.name)

    # layers -------------------------------------------------------------------------
    def set_visible(self, lesion: Lesion, visible: bool) -> None:
        if self.layers[lesion].visible != visible:
            self.layers[lesion].visible = visible
            self._emit(Change.LAYER, lesion)

    def set_all_visible(self, visible: bool) -> None:
        """Show or hide every overlay (the View menu's O)."""
        for lesion in LESIONS:
            self.set_visible(lesion, visible)

    @property
    def any_visible(self) -> bool:
        return any(layer.visible for layer in self.layers.values())

    def set_colour(self, lesion: Lesion, colour: Rgb) -> None:
        self.layers[lesion].colour = tuple(int(c) for c in colour)  # type: ignore[assignment]
        self._emit(Change.LAYER, lesion)

    def set_opacity(self, lesion: Lesion, opacity: float) -> None:
        self.layers[lesion].opacity = min(max(float(opacity), 0.0), 1.0)
        self._emit(Change.LAYER, lesion)

    # thresholds ---------------------------------------------------------------------
    def set_threshold(self, lesion: Lesion, value: float) -> None:
        """The folder's threshold of one lesion (clamped to the slider's range)."""
        value = checked_threshold(value)
        if value == self.thresholds[lesion]:
            return
        self.thresholds[lesion] = value
        if self.session is not None:
            self.session.thresholds[lesion] = value
        self._emit(Change.THRESHOLD, lesion)

    def reset_thresholds(self) -> None:
        """Back to the model's defaults (for the folder on screen)."""
        for lesion, value in self.defaults.items():
            self.set_threshold(lesion, value)

    def is_default(self, lesion: Lesion) -> bool:
        """True when the threshold is the model's (within one slider step)."""
        return abs(self.thresholds[lesion] - self.defaults[lesion]) < 0.5 / 255

    # masks --------------------------------------------------------------------------
    def mask(self, lesion: Lesion) -> EditableMask | None:
        """The adopted, editable mask of ``lesion`` on this photograph (None before adopting)."""
        review = self.review
        return review.lesions[lesion].mask if review is not None else None

    def adopted_threshold(self, lesion: Lesion) -> float | None:
        review = self.review
        if review is None or review.lesions[lesion].mask is None:
            return None
        return review.lesions[lesion].adopted_threshold

    def shown_mask(self, lesion: Lesion) -> np.ndarray | None:
        """H x W bool: exactly what is drawn and what an export writes (None before a prediction)."""
        mask = self.mask(lesion)
        if mask is not None:
            return mask.mask()
        analysis = self.analysis
        if analysis is None or analysis.prediction is None:
            return None
        return analysis.prediction.mask(lesion, self.thresholds[lesion])

    def stats(self, lesion: Lesion) -> LesionStats | None:
        """Components and area of :meth:`shown_mask` (as the export's manifest counts them)."""
        shown, analysis = self.shown_mask(lesion), self.analysis
        if shown is None or analysis is None or analysis.prediction is None:
            return None
        return mask_stats(shown, int(np.count_nonzero(analysis.prediction.fov.mask)))

    def edited_point(self, lesion: Lesion) -> OperatingPoint | None:
        """Precision / recall / Dice of an adopted mask against the ground truth (None otherwise)."""
        mask, analysis = self.mask(lesion), self.analysis
        if mask is None or analysis is None or analysis.truth is None or analysis.prediction is None:
            return None
        return mask_operating_point(
            mask.mask(), analysis.truth[lesion], analysis.prediction.fov.mask, self.adopted_threshold(lesion)
        )

    def adopt(self, lesion: Lesion) -> EditableMask | None:
        """The prediction at the folder's threshold becomes the editable mask (undoable if one exists).

        Returns None when there is no photograph record or no prediction yet.
        """
        review, analysis = self.review, self.analysis
        if review is None or analysis is None or analysis.prediction is None:
            return None
        review.digest = analysis.digest
        item = review.lesions[lesion]
        threshold = self.thresholds[lesion]
        fresh = EditableMask.adopt(analysis.prediction[lesion], threshold)
        if item.mask is None:
            item.mask = fresh
            item.mask.revision += 1  # never saved yet
        else:
            item.mask.replace(fresh.states, f"adopt at {threshold_text(threshold)}")
        item.adopted_threshold, item.updated = threshold, now()
        item.accepted_with_photograph = item.prefilled = False
        if item.status is ReviewStatus.NOT_STARTED:
            item.status = ReviewStatus.IN_PROGRESS
        review.touch()
        self._emit(Change.MASK, lesion)
        return item.mask

    def mask_edited(self, lesion: Lesion) -> None:
        """An edit of the adopted mask finished (counts and scores are recomputed)."""
        review = self.review
        if review is not None:
            review.lesions[lesion].updated = now()
            review.lesions[lesion].prefilled = False
            review.touch()
        self._emit(Change.MASK, lesion)

    # the record ---------------------------------------------------------------------
    def unopened_lesions(self) -> list[Lesion]:
        """Lesions nobody adopted, edited or gave a status on this photograph (prefilled ones too)."""
        review = self.review
        if review is None:
            return []
        return [
            lesion
            for lesion in LESIONS
            if review.lesions[lesion].prefilled
            or (
                review.lesions[lesion].mask is None
                and review.lesions[lesion].status is ReviewStatus.NOT_STARTED
            )
        ]

    def mark_reviewed(self) -> list[Lesion]:
        """Finish the photograph: every lesion reviewed; those never adopted are adopted at the
        thresholds on screen and recorded as accepted with the photograph.

        Prefilled lesions nobody touched are recorded as accepted with the photograph too.
        Returns the lesions adopted now (empty without a prediction: then nothing changes
        unless every lesion was already adopted).
        """
        review, analysis = self.review, self.analysis
        if review is None:
            return []
        missing = [lesion for lesion in LESIONS if review.lesions[lesion].mask is None]
        if missing and (analysis is None or analysis.prediction is None):
            return []
        accepted = [lesion for lesion in LESIONS if review.lesions[lesion].prefilled]
        for lesion in missing:
            self.adopt(lesion)
        for lesion in [*missing, *accepted]:
            review.lesions[lesion].accepted_with_photograph = True
            review.lesions[lesion].prefilled = False
        stamp = now()
        for item in review.lesions.values():
            item.status, item.updated = ReviewStatus.REVIEWED, stamp
        review.status = ReviewStatus.REVIEWED
        review.note_change(stamp)
        self._emit(Change.RECORD)
        return missing

    def set_image_status(self, status: ReviewStatus) -> bool:
        """Set the photograph's status; REVIEWED goes through :meth:`mark_reviewed`. False: no record."""
        review = self.review
        if review is None:
            return False
        if status is ReviewStatus.REVIEWED:
            self.mark_reviewed()
            return review.status is ReviewStatus.REVIEWED
        review.status = status
        review.note_change()
        self._emit(Change.RECORD)
        return True

    def set_lesion_status(self, lesion: Lesion, status: ReviewStatus) -> bool:
        review = self.review
        if review is None:
            return False
        item = review.lesions[lesion]
        item.status, item.updated, item.prefilled = status, now(), False
        review.touch()
        if status is not ReviewStatus.REVIEWED and review.status is ReviewStatus.REVIEWED:
            review.status = ReviewStatus.IN_PROGRESS  # a photograph is reviewed only when every lesion is
        self._emit(Change.RECORD, lesion)
        return True

    def set_comment(self, text: str) -> bool:
        review = self.review
        if review is None:
            return False
        review.comment = str(text)
        review.note_change()
        self._emit(Change.RECORD)
        return True
