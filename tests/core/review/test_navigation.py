"""Walking through lesion components and uncertain regions."""

from __future__ import annotations

import numpy as np

from core.review.navigation import lesion_components, next_index, uncertain_regions


def test_components_in_reading_order() -> None:
    mask = np.zeros((600, 600), bool)
    mask[400:410, 20:30] = True  # lower band
    mask[10:20, 500:510] = True  # top band, right
    mask[30:40, 50:60] = True  # top band, left
    regions = lesion_components(mask)
    assert [r.box for r in regions] == [(30, 50, 40, 60), (10, 500, 20, 510), (400, 20, 410, 30)]
    assert all(mask[r.centre] for r in regions)
    assert regions[0].pixels == 100


def test_centre_lies_inside_a_ring() -> None:
    mask = np.zeros((50, 50), bool)
    mask[10:40, 10:40] = True
    mask[15:35, 15:35] = False
    (region,) = lesion_components(mask)
    assert mask[region.centre]


def test_uncertain_regions_most_uncertain_first() -> None:
    spread = np.zeros((100, 100), np.uint8)
    spread[10:20, 10:20] = 100  # 100 px x 100
    spread[50:70, 50:70] = 80  # 400 px x 80: more in total
    spread[90:95, 90:95] = 30  # below the threshold
    regions = uncertain_regions(spread, threshold=0.25)
    assert [r.box for r in regions] == [(50, 50, 70, 70), (10, 10, 20, 20)]
    assert regions[0].score == 400 * 80
    assert uncertain_regions(np.zeros((10, 10), np.uint8)) == []


def test_next_index_wraps() -> None:
    assert next_index(0, None) is None
    assert next_index(3, None) == 0 and next_index(3, None, -1) == 2
    assert next_index(3, 2) == 0 and next_index(3, 0, -1) == 2
