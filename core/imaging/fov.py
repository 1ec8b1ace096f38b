"""Otsu field-of-view detection and the crop that goes with it (METHOD.md, step 1)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from core.config import FovConfig
from core.errors import FovNotFoundError

Box = tuple[int, int, int, int]  # half-open (y0, x0, y1, x1)


@dataclass(frozen=True)
class FovCrop:
    """The field of view of one photograph.

    Attributes:
        image_shape: (H, W) of the original photograph.
        box: half-open (y0, x0, y1, x1) bounding box of the field of view.
        mask: H x W bool, True inside the field of view, at the original size.
    """

    image_shape: tuple[int, int]
    box: Box
    mask: np.ndarray

    @property
    def crop_shape(self) -> tuple[int, int]:
        """(h, w) of the cropped region."""
        y0, x0, y1, x1 = self.box
        return y1 - y0, x1 - x0

    def crop(self, array: np.ndarray) -> np.ndarray:
        """Cut the box out of an H x W (x C) array (a view, no copy)."""
        if array.shape[:2] != self.image_shape:
            raise ValueError(f"array of shape {array.shape[:2]} is not image-sized {self.image_shape}")
        y0, x0, y1, x1 = self.box
        return array[y0:y1, x0:x1]

    def crop_channels_first(self, array: np.ndarray) -> np.ndarray:
        """Cut the box out of a C x H x W array (a view)."""
        y0, x0, y1, x1 = self.box
        return array[..., y0:y1, x0:x1]

    def uncrop(self, cropped: np.ndarray, fill: float = 0) -> np.ndarray:
        """Put an h x w (x C) cropped array back at the original size, ``fill`` outside."""
        if cropped.shape[:2] != self.crop_shape:
            raise ValueError(f"array of shape {cropped.shape[:2]} is not crop-sized {self.crop_shape}")
        full = np.full(self.image_shape + cropped.shape[2:], fill, dtype=cropped.dtype)
        y0, x0, y1, x1 = self.box
        full[y0:y1, x0:x1] = cropped
        return full

    def uncrop_channels_first(self, cropped: np.ndarray, fill: float = 0) -> np.ndarray:
        """Put a C x h x w array back at C x H x W, ``fill`` outside the box."""
        if cropped.shape[-2:] != self.crop_shape:
            raise ValueError(f"array of shape {cropped.shape} is not crop-sized {self.crop_shape}")
        full = np.full(cropped.shape[:-2] + self.image_shape, fill, dtype=cropped.dtype)
        y0, x0, y1, x1 = self.box
        full[..., y0:y1, x0:x1] = cropped
        return full

    def to_dict(self) -> dict[str, object]:
        """JSON-friendly summary (the mask is not included)."""
        y0, x0, y1, x1 = self.box
        return {
            "image_height": self.image_shape[0],
            "image_width": self.image_shape[1],
            "box_yxyx": [y0, x0, y1, x1],
            "fov_fraction_of_image": round(float(self.mask.mean()), 4),
        }


#: The field of view takes every pixel this many levels (0..255) brighter than the black
#: border's mean, if Otsu's relaxed threshold lies higher: a dark camera's periphery
#: (a red of 30 where IDRiD's is 70) is retina, not border.
PERIPHERY_MARGIN = 10.0


def _relaxed_threshold(otsu: float, background_mean: float) -> float:
    """Half-way from the border's mean to Otsu's threshold, but no more than
    :data:`PERIPHERY_MARGIN` above the border (a dark periphery) and no less than 2 levels above
    it (with a clean black border Otsu may sit at the top of the border's noise, which would
    then join the field of view)."""
    halfway = (background_mean + otsu) / 2.0
    return min(max(halfway, background_mean + 2.0), background_mean + PERIPHERY_MARGIN)


def _brightest_channel(image: np.ndarray) -> np.ndarray:
    """H x W uint8: the largest of the three channels (the image itself when grey)."""
    if image.ndim == 2:
        return image
    return np.asarray(image.max(axis=2))


def _largest_component(binary: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if count <= 1:
        return np.zeros_like(binary)
    largest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return (labels == largest).astype(np.uint8)


def detect_fov(image: np.ndarray, config: FovConfig | None = None) -> FovCrop:
    """Find the circular field of view of a fundus photograph.

    Otsu's threshold on a downscaled copy of the brightest channel (a fundus's red) separates
    the black border from the fundus; the threshold is then relaxed half-way towards the
    border's mean, and to at most :data:`PERIPHERY_MARGIN` levels above it, so that the dark
    periphery stays inside however dark the camera (a darker photograph of the same eye gets
    the same field of view). The largest connected component's convex hull (the field of view
    is a disc, possibly clipped at the top and bottom) is drawn at full size.
    A photograph without a dark border gets the whole image as its field of view.

    Args:
        image: H x W x 3 uint8 RGB (or H x W grey).
        config: detection settings.

    Returns:
        The :class:`FovCrop` with box and full-size mask.

    Raises:
        FovNotFoundError: a blank, black or uniform image.
    """
    config = config or FovConfig()
    height, width = image.shape[:2]
    brightest = _brightest_channel(image)
    scale = min(1.0, config.analysis_side / max(height, width))
    small = cv2.resize(
        brightest,
        (max(1, round(width * scale)), max(1, round(height * scale))),
        interpolation=cv2.INTER_AREA,
    )
    spread = float(small.max()) - float(small.min())
    if spread < 16 or float(small.max()) < 24:
        raise FovNotFoundError(
            f"no field of view: the image is blank or black (levels {small.min()}..{small.max()} in its "
            "brightest channel); "
            "check that this is a colour fundus photograph and that it is not under-exposed"
        )
    otsu, _ = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    background_mean = float(small[small <= otsu].mean())
    if background_mean > config.dark_background_level:
        mask = np.ones((height, width), dtype=bool)
        return FovCrop((height, width), (0, 0, height, width), mask)
    relaxed = _relaxed_threshold(otsu, background_mean)
    binary = cv2.morphologyEx((small > relaxed).astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    component = _largest_component(binary)
    if component.sum() < config.min_area_fraction * component.size:
        raise FovNotFoundError(
            f"no field of view: the brightest region covers only {component.mean():.1%} of the "
            f"image (at least {config.min_area_fraction:.0%} expected); check that this is a "
            "colour fundus photograph"
        )
    contours, _ = cv2.findContours(component, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull_mask = np.zeros_like(component, dtype=np.float32)
    cv2.fillPoly(hull_mask, [cv2.convexHull(np.concatenate(contours))], 1.0)
    full_mask = cv2.resize(hull_mask, (width, height), interpolation=cv2.INTER_LINEAR)
    mask = full_mask >= 0.5
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    box = (int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1)
    return FovCrop((height, width), box, mask)
