"""What the review app needs for one photograph, without any GUI: the image, its
prediction (cached on disk), its ground truth and the pixel histograms of its PR curves.

The app runs these functions in worker threads and only displays their results.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.config import InferenceConfig, head_choice
from core.data.ground_truth import GroundTruthSource, find_ground_truth, load_ground_truth
from core.imaging.io import read_image
from core.imaging.probability_maps import LesionProbabilities
from core.inference.prediction_cache import PredictionCache, cache_key, file_digest
from core.inference.predictor import InferenceProgress, Predictor, model_tiling
from core.lesions import LESIONS, Lesion
from core.network.backends import chosen_backend, compute_settings, load_for_inference, resolve_backend
from core.network.model_file import LoadedModel
from core.scoring.metrics import PRAccumulator

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImageAnalysis:
    """One photograph as the reviewer sees it.

    Attributes:
        path: the photograph's file.
        image: H x W x 3 uint8 RGB.
        digest: sha256 of the file's bytes (identifies it in the prediction cache).
        prediction: lesion probabilities, or None before inference.
        from_cache: the prediction was read from the cache, not computed now.
        truth_source: where the ground truth came from, or None.
        truth: per lesion H x W bool masks, or None without ground truth.
        scores: pixel histograms (prediction vs truth in the field of view), or None
            unless both exist.
    """

    path: Path
    image: np.ndarray
    digest: str
    prediction: LesionProbabilities | None = None
    from_cache: bool = False
    truth_source: GroundTruthSource | None = None
    truth: dict[Lesion, np.ndarray] | None = None
    scores: PRAccumulator | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(H, W)."""
        return self.image.shape[:2]


def score(prediction: LesionProbabilities, truth: dict[Lesion, np.ndarray]) -> PRAccumulator:
    """Histograms of one image's prediction against its truth, inside the field of view."""
    scores = PRAccumulator(LESIONS)
    scores.add(prediction.probs, truth, valid=prediction.fov.mask)
    return scores


def combine(scores: list[PRAccumulator]) -> PRAccumulator:
    """All pixels of several images pooled (the IDRiD way)."""
    total = PRAccumulator(LESIONS)
    for item in scores:
        total.merge(item)
    return total


def with_truth(analysis: ImageAnalysis, source: GroundTruthSource | None) -> ImageAnalysis:
    """The analysis with this ground truth (None removes it) and updated scores."""
    truth = load_ground_truth(source, analysis.shape) if source is not None else None
    scores = score(analysis.prediction, truth) if truth and analysis.prediction else None
    return replace(analysis, truth_source=source, truth=truth, scores=scores)


def open_without_model(
    path: str | os.PathLike[str], truth_source: GroundTruthSource | None = None
) -> ImageAnalysis:
    """Read a photograph and its ground truth when no model is available."""
    path = Path(path)
    analysis = ImageAnalysis(path, read_image(path), file_digest(path))
    return with_truth(analysis, truth_source or find_ground_truth(path))


