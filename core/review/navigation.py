"""Where to look next: lesion components one by one, and regions where the model's heads disagree."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.imaging.probability_maps import probability_to_level

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Region:
    """A place in the photograph.

    Attributes:
        box: half-open (y0, x0, y1, x1).
        centre: (y, x) of a pixel inside the region (its centroid, or the nearest region pixel).
        pixels: area in pixels.
        score: how much attention it deserves (for uncertainty: the summed disagreement).
    """

    box: Box
    centre: tuple[int, int]
    pixels: int
    score: float


def _regions(mask: np.ndarray, weights: np.ndarray | None = None) -> list[Region]:
    count, labels, stats, centroids = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return []
    scores = (
        np.bincount(labels.ravel(), weights=weights.ravel().astype(np.float64), minlength=count)
        if weights is not None
        else stats[:, cv2.CC_STAT_AREA].astype(np.float64)
    )
    regions = []
    for label in range(1, count):
        left, top, width, height, area = (int(v) for v in stats[label])
        cy, cx = (round(float(c)) for c in centroids[label][::-1])
        if labels[cy, cx] != label:  # a ring or crescent: use one of its own pixels instead
            ys, xs = np.nonzero(labels[top : top + height, left : left + width] == label)
            cy, cx = top + int(ys[len(ys) // 2]), left + int(xs[len(xs) // 2])
        regions.append(Region((top, left, top + height, left + width), (cy, cx), area, float(scores[label])))
    return regions


def lesion_components(mask: np.ndarray, band: int = 256) -> list[Region]:
    """The 8-connected components of an H x W bool mask, in reading order (bands of ``band`` rows)."""
    regions = _regions(mask)
    return sorted(regions, key=lambda r: (r.box[0] // band, r.box[1]))


def uncertain_regions(spread: np.ndarray, threshold: float = 0.25, limit: int = 500) -> list[Region]:
    """Regions where the heads disagree by at least ``threshold`` (0..1), most uncertain first.

    Args:
        spread: H x W uint8 disagreement map (``LesionProbabilities.spread``).
        threshold: minimum disagreement that counts.
        limit: at most this many regions (the most uncertain).

    Returns:
        Regions sorted by summed disagreement, largest first.
    """
    mask = spread >= probability_to_level(threshold)
    regions = _regions(mask, np.where(mask, spread, 0))
    return sorted(regions, key=lambda r: -r.score)[:limit]


def next_index(count: int, current: int | None, step: int = 1) -> int | None:
    """The next position in a list of ``count`` items, wrapping around; None for an empty list."""
    if count == 0:
        return None
    if current is None:
        return 0 if step > 0 else count - 1
    return (current + step) % count
