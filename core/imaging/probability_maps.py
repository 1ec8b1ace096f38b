"""Probability maps as the engine hands them around: per lesion, per head, as uint8.

numpy only: the map helpers (display, statistics, navigation, editing, metrics) use
these without loading the network or torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.imaging.fov import FovCrop
from core.lesions import LESIONS, Lesion


@dataclass(frozen=True)
class LesionProbabilities:
    """Per-lesion probabilities at the photograph's original size.

    Attributes:
        probs: L x H x W uint8 (0..255 = probability 0..1), order ``LESIONS``; zero
            outside the field of view.
        fov: the field of view (box and mask) the prediction was made in.
        tiles_run: how many tiles went through the network.
        spread: optional H x W uint8 (0..255 = 0..1): how much the four deep-supervision
            heads disagree, the largest range over the lesions; a map of where to look twice.
    """

    probs: np.ndarray
    fov: FovCrop
    tiles_run: int = 0
    spread: np.ndarray | None = None

    def __getitem__(self, lesion: Lesion) -> np.ndarray:
        """H x W uint8 map of one lesion."""
        return self.probs[LESIONS.index(lesion)]

    def as_float(self, lesion: Lesion) -> np.ndarray:
        """H x W float32 probabilities in 0..1."""
        return self[lesion].astype(np.float32) / 255.0

    def mask(self, lesion: Lesion, threshold: float) -> np.ndarray:
        """H x W bool: probability >= threshold (threshold in 0..1)."""
        return self[lesion] >= probability_to_level(threshold)

    def at(self, y: int, x: int) -> dict[Lesion, float] | None:
        """Per lesion, the probability (0..1) at pixel (y, x); None outside the image."""
        height, width = self.probs.shape[1:]
        if not (0 <= y < height and 0 <= x < width):
            return None
        return {lesion: float(self.probs[i, y, x]) / 255.0 for i, lesion in enumerate(LESIONS)}


@dataclass(frozen=True)
class HeadProbabilities:
    """All four deep-supervision outputs at once (for validation and evaluation).

    Attributes:
        probs: 4 x L x H x W uint8, heads 1..4, lesions in ``LESIONS`` order.
        fov: the field of view.
        tiles_run: tiles that went through the network.
    """

    probs: np.ndarray
    fov: FovCrop
    tiles_run: int = 0

    def head(self, number: int) -> LesionProbabilities:
        """Head ``number`` (1..4) as :class:`LesionProbabilities`."""
        return LesionProbabilities(self.probs[number - 1], self.fov, self.tiles_run)

    def mean(self) -> LesionProbabilities:
        """Mean of the four heads' probabilities."""
        mean = (self.probs.astype(np.uint16).sum(axis=0) + 2) // 4
        return LesionProbabilities(mean.astype(np.uint8), self.fov, self.tiles_run)


def probability_to_level(threshold: float) -> int:
    """The uint8 level (the map's 1/255 step) nearest a 0..1 probability threshold, for ``>=``
    comparisons with the maps.

    Nearest, not the next step up: a threshold as the window, sidecars' readers and model cards
    write it (three decimals, e.g. 0.918 for step 234 = 0.91765) names that very step again, so
    a value read off the slider and typed into ``predict --thresholds`` gives the same mask.
    """
    return int(np.clip(np.floor(threshold * 255.0 + 0.5), 0, 255))