class ReviewEngine:
    """The model, its inference settings and the prediction cache, for one review session.

    Args:
        model_path: a LesionLens ``.safetensors`` model.
        cache: the prediction cache (default folder when None).
        device: ``auto``, ``cpu``, ``cuda``...
        backend: ``auto``, ``torch`` or ``openvino`` (None: the user's setting, see
            :func:`core.network.backends.backend_setting`).
        flip_tta: also predict every tile mirrored and average (twice the network time, better
            maps: docs/training/README.md); None: as the model's thresholds were chosen
            (``inference_flip_tta`` in the model file).
    """

    def __init__(
        self,
        model_path: str | os.PathLike[str],
        cache: PredictionCache | None = None,
        device: str = "auto",
        backend: str | None = None,
        flip_tta: bool | None = None,
    ) -> None:
        self.loaded: LoadedModel = load_for_inference(model_path, device, chosen_backend(backend))
        meta = self.loaded.meta
        config = InferenceConfig(
            tiling=model_tiling(meta),
            device=device,
            head=head_choice(meta.default_head),
            backend=chosen_backend(backend),
            flip_tta=meta.uses_flip_tta(flip_tta),
        )
        # the resolved backend is part of the cache key: the backends' maps differ slightly
        self.config = replace(config, backend=resolve_backend(config))
        self._compute = compute_settings(self.config)
        self.cache = cache or PredictionCache()
        self._predictor: Predictor | None = None

    @property
    def default_thresholds(self) -> dict[Lesion, float]:
        """Per lesion, the model's recommended threshold (0.5 where it has none)."""
        return self.loaded.meta.thresholds()

    def provenance(self) -> dict[str, object]:
        """What made this engine's maps, for review sessions and exports: the model file and
        the inference settings that change the maps (head, mirrored tiles, backend, device and
        number format)."""
        return {
            **self.loaded.provenance(),
            "path": str(self.loaded.path),
            "head": self.config.head,
            "flip_tta": self.config.flip_tta,
            **self._compute,
        }

    def _key(self, digest: str) -> str:
        return cache_key(digest, self.loaded.sha256, self.config)

    def open(
        self, path: str | os.PathLike[str], truth_source: GroundTruthSource | None = None
    ) -> ImageAnalysis:
        """Read a photograph, its cached prediction (if any) and its ground truth (found or given).

        Raises:
            ImageReadError: the photograph or one of its masks cannot be used.
        """
        path = Path(path)
        image = read_image(path)
        digest = file_digest(path)
        prediction = self.cache.load(self._key(digest), expected_shape=image.shape[:2])
        analysis = ImageAnalysis(path, image, digest, prediction, from_cache=prediction is not None)
        return with_truth(analysis, truth_source or find_ground_truth(path))

    def iter_analyse(
        self, path: str | os.PathLike[str], truth_source: GroundTruthSource | None = None, store: bool = True
    ) -> Generator[InferenceProgress, None, ImageAnalysis]:
        """Open a photograph and predict it unless the cache already holds its prediction."""
        analysis = self.open(path, truth_source)
        if analysis.prediction is not None:
            return analysis
        return (yield from self.iter_predict(analysis, store=store))

    def _ensure_predictor(self) -> Predictor:
        if self._predictor is None:
            self._predictor = Predictor.from_loaded(self.loaded, self.config)
        return self._predictor

    def warm_up(self) -> None:
        """Run the network once on blank tiles in the calling thread, so the first photograph
        predicted there does not pay for the kernels' first-use set-up."""
        predictor = self._ensure_predictor()
        size = self.config.tiling.tile_size
        predictor.predict_tiles(
            np.zeros((predictor.batch_size, size, size, 3), np.uint8), f"{self.config.head}+spread"
        )

    def iter_predict(
        self, analysis: ImageAnalysis, store: bool = True
    ) -> Generator[InferenceProgress, None, ImageAnalysis]:
        """Predict one photograph (yielding progress), score it and, with ``store``, cache it.

        The app passes ``store=False`` and calls :meth:`store` once the result is on screen
        (writing the cache entry takes about 0.5 s for a 12-Mpx photograph).
        """
        prediction = yield from self._ensure_predictor().iter_predict(analysis.image, spread=True)
        scores = score(prediction, analysis.truth) if analysis.truth else None
        result = replace(analysis, prediction=prediction, from_cache=False, scores=scores)
        if store:
            self.store(result)
        return result

    def store(self, analysis: ImageAnalysis) -> None:
        """Put a predicted photograph in the cache (a full or read-only cache only logs a warning)."""
        if analysis.prediction is None:
            return
        try:
            self.cache.store(self._key(analysis.digest), analysis.prediction)
        except OSError as exc:  # a full or read-only cache must not lose the result
            log.warning("could not cache the prediction of %s: %s", analysis.path, exc)
