"""Counts and areas of lesions at a threshold."""

from __future__ import annotations

import numpy as np

from core.imaging.fov import FovCrop
from core.imaging.lesion_stats import lesion_stats, mask_stats


def _fov(shape: tuple[int, int]) -> FovCrop:
    return FovCrop(image_shape=shape, box=(0, 0, *shape), mask=np.ones(shape, bool))


def test_components_and_areas_follow_the_threshold() -> None:
    probability = np.zeros((40, 40), np.uint8)
    probability[2:6, 2:6] = 200  # 16 px, strong
    probability[20:22, 20:23] = 100  # 6 px, weak
    probability[30, 30] = 255  # 1 px
    fov = _fov((40, 40))
    low = lesion_stats(probability, 0.3, fov)
    assert (low.count, low.area_px, low.largest_px) == (3, 23, 16)
    assert low.area_fraction == 23 / 1600
    high = lesion_stats(probability, 0.5, fov)
    assert (high.count, high.area_px) == (2, 17)
    none = lesion_stats(probability, 1.0, fov)
    assert none.count == 1 and none.area_px == 1


def test_diagonal_neighbours_are_one_component() -> None:
    probability = np.zeros((10, 10), np.uint8)
    probability[2, 2] = probability[3, 3] = 255
    assert lesion_stats(probability, 0.5, _fov((10, 10))).count == 1


def test_empty_map() -> None:
    stats = lesion_stats(np.zeros((10, 10), np.uint8), 0.5, _fov((10, 10)))
    assert (stats.count, stats.area_px, stats.largest_px, stats.area_fraction) == (0, 0, 0, 0.0)


def test_largest_region_is_the_biggest_connected_blob_not_the_total() -> None:
    mask = np.zeros((100, 100), bool)
    assert mask_stats(mask, 1).largest_px == 0
    mask[10:20, 10:20] = True  # 100 px
    for i in range(30):  # 30 scattered specks of 1 px each, 130 px in all
        mask[40 + 2 * (i // 10), 40 + 2 * (i % 10)] = True
    assert mask_stats(mask, 1).largest_px == 100
    mask[20, 20] = True  # touches the square's corner: 8-connected
    assert mask_stats(mask, 1).largest_px == 101
