"""Sliding-window tiles over an image and the stitcher that puts predictions back.

Tile steps are spread evenly so that the first tile starts at 0 and the last ends exactly
at the border (nnU-Net style); an image side shorter than a tile gets one zero-padded tile.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

import cv2
import numpy as np

from core.config import Blending, TilingConfig
from core.imaging.fov import Box


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles covering ``[0, length)`` with at least ``overlap`` shared px.

    Args:
        length: image side in pixels (>= 1).
        tile: tile side in pixels.
        overlap: minimum overlap between neighbours, ``0 <= overlap < tile``.

    Returns:
        Increasing starts; the first is 0 and the last is ``max(0, length - tile)``.
    """
    if length <= tile:
        return [0]
    step = tile - overlap
    count = math.ceil((length - tile) / step) + 1
    last = length - tile
    return [round(i * last / (count - 1)) for i in range(count)]


class TileGrid:
    """The tiles that cover one (cropped) image.

    Args:
        shape: (H, W) of the image to tile.
        config: tile size, overlap, and whether to skip tiles outside the field of view.
        fov_mask: optional H x W bool; tiles without any True pixel are skipped when
            ``config.skip_outside_fov`` is set.

    Boxes are half-open ``(y0, x0, y1, x1)`` with ``y1 - y0 == x1 - x0 == tile_size``;
    they reach beyond the image only when the image is smaller than a tile.
    """

    def __init__(
        self,
        shape: tuple[int, int],
        config: TilingConfig,
        fov_mask: np.ndarray | None = None,
    ) -> None:
        height, width = shape
        if height < 1 or width < 1:
            raise ValueError(f"cannot tile an empty image of shape {shape}")
        self.shape = (height, width)
        self.config = config
        size = config.tile_size
        boxes = [
            (y, x, y + size, x + size)
            for y in tile_starts(height, size, config.overlap)
            for x in tile_starts(width, size, config.overlap)
        ]
        self.total_tiles = len(boxes)
        if fov_mask is not None and config.skip_outside_fov:
            if fov_mask.shape != self.shape:
                raise ValueError(f"fov mask shape {fov_mask.shape} differs from {self.shape}")
            integral = cv2.integral(fov_mask.astype(np.uint8))
            boxes = [b for b in boxes if _box_sum(integral, b, self.shape) > 0]
        self.boxes: list[Box] = boxes

    def __len__(self) -> int:
        return len(self.boxes)

    def __iter__(self) -> Iterator[Box]:
        return iter(self.boxes)

    def extract(self, image: np.ndarray, box: Box) -> np.ndarray:
        """The tile at ``box`` from an H x W (x C) image, zero-padded beyond the image."""
        y0, x0, y1, x1 = box
        height, width = self.shape
        region = image[y0 : min(y1, height), x0 : min(x1, width)]
        if region.shape[:2] == (y1 - y0, x1 - x0):
            return region
        padded = np.zeros((y1 - y0, x1 - x0, *image.shape[2:]), dtype=image.dtype)
        padded[: region.shape[0], : region.shape[1]] = region
        return padded


def _box_sum(integral: np.ndarray, box: Box, shape: tuple[int, int]) -> int:
    y0, x0, y1, x1 = box
    y1, x1 = min(y1, shape[0]), min(x1, shape[1])
    return int(integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0])


@lru_cache(maxsize=8)
def blending_weights(tile_size: int, blending: Blending, overlap: int) -> np.ndarray:
    """tile x tile float32 weights in (0, 1].

    ``uniform``: ones. ``smooth``: separable raised-cosine ramps, ~0 at the tile edge
    rising to 1 at ``overlap`` pixels inside, so overlapping tiles cross-fade without a
    step. The returned array is read-only (it is cached and shared).
    """
    if blending == "uniform" or overlap == 0:
        weights = np.ones((tile_size, tile_size), np.float32)
    else:
        to_edge = np.minimum(np.arange(tile_size), np.arange(tile_size)[::-1]) + 0.5
        axis = np.where(to_edge < overlap, 0.5 - 0.5 * np.cos(np.pi * to_edge / overlap), 1.0)
        weights = np.outer(axis, axis).astype(np.float32)
    weights.setflags(write=False)
    return weights


class Stitcher:
    """Accumulates weighted tile predictions and divides once at the end.

    Args:
        shape: (H, W) of the tiled image.
        channels: number of channels C of each tile prediction.
        tile_size: side of the tiles that will be added.
        blending: ``uniform`` or ``smooth`` weights.
        overlap: the tiles' overlap in pixels (the length of the smooth ramps).

    Memory: (C + 1) x H x W float32.
    """

    def __init__(
        self, shape: tuple[int, int], channels: int, tile_size: int, blending: Blending, overlap: int = 0
    ) -> None:
        self.shape = shape
        self.channels = channels
        self._weights = blending_weights(tile_size, blending, overlap)
        self._sum = np.zeros((channels, *shape), np.float32)
        self._weight = np.zeros(shape, np.float32)

    def add(self, box: Box, prediction: np.ndarray) -> None:
        """Add one tile's C x tile x tile float prediction at ``box``."""
        y0, x0, y1, x1 = box
        y1c, x1c = min(y1, self.shape[0]), min(x1, self.shape[1])
        h, w = y1c - y0, x1c - x0
        weights = self._weights[:h, :w]
        self._sum[:, y0:y1c, x0:x1c] += prediction[:, :h, :w] * weights
        self._weight[y0:y1c, x0:x1c] += weights

    def covered(self) -> np.ndarray:
        """H x W bool: pixels that received at least one tile."""
        return self._weight > 0

    def finalize(self) -> np.ndarray:
        """C x H x W float32 weighted mean; 0 where no tile was added.

        Divides in place (no second C x H x W buffer); call once, after the last ``add``.
        """
        np.divide(self._sum, self._weight, out=self._sum, where=self._weight > 0)
        return self._sum
