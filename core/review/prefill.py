"""Prefill a folder's review overnight: every photograph predicted, every lesion adopted.

``lesionlens review FOLDER --prefill`` runs the model on each photograph of the folder and
writes the folder's review session (the app's ``.lesionlens/session.json`` and mask PNGs)
with each lesion adopted at the session's thresholds (the model's defaults for a new
session). The session is saved after every photograph the same way the app journals it,
so an interrupted run loses at most one photograph and the next run goes on where it
stopped. Prefilled lesions are marked ``prefilled``: until a person edits, adopts or
rates them they count as not looked at (marking the photograph reviewed asks about them,
and exports say "prefilled by the model, not reviewed").
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from core.errors import LesionLensError
from core.imaging.io import list_images
from core.inference.predictor import InferenceProgress, run_to_end
from core.lesions import LESIONS
from core.review.editable_mask import EditableMask
from core.review.engine import ReviewEngine
from core.review.session import ReviewSession, now
from core.review.session_export import session_thresholds

log = logging.getLogger(__name__)


@dataclass
class PrefillReport:
    """What a prefill run did (file names inside the folder)."""

    prefilled: list[str] = field(default_factory=list)
    already_done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def prefill_folder(
    folder: Path,
    engine: ReviewEngine,
    on_image: Callable[[int, int, Path], None] | None = None,
    on_progress: Callable[[Path, InferenceProgress], None] | None = None,
) -> PrefillReport:
    """Predict every photograph of ``folder`` and adopt each lesion not adopted yet.

    Args:
        folder: the photographs' folder (its session is created or continued).
        engine: model and prediction cache (cached predictions are reused).
        on_image: called (index, count, path) before each photograph.
        on_progress: per-tile progress of the photograph being predicted.

    Raises:
        LesionLensError: no photographs, an unreadable session, or a session reviewed with
            another model (prefilling would mix two models in one review).
    """
    folder = Path(folder).resolve()
    photos = list_images(folder)
    if not photos:
        raise LesionLensError(f"{folder}: no photographs to prefill; give the folder of the images")
    session = ReviewSession.open(folder, lock=True)
    if session.read_only is not None:
        raise LesionLensError(f"{folder}: {session.read_only}; prefill once that review is closed")
    try:
        return _prefill_photos(session, photos, engine, on_image, on_progress)
    finally:
        session.release()


def _prefill_photos(
    session: ReviewSession,
    photos: list[Path],
    engine: ReviewEngine,
    on_image: Callable[[int, int, Path], None] | None,
    on_progress: Callable[[Path, InferenceProgress], None] | None,
) -> PrefillReport:
    recorded = session.model.get("sha256")
    if recorded and recorded != engine.loaded.sha256:
        raise LesionLensError(
            f"{session.file}: this folder is reviewed with model {session.model.get('name')} "
            f"({recorded[:12]}), not {engine.loaded.meta.name}; prefill with --model set to that model"
        )
    session.model = engine.provenance()
    session.thresholds = session_thresholds(session, engine.default_thresholds)
    report = PrefillReport()
    for index, path in enumerate(photos):
        if on_image is not None:
            on_image(index, len(photos), path)
        review = session.image(path.name)
        todo = [lesion for lesion in LESIONS if not review.lesions[lesion].adopted]
        if not todo:
            report.already_done.append(path.name)
            continue
        try:
            tiles = partial(on_progress, path) if on_progress is not None else None
            analysis = run_to_end(engine.iter_analyse(path), tiles)
        except LesionLensError as exc:
            report.failed[path.name] = str(exc)
            log.error("%s", exc)
            continue
        review.digest = analysis.digest
        prediction = analysis.prediction
        assert prediction is not None, "iter_analyse returns a predicted photograph"
        for lesion in todo:
            item = review.lesions[lesion]
            item.mask = EditableMask.adopt(prediction[lesion], session.thresholds[lesion])
            item.mask.revision += 1  # not saved yet
            item.adopted_threshold, item.updated, item.prefilled = session.thresholds[lesion], now(), True
        session.save()  # journaled photograph by photograph: an interrupted run resumes here
        for lesion in todo:
            review.lesions[lesion].mask = None  # on disk now; loaded again when a reviewer opens it
        report.prefilled.append(path.name)
        log.info("prefilled %s (%d of %d)", path.name, index + 1, len(photos))
    return report
