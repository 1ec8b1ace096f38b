"""Camera-independent input: the field of view at one scale, with even illumination and colour.

Photographs from different cameras differ in resolution, field-of-view size, exposure,
vignetting and colour balance. Before tiling (in training and at inference alike) the
field of view is cut out, resized to a fixed diameter (``PreprocessConfig.fov_diameter``)
and, optionally, each colour channel is divided by its smooth background and scaled to a
reference fundus colour. The background is a Gaussian computed by normalised convolution
inside the field of view only, so the black border never darkens the rim (the cause of a
band of false alarms along the edge). Predictions made at the working scale are resized
back to the original crop and put back into the photograph (:func:`restore`).

With ``surround="background"`` the pixels outside the field of view, and a margin of
:data:`SURROUND_MARGIN` pixels round the crop, take the normalised background colour, so the
retina's rim and the sides where the photograph clips the field of view lie inside the
network's tiles next to flat fundus colour instead of a black edge or the end of the image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.config import PreprocessConfig
from core.imaging.fov import FovCrop
from core.lesions import LESIONS, Lesion

#: Median fundus colour (RGB) inside the field of view of IDRiD training photographs; the
#: illumination-normalised image has this background colour whatever the camera.
REFERENCE_RGB = (165.0, 85.0, 20.0)
#: Backgrounds darker than this (0..255) are not amplified further (noise of black areas).
_BACKGROUND_FLOOR = 4.0
#: The background is estimated on a copy this many times smaller (it is smooth anyway).
_BACKGROUND_DOWNSCALE = 8
#: A lesion mask shrunk to the working scale keeps a pixel covered at least this much, so
#: microaneurysms of 2-3 px survive the downscaling.
MASK_COVERAGE = 0.4
#: Pixels of background colour added on each side of the crop (``surround="background"``).
SURROUND_MARGIN = 32
#: With ``surround="background"``, field-of-view pixels this close to its edge (the dark,
#: anti-aliased rim) and pixels still nearly black after normalisation (R+G+B below
#: :data:`_BLACK_LEVEL`, and their anti-aliased fringe: notches of the camera's mask that the
#: convex hull takes in) are filled too; the mask itself is not changed.
_RIM_WIDTH = 2
_BLACK_LEVEL = 60


@dataclass(frozen=True)
class PreparedImage:
    """A photograph's field of view ready for tiling.

    Attributes:
        image: h x w x 3 uint8 RGB at the working scale (0 outside the field of view when
            illumination is normalised).
        mask: h x w bool field of view at the working scale.
        fov: the field of view in the original photograph.
        scale: working size / original size (1.0 at the photograph's own scale).
        margin: pixels added on each side of the resized crop (``surround="background"``);
            ``image`` and ``mask`` include them, :func:`restore` removes them.
    """

    image: np.ndarray
    mask: np.ndarray
    fov: FovCrop
    scale: float
    margin: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        """(h, w) at the working scale."""
        return self.mask.shape[0], self.mask.shape[1]


def working_scale(fov: FovCrop, config: PreprocessConfig) -> float:
    """Resize factor that brings the field of view's diameter to ``config.fov_diameter``."""
    if config.fov_diameter is None:
        return 1.0
    return config.fov_diameter / max(fov.crop_shape)


def _resized_shape(fov: FovCrop, scale: float) -> tuple[int, int]:
    height, width = fov.crop_shape
    return max(1, round(height * scale)), max(1, round(width * scale))


def _resize(array: np.ndarray, shape: tuple[int, int], interpolation: int) -> np.ndarray:
    if array.shape[:2] == shape:
        return array
    return cv2.resize(array, (shape[1], shape[0]), interpolation=interpolation)


def smooth_background(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Per-channel smooth background inside the field of view (normalised convolution).

    Args:
        image: h x w x 3 uint8 or float32.
        mask: h x w bool field of view.
        sigma: Gaussian sigma in pixels.

    Returns:
        h x w x 3 float32 background; outside the field of view, the nearest inside values
        (so the division there is harmless; those pixels are blanked anyway).
    """
    height, width = mask.shape
    factor = _BACKGROUND_DOWNSCALE if min(height, width) >= 16 * _BACKGROUND_DOWNSCALE else 1
    small_shape = (max(1, height // factor), max(1, width // factor))
    weight = _resize(mask.astype(np.float32), small_shape, cv2.INTER_AREA)
    masked = _resize(image.astype(np.float32) * mask[..., None], small_shape, cv2.INTER_AREA)
    small_sigma = max(0.5, sigma / factor)
    numerator = cv2.GaussianBlur(masked, (0, 0), small_sigma, borderType=cv2.BORDER_CONSTANT)
    denominator = cv2.GaussianBlur(weight, (0, 0), small_sigma, borderType=cv2.BORDER_CONSTANT)
    background = numerator / np.maximum(denominator, 1e-3)[..., None]
    return _resize(background, (height, width), cv2.INTER_LINEAR)


def normalise_illumination(image: np.ndarray, mask: np.ndarray, sigma: float) -> np.ndarray:
    """Divide each channel by its smooth background and scale it to :data:`REFERENCE_RGB`.

    Args:
        image: h x w x 3 uint8 RGB.
        mask: h x w bool field of view.
        sigma: background Gaussian sigma in pixels.

    Returns:
        h x w x 3 uint8 RGB; 0 outside the field of view.
    """
    background = smooth_background(image, mask, sigma)
    reference = np.asarray(REFERENCE_RGB, np.float32)
    gain = reference / np.maximum(background, _BACKGROUND_FLOOR)
    out = image.astype(np.float32) * gain
    np.clip(out, 0, 255, out=out)
    out = out.astype(np.uint8)
    out[~mask] = 0
    return out


def prepare(image: np.ndarray, fov: FovCrop, config: PreprocessConfig) -> PreparedImage:
    """Crop, rescale and (optionally) illumination-normalise one photograph.

    Args:
        image: H x W x 3 uint8 RGB photograph.
        fov: its field of view.
        config: target diameter and normalisation.

    Returns:
        The :class:`PreparedImage` to tile.
    """
    scale = working_scale(fov, config)
    shape = _resized_shape(fov, scale)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    cropped = np.ascontiguousarray(fov.crop(image))
    resized = _resize(cropped, shape, interpolation)
    mask = _resize(fov.crop(fov.mask).astype(np.uint8), shape, cv2.INTER_NEAREST).astype(bool)
    if config.illumination:
        sigma = config.background_sigma * max(shape)
        resized = normalise_illumination(resized, mask, sigma)
    if config.surround == "background":
        return _surround_with_background(resized, mask, fov, scale)
    return PreparedImage(resized, mask, fov, scale)


def _surround_with_background(
    image: np.ndarray, mask: np.ndarray, fov: FovCrop, scale: float
) -> PreparedImage:
    """Background colour outside the field of view and in a margin round the crop."""
    colour = tuple(round(value) for value in REFERENCE_RGB)
    kernel = np.ones((2 * _RIM_WIDTH + 1, 2 * _RIM_WIDTH + 1), np.uint8)
    inner = cv2.erode(mask.astype(np.uint8), kernel, borderValue=0).astype(bool)
    nearly_black = (image.astype(np.int16).sum(axis=2) < _BLACK_LEVEL).astype(np.uint8)
    black = cv2.dilate(nearly_black, kernel).astype(bool)
    filled = image.copy()
    filled[~inner | black] = colour
    margin = SURROUND_MARGIN
    padded = cv2.copyMakeBorder(filled, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=colour)
    padded_mask = np.pad(mask, margin, constant_values=False)
    return PreparedImage(padded, padded_mask, fov, scale, margin)


def _pad(array: np.ndarray, margin: int) -> np.ndarray:
    """An h x w bool array with ``margin`` False pixels added on each side."""
    return np.pad(array, margin, constant_values=False) if margin else array


def prepare_masks(masks: dict[Lesion, np.ndarray], prepared: PreparedImage) -> dict[Lesion, np.ndarray]:
    """Lesion masks (H x W bool, original size) cut and resized like the photograph.

    A pixel at the working scale is a lesion when the lesion covers at least
    :data:`MASK_COVERAGE` of it, so that the smallest microaneurysms are not lost.
    """
    fov = prepared.fov
    out: dict[Lesion, np.ndarray] = {}
    for lesion in LESIONS:
        cropped = fov.crop(masks[lesion])
        if prepared.scale == 1.0:
            out[lesion] = _pad(np.ascontiguousarray(cropped), prepared.margin)
            continue
        coverage = _resize(cropped.astype(np.float32), _unpadded_shape(prepared), cv2.INTER_AREA)
        out[lesion] = _pad(coverage >= MASK_COVERAGE, prepared.margin)
    return out


def _unpadded_shape(prepared: PreparedImage) -> tuple[int, int]:
    height, width = prepared.shape
    return height - 2 * prepared.margin, width - 2 * prepared.margin


def restore(levels: np.ndarray, prepared: PreparedImage) -> np.ndarray:
    """Working-scale maps back at the photograph's size.

    Args:
        levels: C x h x w uint8 maps at the working scale (margin included).
        prepared: the preparation they were predicted on.

    Returns:
        C x H x W uint8 at the original size; 0 outside the original field of view.
    """
    margin = prepared.margin
    if margin:
        levels = levels[:, margin:-margin, margin:-margin]
    fov = prepared.fov
    crop_mask = fov.crop(fov.mask)
    crop_shape = fov.crop_shape
    channels = np.empty((levels.shape[0], *crop_shape), np.uint8)
    for channel in range(levels.shape[0]):
        channels[channel] = _resize(levels[channel], crop_shape, cv2.INTER_LINEAR) * crop_mask
    return fov.uncrop_channels_first(channels)
