"""From a review session to exported files: one photograph (the app) or a whole session (the CLI)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from core.errors import LesionLensError
from core.inference.predictor import run_to_end
from core.lesions import LESIONS, Lesion
from core.review.engine import ImageAnalysis, ReviewEngine
from core.review.export import ExportError, ReviewedImage, export_reviews
from core.review.session import SESSION_DIR, SESSION_FILE, LesionReview, ReviewSession, now

log = logging.getLogger(__name__)


SOURCE_EDITED = "reviewed: edited"
SOURCE_ADOPTED = "reviewed: adopted unchanged"
SOURCE_ACCEPTED = "accepted unopened when the photograph was marked reviewed"
SOURCE_PREFILLED = "prefilled by the model, not reviewed"
SOURCE_NOT_REVIEWED = "model at threshold"


def lesion_source(item: LesionReview, edited_pixels: int) -> str:
    """Where an adopted lesion's exported mask came from (the manifest's ``source``)."""
    if edited_pixels > 0:
        return SOURCE_EDITED
    if item.prefilled:
        return SOURCE_PREFILLED
    return SOURCE_ACCEPTED if item.accepted_with_photograph else SOURCE_ADOPTED


def reviewed_image(
    session: ReviewSession, analysis: ImageAnalysis, thresholds: dict[Lesion, float]
) -> ReviewedImage:
    """The photograph's masks as the reviewer left them.

    Adopted lesions give their edited mask; the others the prediction at ``thresholds``.
    ``sources`` says per lesion whether a person looked at it (see :func:`lesion_source`).

    Raises:
        ExportError: a lesion was never adopted and there is no prediction to fall back on.
    """
    name = analysis.path.name
    review = session.image(name)
    masks: dict[Lesion, np.ndarray] = {}
    sources: dict[Lesion, str] = {}
    used: dict[Lesion, float | None] = {}
    edited: dict[Lesion, int] = {}
    for lesion in LESIONS:
        item = review.lesions[lesion]
        mask = session.load_mask(name, lesion, analysis.shape)
        if mask is not None:
            masks[lesion], sources[lesion] = mask.mask(), lesion_source(item, mask.edited_pixels())
            used[lesion], edited[lesion] = item.adopted_threshold, mask.edited_pixels()
        elif analysis.prediction is not None:
            masks[lesion], sources[lesion] = (
                analysis.prediction.mask(lesion, thresholds[lesion]),
                SOURCE_NOT_REVIEWED,
            )
            used[lesion], edited[lesion] = thresholds[lesion], 0
        else:
            raise ExportError(
                f"{analysis.path}: {lesion.code} has neither a reviewed mask nor a prediction; run it first"
            )
    fov_pixels = (
        int(np.count_nonzero(analysis.prediction.fov.mask))
        if analysis.prediction
        else analysis.image.shape[0] * analysis.image.shape[1]
    )
    return ReviewedImage(
        name=name,
        image=analysis.image,
        masks=masks,
        sources=sources,
        thresholds=used,
        edited=edited,
        statuses={lesion: review.lesions[lesion].status.value for lesion in LESIONS},
        status=review.status.value,
        comment=review.comment,
        created=review.created,
        updated=review.updated,
        fov_pixels=fov_pixels,
    )


def session_thresholds(
    session: ReviewSession, defaults: dict[Lesion, float] | None = None
) -> dict[Lesion, float]:
    """The thresholds a session's lesions are shown and exported at (the model's defaults, else
    0.5, where the session has none)."""
    return {lesion: session.thresholds.get(lesion, (defaults or {}).get(lesion, 0.5)) for lesion in LESIONS}


def find_session(path: str | os.PathLike[str]) -> ReviewSession:
    """The session of a photograph folder, its ``.lesionlens`` folder or its ``session.json``.

    Raises:
        LesionLensError: nothing there.
    """
    path = Path(path)
    if path.name == SESSION_FILE:
        path = path.parent
    if path.name == SESSION_DIR:
        path = path.parent
    session = ReviewSession.open(path)
    if not session.file.is_file():
        raise LesionLensError(
            f"{path}: no review session ({session.file} does not exist); "
            "give the folder of the reviewed photographs"
        )
    return session


def export_session(
    session: ReviewSession,
    out_dir: Path,
    engine: ReviewEngine | None,
    fmt: str = "tif",
    overwrite: bool = False,
    everything: bool = False,
    stamp: str | None = None,
) -> list[Path]:
    """Export every started (or, with ``everything``, every) photograph of a session.

    Photographs whose lesions were not all adopted need ``engine`` (its cached or fresh
    prediction at the session's thresholds); its model must be the one the session used.
    ``stamp``: the export's UTC time recorded in every file (default: now).
    """
    if engine is not None and session.model.get("sha256") and engine.loaded.sha256 != session.model["sha256"]:
        used = f"{session.model.get('name')} ({session.model['sha256'][:12]})"
        given = f"{engine.loaded.meta.name} ({engine.loaded.sha256[:12]})"
        raise ExportError(
            f"{session.file}: reviewed with model {used}, not {given}; pass --model with the session's model"
        )
    thresholds = session_thresholds(session, engine.default_thresholds if engine is not None else None)
    items = []
    for name, review in sorted(session.images.items()):
        if not review.started and not everything:
            continue
        path = session.folder / name
        if engine is not None:
            analysis = run_to_end(engine.iter_analyse(path))
        else:
            from core.review.engine import open_without_model

            analysis = open_without_model(path)
        items.append(reviewed_image(session, analysis, thresholds))
        log.info("prepared %s", name)
    if not items:
        raise ExportError(
            f"{session.file}: no reviewed photographs to export: none is in progress, reviewed or flagged "
            "(lesionlens export --all exports every photograph)"
        )
    return export_reviews(items, out_dir, session.model, session.reviewer, stamp or now(), fmt, overwrite)
