"""Photographs as another camera would have taken them, for training tiles.

Tile-level augmentation (:mod:`core.learning.augment`) changes a 64-px tile after the
preprocessing, which is not how another camera differs: its photograph is smaller, darker,
differently coloured and JPEG-compressed *before* the field of view is cut out, resized and
illumination-normalised. :func:`vary_camera` degrades the whole photograph that way, with
every setting drawn at random from :class:`CameraVariation`'s ranges, and returns it at its
original size so that the lesion masks still fit pixel for pixel. The training tile cache
(``TileCacheConfig.camera_share``) cuts a share of each photograph's tiles from such a copy.

The ranges are a family of cameras around IDRiD's, chosen from what fundus cameras differ
in (sensor width 1,700-4,300 px, exposure, gamma, white balance, compression), not fitted
to the validation checks.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CameraVariation:
    """Ranges of the random camera (each drawn uniformly).

    Attributes:
        width_scale: photograph width relative to the original (the image is shrunk and
            enlarged back, losing the detail a smaller sensor never had).
        gain: exposure factor on the 0..1 intensities.
        gamma: exponent on the 0..1 intensities (> 1 darkens the mid-tones).
        red_gain, blue_gain: white balance.
        blur_sigma: Gaussian blur at the small size in pixels (a softer lens), on half the copies.
        jpeg_quality: JPEG quality of the recompression.
    """

    width_scale: tuple[float, float] = (0.4, 1.0)
    gain: tuple[float, float] = (0.5, 1.1)
    gamma: tuple[float, float] = (0.8, 1.4)
    red_gain: tuple[float, float] = (0.85, 1.1)
    blue_gain: tuple[float, float] = (0.9, 1.25)
    blur_sigma: tuple[float, float] = (0.0, 1.0)
    jpeg_quality: tuple[int, int] = (50, 95)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """H x W x 3 uint8 RGB encoded as JPEG at ``quality`` and decoded again."""
    ok, encoded = cv2.imencode(
        ".jpg", np.ascontiguousarray(image[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR) if ok else None
    if decoded is None:  # pragma: no cover - OpenCV always encodes and decodes a uint8 image
        return image
    return np.ascontiguousarray(decoded[..., ::-1])


def expose(pixels: np.ndarray, gain: float, gamma: float, red_gain: float, blue_gain: float) -> np.ndarray:
    """Another camera's exposure, gamma and white balance.

    Args:
        pixels: H x W x 3 float32 RGB in 0..1.

    Returns:
        H x W x 3 float32 ``gain * pixels ** gamma`` with red and blue scaled (not clipped).
    """
    out = gain * pixels**gamma
    out[..., 0] *= red_gain
    out[..., 2] *= blue_gain
    return out


def _draw(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def vary_camera(
    image: np.ndarray, rng: np.random.Generator, variation: CameraVariation = CameraVariation()
) -> np.ndarray:
    """One random other camera's version of a photograph, at the photograph's size.

    Args:
        image: H x W x 3 uint8 RGB.
        rng: source of the camera's settings.
        variation: the ranges the settings are drawn from.

    Returns:
        H x W x 3 uint8 RGB: shrunk to the drawn width, exposed, gamma- and colour-shifted,
        maybe blurred, JPEG-recompressed at that width, and enlarged back.
    """
    height, width = image.shape[:2]
    scale = _draw(rng, variation.width_scale)
    small_size = (max(8, round(width * scale)), max(8, round(height * scale)))
    small = cv2.resize(image, small_size, interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    small = expose(
        small,
        gain=_draw(rng, variation.gain),
        gamma=_draw(rng, variation.gamma),
        red_gain=_draw(rng, variation.red_gain),
        blue_gain=_draw(rng, variation.blue_gain),
    )
    if rng.random() < 0.5:
        sigma = _draw(rng, variation.blur_sigma)
        if sigma > 0.05:
            small = np.asarray(cv2.GaussianBlur(small, (0, 0), sigma), np.float32)
    pixels = np.clip(small * 255.0 + 0.5, 0, 255).astype(np.uint8)
    quality = int(rng.integers(variation.jpeg_quality[0], variation.jpeg_quality[1] + 1))
    pixels = jpeg_roundtrip(pixels, quality)
    return cv2.resize(pixels, (width, height), interpolation=cv2.INTER_LINEAR)
