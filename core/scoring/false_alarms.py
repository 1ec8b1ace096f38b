"""False alarms far from any lesion: what a reader would see flagged on healthy retina.

In a validation photograph, the field-of-view pixels farther than a margin from every
ground-truth lesion (of any kind) stand in for healthy retina. The share of the field of
view flagged there at a threshold is the false-alarm share the low-false-alarm operating point
is held to (:mod:`core.scoring.thresholds`).
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from core.lesions import LESIONS, Lesion

LEVELS = 256
#: Margin around every lesion, as a share of the field of view's diameter (about 34 px on IDRiD).
MARGIN_FRACTION = 0.01


def far_from_lesions(
    fov_mask: np.ndarray, truth: dict[Lesion, np.ndarray], margin_fraction: float = MARGIN_FRACTION
) -> np.ndarray:
    """H x W bool: inside the field of view and farther than the margin from every lesion.

    Args:
        fov_mask: H x W bool field of view.
        truth: per lesion H x W bool ground truth (missing lesions count as absent).
        margin_fraction: the margin as a share of the field of view's diameter.
    """
    lesions = np.zeros(fov_mask.shape, np.uint8)
    for mask in truth.values():
        lesions |= mask.astype(np.uint8)
    diameter = 2.0 * math.sqrt(float(fov_mask.sum()) / math.pi)
    radius = max(1, round(margin_fraction * diameter))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    near = cv2.dilate(lesions, kernel) > 0
    return np.asarray(fov_mask, bool) & ~near


class FalseAlarmAccumulator:
    """Per lesion, the histogram of probability levels over far-from-lesion pixels, and the
    field-of-view pixels they are a share of. Memory: L x 256 int64."""

    def __init__(self) -> None:
        self.far = np.zeros((len(LESIONS), LEVELS), np.int64)
        self.fov_pixels = 0

    def add(self, probs: np.ndarray, far: np.ndarray, fov_pixels: int) -> None:
        """One photograph: ``probs`` L x H x W uint8 (``LESIONS`` order), ``far`` H x W bool
        (:func:`far_from_lesions`), ``fov_pixels`` its field of view's pixel count."""
        if probs.dtype != np.uint8 or probs.shape[0] != len(LESIONS) or probs.shape[1:] != far.shape:
            raise ValueError(f"expected {len(LESIONS)} x H x W uint8 maps of {far.shape}, got {probs.shape}")
        selector = far.astype(np.uint8)
        for index in range(len(LESIONS)):
            channel = np.ascontiguousarray(probs[index])
            histogram = cv2.calcHist([channel], [0], selector, [LEVELS], [0, LEVELS])
            self.far[index] += histogram.ravel().astype(np.int64)
        self.fov_pixels += int(fov_pixels)

    def merge(self, other: FalseAlarmAccumulator) -> None:
        """Add another accumulator's counts."""
        self.far += other.far
        self.fov_pixels += other.fov_pixels

    def shares(self, lesion: Lesion) -> np.ndarray:
        """256 float64: at index ``level``, the share of the field of view flagged far from any
        lesion by ``probability >= level``."""
        counts = np.cumsum(self.far[LESIONS.index(lesion)][::-1])[::-1].astype(np.float64)
        return counts / self.fov_pixels if self.fov_pixels else np.zeros(LEVELS)
