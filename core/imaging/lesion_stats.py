"""Counts and areas of lesions at a threshold (connected components)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.imaging.fov import FovCrop
from core.imaging.probability_maps import probability_to_level


@dataclass(frozen=True)
class LesionStats:
    """One lesion map at one threshold.

    Attributes:
        count: connected components (8-connectivity) of ``probability >= threshold``.
        area_px: lesion pixels.
        area_fraction: lesion pixels / field-of-view pixels (0..1).
        largest_px: pixels of the largest component (0 without any).
    """

    count: int
    area_px: int
    area_fraction: float
    largest_px: int


def lesion_stats(probability: np.ndarray, threshold: float, fov: FovCrop) -> LesionStats:
    """Components and area of one H x W uint8 map at ``threshold`` (0..1), within the field of view.

    Only the field-of-view box is labelled (the map is zero outside the field of view).
    """
    level = probability_to_level(threshold)
    return mask_stats(fov.crop(probability) >= level, int(np.count_nonzero(fov.mask)))


def mask_stats(mask: np.ndarray, fov_pixels: int) -> LesionStats:
    """Components (8-connected) and area of an H x W bool mask; ``fov_pixels`` for the fraction."""
    fov_pixels = fov_pixels or 1
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    area = int(areas.sum())
    return LesionStats(
        count=int(count - 1),
        area_px=area,
        area_fraction=area / fov_pixels,
        largest_px=int(areas.max()) if areas.size else 0,
    )
