"""Pixels for the screen: display aids, overlay lookup tables and outline masks.

Everything the review app draws is computed here, so the GUI only hands arrays to the
screen. Overlays are uint8 probability maps coloured by a 256-entry RGBA lookup table:
moving a threshold swaps the table and never touches the pixels.
"""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np

from core.imaging.probability_maps import probability_to_level
from core.lesions import LESIONS, PAINT_ORDER, Lesion

Rgb = tuple[int, int, int]

# Comparison with ground truth, shared by every lesion: none of the three is a lesion
# colour (readers took the former sky blue for haemorrhage blue); white, Okabe-Ito orange
# and cyan differ in lightness and hue for the common colour-vision deficiencies, and the
# app draws a legend whenever this mode is on.
TRUE_POSITIVE_COLOUR: Rgb = (255, 255, 255)  # white: found
FALSE_POSITIVE_COLOUR: Rgb = (230, 159, 0)  # orange: marked but not in the truth
FALSE_NEGATIVE_COLOUR: Rgb = (0, 255, 255)  # cyan: missed

# Lowest threshold level the review app offers. Comparison layers store ground-truth
# pixels with probability 0 as level 1, which is exact for every threshold >= level 2.
MIN_THRESHOLD_LEVEL = 2


def threshold_text(value: float) -> str:
    """A threshold as the window shows it: three decimals, finer than the maps' 1/255 steps, so
    the text names one step (0.918 is step 234 = 0.91765; ``probability_to_level`` reads it back
    as that step) and typed back into ``predict --thresholds`` gives the mask the window showed."""
    return f"{value:.3f}"


class DisplayAid(Enum):
    """How the photograph itself is shown."""

    ORIGINAL = "original"
    GREEN = "green channel"
    CLAHE = "contrast-enhanced (CLAHE)"


def display_image(image: np.ndarray, aid: DisplayAid) -> np.ndarray:
    """The photograph as shown with a display aid.

    Args:
        image: H x W x 3 uint8 RGB.
        aid: original, green channel (as grey) or CLAHE on the lightness channel.

    Returns:
        H x W x 3 uint8 RGB (the input itself for ``ORIGINAL``).
    """
    if aid is DisplayAid.ORIGINAL:
        return image
    if aid is DisplayAid.GREEN:
        green = np.ascontiguousarray(image[:, :, 1])
        return cv2.cvtColor(green, cv2.COLOR_GRAY2RGB)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
    # Tiles of about 270 px on a 4288-px photograph: local contrast at lesion scale.
    grid = max(2, round(max(image.shape[:2]) / 270))
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(grid, grid))
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def _alpha(opacity: float) -> int:
    return round(float(np.clip(opacity, 0.0, 1.0)) * 255)


def threshold_lut(colour: Rgb, threshold: float, opacity: float) -> np.ndarray:
    """Lookup table colouring levels >= threshold.

    Args:
        colour: RGB 0..255.
        threshold: probability 0..1 (compared as ``level >= probability_to_level``).
        opacity: 0..1.

    Returns:
        256 x 4 uint8 RGBA; transparent below the threshold.
    """
    lut = np.zeros((256, 4), np.uint8)
    lut[probability_to_level(threshold) :] = (*colour, _alpha(opacity))
    return lut


def binary_lut(colour: Rgb, opacity: float) -> np.ndarray:
    """256 x 4 uint8 RGBA: 0 transparent, every other level ``colour``."""
    lut = np.zeros((256, 4), np.uint8)
    lut[1:] = (*colour, _alpha(opacity))
    return lut


def comparison_luts(threshold: float, opacity: float) -> tuple[np.ndarray, np.ndarray]:
    """Lookup tables for :func:`comparison_layers`.

    Returns:
        (for the truth layer: TP at or above the threshold, FN below it, transparent at 0;
        for the non-truth layer: FP at or above the threshold), each 256 x 4 uint8 RGBA.
    """
    level = max(probability_to_level(threshold), MIN_THRESHOLD_LEVEL)
    alpha = _alpha(opacity)
    truth = np.zeros((256, 4), np.uint8)
    truth[1:level] = (*FALSE_NEGATIVE_COLOUR, alpha)
    truth[level:] = (*TRUE_POSITIVE_COLOUR, alpha)
    other = np.zeros((256, 4), np.uint8)
    other[level:] = (*FALSE_POSITIVE_COLOUR, alpha)
    return truth, other


def mask_levels(states: np.ndarray) -> np.ndarray:
    """An edited mask (``MaskState`` values) as levels for :func:`comparison_layers`.

    Returns:
        H x W uint8: 255 on lesion pixels (above any threshold), 0 elsewhere.
    """
    from core.review.editable_mask import is_lesion

    return is_lesion(states).astype(np.uint8) * np.uint8(255)


