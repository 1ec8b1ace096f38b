"""Checks of how a model behaves beyond its validation photographs.

- **Simulated other camera**: each validation photograph downscaled to 2196 px wide (its
  field of view then about half IDRiD's diameter, like the second camera a reader tried),
  darkened, cooler in colour and JPEG-recompressed; predicted; the maps resized back to the
  original pixels and scored against the original masks (pooled AUPR, as :mod:`core.scoring.evaluation`).
- **Healthy eye**: scikit-image's normal fundus (``skimage.data.retina()``): the share of
  the field of view flagged as any lesion at the model's default thresholds (target <= 0.1 %),
  and per lesion the largest connected flagged region in pixels: one blob on the fovea is what
  a reader sees, and a share of the field of view can stay small while it grows. The same eye
  through the simulated camera's darkening, colour and JPEG at its own size
  (:func:`healthy_eye_through_camera`): healthy eyes from a darker camera are where false
  alarms were first seen.
- **Field-of-view border false alarms**: in the outer 5 % of the field of view's radius,
  the share of pixels flagged as a lesion at the default thresholds where the ground truth
  has no lesion; next to it the same share in the rest of the field of view, so that a band
  along the edge (a rim share well above the inside's) is told from false alarms anywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from core.data.datasets import Sample
from core.imaging.fov import FovCrop, detect_fov
from core.imaging.lesion_stats import mask_stats
from core.inference.predictor import Predictor
from core.learning.camera_variation import expose, jpeg_roundtrip
from core.lesions import LESIONS, Lesion
from core.scoring.evaluation import HEADS
from core.scoring.metrics import PRAccumulator

log = logging.getLogger(__name__)

SIMULATED_WIDTH = 2196
SIMULATED_GAIN = 0.6
SIMULATED_GAMMA = 1.2
SIMULATED_JPEG_QUALITY = 70
#: Red and blue gains of the simulated camera (cooler than IDRiD's).
SIMULATED_RED_BLUE = (0.9, 1.15)
RIM_FRACTION = 0.05


def simulate_camera(image: np.ndarray, width: int = SIMULATED_WIDTH) -> np.ndarray:
    """Another camera's version of a photograph: smaller, darker, cooler, JPEG-compressed.

    Args:
        image: H x W x 3 uint8 RGB.
        width: output width in pixels (height keeps the aspect ratio).

    Returns:
        h x w x 3 uint8 RGB.
    """
    height = round(image.shape[0] * width / image.shape[1])
    small = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    small = expose(small, SIMULATED_GAIN, SIMULATED_GAMMA, *SIMULATED_RED_BLUE)
    pixels = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return jpeg_roundtrip(pixels, SIMULATED_JPEG_QUALITY)


def _resize_maps(maps: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """C x h x w uint8 -> C x H x W uint8 (bilinear)."""
    return np.stack([cv2.resize(m, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR) for m in maps])


def rim_mask(fov: FovCrop, fraction: float = RIM_FRACTION) -> np.ndarray:
    """H x W bool: field-of-view pixels within ``fraction`` x radius of its edge."""
    radius = max(fov.crop_shape) / 2.0
    inside = fov.crop(fov.mask).astype(np.uint8)
    padded = cv2.copyMakeBorder(inside, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    distance = cv2.distanceTransform(padded, cv2.DIST_L2, 5)[1:-1, 1:-1]
    rim = (distance > 0) & (distance <= fraction * radius)
    return fov.uncrop(rim, fill=False)


@dataclass
class BorderFalseAlarms:
    """Pooled counts in the field of view's outer rim."""

    rim_pixels: int = 0
    flagged_not_lesion: dict[str, int] = field(default_factory=lambda: {"any": 0})
    #: The same counts in the rest of the field of view (inside the rim).
    inside_pixels: int = 0
    inside_flagged_not_lesion: dict[str, int] = field(default_factory=lambda: {"any": 0})

    def add(
        self, probs: np.ndarray, masks: dict[Lesion, np.ndarray], fov: FovCrop, levels: dict[Lesion, int]
    ) -> None:
        """Count one photograph (``probs``: L x H x W uint8; ``levels``: uint8 thresholds)."""
        rim = rim_mask(fov)
        any_truth = np.zeros_like(rim)
        for lesion in LESIONS:
            any_truth |= masks[lesion]
        inside = fov.mask & ~rim
        clean_rim, clean_inside = rim & ~any_truth, inside & ~any_truth
        self.rim_pixels += int(rim.sum())
        self.inside_pixels += int(inside.sum())
        flagged_any = np.zeros_like(rim)
        for index, lesion in enumerate(LESIONS):
            flagged = probs[index] >= levels[lesion]
            flagged_any |= flagged
            for counts, region in (
                (self.flagged_not_lesion, clean_rim),
                (self.inside_flagged_not_lesion, clean_inside),
            ):
                counts[lesion.code] = counts.get(lesion.code, 0) + int((flagged & region).sum())
        self.flagged_not_lesion["any"] += int((flagged_any & clean_rim).sum())
        self.inside_flagged_not_lesion["any"] += int((flagged_any & clean_inside).sum())

    def shares(self) -> dict[str, float]:
        """Per lesion code and ``any``: false-alarm pixels / rim pixels."""
        return {k: v / max(1, self.rim_pixels) for k, v in self.flagged_not_lesion.items()}

    def inside_shares(self) -> dict[str, float]:
        """Per lesion code and ``any``: false-alarm pixels / pixels of the field of view inside the rim."""
        return {k: v / max(1, self.inside_pixels) for k, v in self.inside_flagged_not_lesion.items()}


