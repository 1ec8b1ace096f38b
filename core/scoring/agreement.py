"""Agreement between two readers' masks: Dice per lesion, per image and pooled."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.lesions import LESIONS, Lesion


@dataclass(frozen=True)
class Overlap:
    """Pixel counts of two masks of one lesion (one image, or several pooled)."""

    both: int = 0
    first: int = 0
    second: int = 0

    @property
    def dice(self) -> float:
        """2|A and B| / (|A| + |B|); NaN when both are empty (nothing to agree on)."""
        total = self.first + self.second
        return 2 * self.both / total if total else math.nan

    def __add__(self, other: Overlap) -> Overlap:
        return Overlap(self.both + other.both, self.first + other.first, self.second + other.second)


def overlap(first: np.ndarray, second: np.ndarray) -> Overlap:
    """Counts of two H x W bool masks."""
    if first.shape != second.shape:
        raise ValueError(f"masks of different sizes: {first.shape} and {second.shape}")
    return Overlap(
        int(np.count_nonzero(first & second)), int(np.count_nonzero(first)), int(np.count_nonzero(second))
    )


@dataclass
class Agreement:
    """Per image and lesion overlaps of two readers, and their pooled totals."""

    images: dict[str, dict[Lesion, Overlap]]

    def add(self, name: str, first: dict[Lesion, np.ndarray], second: dict[Lesion, np.ndarray]) -> None:
        """Add one image (a lesion missing on one side counts as empty there)."""
        shape = next(iter({**first, **second}.values())).shape
        empty = np.zeros(shape, bool)
        self.images[name] = {
            lesion: overlap(first.get(lesion, empty), second.get(lesion, empty)) for lesion in LESIONS
        }

    def pooled(self, lesion: Lesion) -> Overlap:
        """All images' pixels of one lesion together."""
        total = Overlap()
        for row in self.images.values():
            total = total + row[lesion]
        return total

    def overall(self) -> Overlap:
        """Every lesion of every image together."""
        total = Overlap()
        for lesion in LESIONS:
            total = total + self.pooled(lesion)
        return total

    def image_dice(self, name: str) -> float:
        """Dice of one image over all lesions together."""
        total = Overlap()
        for item in self.images[name].values():
            total = total + item
        return total.dice