def comparison_layers(probability: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split a probability map by the ground truth for TP / FP / FN colouring by lookup table.

    Args:
        probability: H x W uint8 levels.
        truth: H x W bool.

    Returns:
        (on truth pixels: the level, at least 1, 0 elsewhere; off truth pixels: the level,
        0 on truth pixels), each H x W uint8. Exact for thresholds >= ``MIN_THRESHOLD_LEVEL``.
    """
    if probability.shape != truth.shape:
        raise ValueError(f"map {probability.shape} and truth {truth.shape} differ in size")
    on_truth = np.where(truth, np.maximum(probability, 1), 0).astype(np.uint8)
    off_truth = np.where(truth, 0, probability).astype(np.uint8)
    return on_truth, off_truth


def lesion_labels(masks: dict[Lesion, np.ndarray]) -> np.ndarray:
    """All lesions in one layer, for one lookup table instead of four layers to paint.

    Args:
        masks: per lesion, H x W bool.

    Returns:
        H x W uint8: 0 where no lesion, else ``LESIONS.index(lesion) + 1``; where masks
        overlap, the lesion of higher priority (``PAINT_ORDER``) wins.
    """
    shape = next(iter(masks.values())).shape
    labels = np.zeros(shape, np.uint8)
    for lesion in PAINT_ORDER:
        if lesion in masks:
            labels[masks[lesion]] = LESIONS.index(lesion) + 1
    return labels


def outline_labels(masks: dict[Lesion, np.ndarray], width: int) -> np.ndarray:
    """Like :func:`lesion_labels`, for the outline of each lesion's mask."""
    return lesion_labels({lesion: outline(mask, width) > 0 for lesion, mask in masks.items()})


def tint(colour: Rgb, amount: float) -> Rgb:
    """``colour`` moved ``amount`` (0..1) of the way to white (ground-truth outlines are paler
    than the prediction drawn in the same lesion colour)."""
    r, g, b = (round(c + (255 - c) * amount) for c in colour)
    return r, g, b


def label_lut(colours: dict[Lesion, Rgb], opacity: float) -> np.ndarray:
    """Lookup table for :func:`lesion_labels`: lesions not in ``colours`` stay transparent.

    Returns:
        256 x 4 uint8 RGBA.
    """
    lut = np.zeros((256, 4), np.uint8)
    for lesion, colour in colours.items():
        lut[LESIONS.index(lesion) + 1] = (*colour, _alpha(opacity))
    return lut


def outline_width(shape: tuple[int, int]) -> int:
    """Outline thickness in pixels that stays visible when a photograph is fitted to a screen."""
    return max(1, round(max(shape) / 1400))


def outline(mask: np.ndarray, width: int = 1) -> np.ndarray:
    """Inner boundary of a mask.

    Args:
        mask: H x W bool.
        width: boundary thickness in pixels.

    Returns:
        H x W uint8, 255 on the boundary, 0 elsewhere.
    """
    as_u8 = mask.astype(np.uint8) * 255
    if not as_u8.any():
        return as_u8
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    eroded = cv2.erode(as_u8, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return cv2.subtract(as_u8, eroded)


def threshold_outline(probability: np.ndarray, threshold: float, width: int = 1) -> np.ndarray:
    """Outline of ``probability >= threshold`` (H x W uint8 levels in, H x W uint8 0/255 out)."""
    return outline(probability >= probability_to_level(threshold), width)


def review_lut(colour: Rgb, opacity: float) -> np.ndarray:
    """Lookup table for an editable mask's ``MaskState`` values (256 x 4 uint8 RGBA).

    Model pixels in the lesion colour, the reviewer's additions paler, confirmed pixels
    more opaque, removed model pixels as a faint grey trace, empty transparent.
    """
    from core.review.editable_mask import MaskState

    alpha = _alpha(opacity)
    lut = np.zeros((256, 4), np.uint8)
    lut[MaskState.MODEL] = (*colour, alpha)
    lut[MaskState.ADDED] = (*tint(colour, 0.4), alpha)
    lut[MaskState.CONFIRMED] = (*colour, min(255, alpha + 60))
    lut[MaskState.REMOVED] = (40, 40, 40, alpha // 2)
    return lut


SPREAD_COLOUR: Rgb = (255, 255, 255)


def spread_lut(floor: float = 0.1) -> np.ndarray:
    """Heads' disagreement as white haze: transparent below ``floor``, opaque-ish at 1."""
    lut = np.zeros((256, 4), np.uint8)
    start = probability_to_level(floor)
    lut[start:, :3] = SPREAD_COLOUR
    lut[start:, 3] = np.linspace(60, 220, 256 - start).astype(np.uint8)
    return lut