def _levels(thresholds: dict[Lesion, float]) -> dict[Lesion, int]:
    from core.imaging.probability_maps import probability_to_level

    return {lesion: probability_to_level(t) for lesion, t in thresholds.items()}


def _aupr_table(accumulators: dict[str, PRAccumulator]) -> dict[str, dict[str, float]]:
    table = {}
    for head, acc in accumulators.items():
        row = {lesion.code: acc.aupr(lesion) for lesion in LESIONS}
        row["mAUPR"] = float(np.nanmean(list(row.values())))
        table[head] = row
    return table


def validation_checks(
    predictor: Predictor,
    samples: list[Sample],
    thresholds: dict[Lesion, float],
    head: str,
    on_image: Callable[[int, int, Sample], None] | None = None,
) -> dict[str, Any]:
    """Original and simulated-camera AUPR per head, and FOV-border false alarms, in one pass.

    Args:
        predictor: the model (its ``"all"``-heads output is used).
        samples: validation photographs with masks.
        thresholds: per lesion, the default thresholds (border false alarms).
        head: the head whose maps are used for the border false alarms.
        on_image: progress callback.

    Returns:
        ``{"original": {head: {code: AUPR, "mAUPR": ...}}, "simulated_camera": {...},
        "border_false_alarms": {code: share, "any": share}, "inside_false_alarms": {the same
        inside the rim}, "images": [stems]}``.
    """
    original = {h: PRAccumulator() for h in HEADS}
    simulated = {h: PRAccumulator() for h in HEADS}
    border = BorderFalseAlarms()
    levels = _levels(thresholds)
    for index, sample in enumerate(samples):
        image, masks = sample.load()
        for accumulators, photo in ((original, image), (simulated, simulate_camera(image))):
            heads = predictor.predict_all_heads(photo)
            maps = heads.probs
            if photo.shape[:2] != image.shape[:2]:
                flat = maps.reshape(-1, *maps.shape[2:])
                maps = _resize_maps(flat, image.shape[:2]).reshape(*maps.shape[:2], *image.shape[:2])
            mean = ((maps.astype(np.uint16).sum(axis=0) + 2) // 4).astype(np.uint8)
            for name in HEADS:
                accumulators[name].add(mean if name == "mean" else maps[int(name) - 1], masks)
            if accumulators is original:
                chosen = mean if head == "mean" else maps[int(head) - 1]
                border.add(chosen, masks, heads.fov, levels)
        if on_image is not None:
            on_image(index + 1, len(samples), sample)
    return {
        "images": [s.stem for s in samples],
        "original": _aupr_table(original),
        "simulated_camera": _aupr_table(simulated),
        "border_false_alarms": border.shares(),
        "inside_false_alarms": border.inside_shares(),
        "simulation": {
            "width": SIMULATED_WIDTH,
            "gain": SIMULATED_GAIN,
            "gamma": SIMULATED_GAMMA,
            "red_blue_gains": list(SIMULATED_RED_BLUE),
            "jpeg_quality": SIMULATED_JPEG_QUALITY,
        },
    }


@dataclass(frozen=True)
class FlaggedFindings:
    """What the default thresholds flag on one photograph.

    Attributes:
        share: per lesion code and ``any``, flagged pixels / field-of-view pixels.
        largest_region_px: per lesion code and ``any``, the largest connected flagged region.
    """

    share: dict[str, float]
    largest_region_px: dict[str, int]


def flagged_findings(
    predictor: Predictor, image: np.ndarray, thresholds: dict[Lesion, float]
) -> FlaggedFindings:
    """Share of the field of view flagged at ``thresholds`` and the largest flagged regions.

    Args:
        predictor: the model (its configured head).
        image: H x W x 3 uint8 RGB photograph.
        thresholds: per lesion, probability in 0..1.
    """
    fov = detect_fov(image)
    probs = predictor.predict(image, fov)
    inside = max(1, int(fov.mask.sum()))
    flagged_any = np.zeros(fov.mask.shape, bool)
    share: dict[str, float] = {}
    largest: dict[str, int] = {}
    for lesion in LESIONS:
        flagged = probs.mask(lesion, thresholds[lesion]) & fov.mask
        flagged_any |= flagged
        share[lesion.code], largest[lesion.code] = _share_and_largest(flagged, inside)
    share["any"], largest["any"] = _share_and_largest(flagged_any, inside)
    return FlaggedFindings(share, largest)


def _share_and_largest(flagged: np.ndarray, fov_pixels: int) -> tuple[float, int]:
    """Share of the field of view and largest 8-connected region of an H x W bool mask."""
    stats = mask_stats(flagged, fov_pixels)
    return stats.area_fraction, stats.largest_px


def flagged_share(
    predictor: Predictor, image: np.ndarray, thresholds: dict[Lesion, float]
) -> dict[str, float]:
    """Share of the field of view flagged at ``thresholds``, per lesion code and ``any``."""
    return flagged_findings(predictor, image, thresholds).share


def healthy_eye_through_camera(image: np.ndarray) -> np.ndarray:
    """The healthy eye as the simulated camera would take it, at the photograph's own width.

    The photometric part of :func:`simulate_camera` (darker, gamma, cooler, JPEG quality 70)
    without its downscaling: the normal fundus is already smaller than IDRiD's photographs.

    Args:
        image: H x W x 3 uint8 RGB.

    Returns:
        H x W x 3 uint8 RGB.
    """
    return simulate_camera(image, width=image.shape[1])


def healthy_eye_image() -> np.ndarray:
    """scikit-image's normal fundus photograph (1411 x 1411 x 3 uint8 RGB).

    Raises:
        ImportError: scikit-image is not installed (a development dependency).
    """
    from skimage.data import retina

    return np.ascontiguousarray(retina())
