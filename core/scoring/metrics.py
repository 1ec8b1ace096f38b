"""Streaming precision-recall statistics from uint8 probability maps.

Per lesion, two 256-bin histograms (positive and negative pixels by probability level)
hold everything the IDRiD-style scores need, so memory does not grow with the number of
images and the result is exact for uint8 maps: the curve equals scikit-learn's
``precision_recall_curve`` on the same quantised scores (tested to 1e-9).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.lesions import LESIONS, Lesion

LEVELS = 256
#: Thresholds of the 11-point variant (probability), as used by M2MRF-style papers.
ELEVEN_THRESHOLDS = tuple(round(0.1 * k, 1) for k in range(11))
#: Default thresholds: the highest threshold whose F1 is within this share of the best F1 (the
#: F1 differences below it are within the noise of 14 validation photographs).
F1_TOLERANCE = 0.02
PRECISE_RULE = (
    f"the highest threshold whose F1 is within {F1_TOLERANCE:.0%} of the best F1 "
    "on the validation photographs"
)


@dataclass(frozen=True)
class PRCurve:
    """A precision-recall curve in scikit-learn's order (increasing threshold).

    Attributes:
        precision, recall: float64 arrays of n + 1 points; the last point is (1, 0).
        thresholds: n uint8 levels (0..255) at which the points are taken (``>=``).
    """

    precision: np.ndarray
    recall: np.ndarray
    thresholds: np.ndarray


@dataclass(frozen=True)
class OperatingPoint:
    """Statistics of one lesion at one threshold."""

    threshold: float
    precision: float
    recall: float
    f1: float
    true_positives: int
    false_positives: int
    false_negatives: int


def mask_operating_point(
    mask: np.ndarray, truth: np.ndarray, valid: np.ndarray, threshold: float | None = None
) -> OperatingPoint:
    """Precision, recall and F1 (= Dice) of a binary mask (an edited one) against the truth.

    Args:
        mask: H x W bool, the reviewed mask.
        truth: H x W bool ground truth.
        valid: H x W bool, the pixels scored (the field of view), as for the curves.
        threshold: recorded in the result (the mask's adoption threshold); NaN when None.
    """
    shown, real = mask & valid, truth & valid
    tp = int(np.count_nonzero(shown & real))
    fp = int(np.count_nonzero(shown & ~real))
    fn = int(np.count_nonzero(~shown & real))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    value = float("nan") if threshold is None else float(threshold)
    return OperatingPoint(value, precision, recall, float(_f1(precision, recall)), tp, fp, fn)


def _f1(precision: np.ndarray | float, recall: np.ndarray | float) -> np.ndarray:
    p, r = np.asarray(precision, float), np.asarray(recall, float)
    out = np.zeros_like(p)
    np.divide(2 * p * r, p + r, out=out, where=(p + r) > 0)
    return out


class PRAccumulator:
    """Pixel histograms per lesion; add images one by one, read scores at the end.

    Memory: 2 x L x 256 int64, whatever the number of pixels.
    """

    def __init__(self, lesions: tuple[Lesion, ...] = LESIONS) -> None:
        self.lesions = lesions
        self.positives = np.zeros((len(lesions), LEVELS), np.int64)
        self.negatives = np.zeros((len(lesions), LEVELS), np.int64)
        self.images = np.zeros(len(lesions), np.int64)  # images in which the lesion is present

    def add(
        self, probs: np.ndarray, truth: dict[Lesion, np.ndarray], valid: np.ndarray | None = None
    ) -> None:
        """Add one image.

        Args:
            probs: L x H x W uint8 maps in ``self.lesions`` order.
            truth: per lesion H x W bool (a missing lesion counts as all negative).
            valid: optional H x W bool; pixels outside are ignored (default: all count).
        """
        if probs.dtype != np.uint8 or probs.shape[0] != len(self.lesions):
            raise ValueError(
                f"expected {len(self.lesions)} x H x W uint8 maps, got {probs.shape} {probs.dtype}"
            )
        valid_u8 = None if valid is None else valid.astype(np.uint8)
        for index, lesion in enumerate(self.lesions):
            channel = np.ascontiguousarray(probs[index])
            total = cv2.calcHist([channel], [0], valid_u8, [LEVELS], [0, LEVELS]).ravel().astype(np.int64)
            mask = truth.get(lesion)
            if mask is None or not mask.any():
                positive = np.zeros(LEVELS, np.int64)
            else:
                if mask.shape != channel.shape:
                    raise ValueError(f"{lesion.code} truth {mask.shape} differs from the map {channel.shape}")
                selector = mask if valid is None else mask & valid
                histogram = cv2.calcHist([channel], [0], selector.astype(np.uint8), [LEVELS], [0, LEVELS])
                positive = histogram.ravel().astype(np.int64)
                self.images[index] += 1
            self.positives[index] += positive
            self.negatives[index] += total - positive

    def merge(self, other: PRAccumulator) -> None:
        """Add another accumulator's counts (e.g. from another process)."""
        self.positives += other.positives
        self.negatives += other.negatives
        self.images += other.images

    def _index(self, lesion: Lesion) -> int:
        return self.lesions.index(lesion)

    def curve(self, lesion: Lesion) -> PRCurve:
        """The precision-recall curve of a lesion (thresholds = levels that occur)."""
        i = self._index(lesion)
        pos, neg = self.positives[i], self.negatives[i]
        present = np.flatnonzero(pos + neg)[::-1]  # occurring levels, high to low
        tps = np.cumsum(pos[::-1])[::-1][present].astype(np.float64)
        fps = np.cumsum(neg[::-1])[::-1][present].astype(np.float64)
        predicted = tps + fps
        precision = np.zeros_like(tps)
        np.divide(tps, predicted, out=precision, where=predicted > 0)
        total_pos = pos.sum()
        recall = tps / total_pos if total_pos > 0 else np.ones_like(tps)
        return PRCurve(
            precision=np.hstack([precision[::-1], 1.0]),
            recall=np.hstack([recall[::-1], 0.0]),
            thresholds=present[::-1].astype(np.uint8),
        )

    def has_positives(self, lesion: Lesion) -> bool:
        """True when at least one pixel of this lesion was seen."""
        return bool(self.positives[self._index(lesion)].sum() > 0)

    def aupr(self, lesion: Lesion) -> float:
        """Area under the PR curve (trapezoid, as ``sklearn.metrics.auc``); NaN without positives."""
        if not self.has_positives(lesion):
            return float("nan")
        c = self.curve(lesion)
        return float(-np.trapezoid(c.precision, c.recall))

    def average_precision(self, lesion: Lesion) -> float:
        """Step-wise area, as ``sklearn.metrics.average_precision_score``; NaN without positives."""
        if not self.has_positives(lesion):
            return float("nan")
        c = self.curve(lesion)
        return float(-np.sum(np.diff(c.recall) * c.precision[:-1]))

    def operating_point(self, lesion: Lesion, threshold: float) -> OperatingPoint:
        """Precision, recall, F1 (= Dice) and counts at ``probability >= threshold``."""
        from core.imaging.probability_maps import probability_to_level

        i = self._index(lesion)
        level = probability_to_level(threshold)
        tp = int(self.positives[i, level:].sum())
        fp = int(self.negatives[i, level:].sum())
        fn = int(self.positives[i, :level].sum())
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        return OperatingPoint(threshold, precision, recall, float(_f1(precision, recall)), tp, fp, fn)

    def _f1_by_occurring_level(self, lesion: Lesion) -> tuple[np.ndarray, np.ndarray]:
        """F1 (float64) at each level that occurs in the maps, and those levels (uint8 scale)."""
        c = self.curve(lesion)
        return _f1(c.precision[:-1], c.recall[:-1]), c.thresholds

    def best_f1(self, lesion: Lesion) -> OperatingPoint:
        """The operating point with the highest F1 (= pixel Dice) over all occurring levels."""
        f1, levels = self._f1_by_occurring_level(lesion)
        if f1.size == 0:
            return self.operating_point(lesion, 0.5)
        return self.operating_point(lesion, float(levels[int(np.argmax(f1))]) / 255.0)

    def precise_f1(self, lesion: Lesion, tolerance: float = F1_TOLERANCE) -> OperatingPoint:
        """The highest threshold whose F1 is within ``tolerance`` (relative) of the best F1.

        The F1 curve of a lesion is often flat over a wide range of thresholds; on that plateau
        a higher threshold marks fewer healthy pixels for the same F1, so this is the default
        operating point (best F1 itself can sit at its low end: haemorrhage 0.18, which marks
        a healthy fovea).
        """
        f1, levels = self._f1_by_occurring_level(lesion)
        if f1.size == 0:
            return self.operating_point(lesion, 0.5)
        near_best = f1 >= (1.0 - tolerance) * float(f1.max())
        return self.operating_point(lesion, float(levels[near_best].max()) / 255.0)

    def threshold_near(self, lesion: Lesion, recall: float, precision: float) -> float | None:
        """Threshold (0..1) of the curve point nearest to (recall, precision); None without points.

        Used when a reader clicks a curve: both axes span 0..1, so plain Euclidean distance.
        """
        c = self.curve(lesion)
        if c.thresholds.size == 0:
            return None
        distance = np.hypot(c.recall[:-1] - recall, c.precision[:-1] - precision)
        return float(c.thresholds[int(np.argmin(distance))]) / 255.0

    def aupr_eleven(self, lesion: Lesion) -> float:
        """AUPR from the 11 thresholds 0, 0.1, ..., 1.0 (trapezoid over recall).

        Our reading of the coarse protocol of M2MRF-style papers: predicted positive =
        probability >= t; precision taken as 1 where nothing is predicted.
        """
        if not self.has_positives(lesion):
            return float("nan")
        points = [self.operating_point(lesion, t) for t in ELEVEN_THRESHOLDS]
        recall = np.array([p.recall for p in points] + [0.0])
        precision = np.array([p.precision for p in points] + [1.0])
        return float(-np.trapezoid(precision, recall))

    def summary(self) -> dict[str, dict[str, float]]:
        """Per lesion code: AUPR, AP, 11-point AUPR, best F1 and its threshold; plus mAUPR."""
        table: dict[str, dict[str, float]] = {}
        for lesion in self.lesions:
            best = self.best_f1(lesion)
            precise = self.precise_f1(lesion)
            table[lesion.code] = {
                "aupr": self.aupr(lesion),
                "ap": self.average_precision(lesion),
                "aupr_11": self.aupr_eleven(lesion),
                "best_f1": best.f1,
                "best_threshold": best.threshold,
                "precise_f1": precise.f1,
                "precise_threshold": precise.threshold,
                "images_with_lesion": int(self.images[self._index(lesion)]),
            }
        values = [table[lesion.code]["aupr"] for lesion in self.lesions]
        table["mean"] = {"aupr": float(np.nanmean(values)) if not np.all(np.isnan(values)) else float("nan")}
        return table
