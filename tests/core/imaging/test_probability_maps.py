"""uint8 probability maps: levels, masks, the values at a pixel."""

from __future__ import annotations

import numpy as np
import pytest

from core.imaging.fov import detect_fov
from core.imaging.probability_maps import HeadProbabilities, LesionProbabilities, probability_to_level
from core.lesions import LESIONS, Lesion


@pytest.mark.parametrize(
    ("threshold", "level"),
    [(0.0, 0), (0.5, 128), (1.0, 255), (128 / 255, 128), (0.918, 234), (0.9195, 234), (0.9197, 235)],
)
def test_probability_threshold_to_uint8_level(threshold: float, level: int) -> None:
    assert probability_to_level(threshold) == level


def test_mask_uses_greater_or_equal() -> None:
    probs = np.zeros((4, 2, 2), np.uint8)
    probs[LESIONS.index(Lesion.HE)] = [[127, 128], [200, 0]]
    fake = LesionProbabilities(probs=probs, fov=None)  # type: ignore[arg-type]
    np.testing.assert_array_equal(fake.mask(Lesion.HE, 0.5), [[False, True], [True, False]])


def test_probabilities_at_a_pixel(small_fundus) -> None:
    probs = np.zeros((4, *small_fundus.image.shape[:2]), np.uint8)
    probs[2, 10, 20] = 255
    probs[0, 10, 20] = 51
    maps = LesionProbabilities(probs, detect_fov(small_fundus.image))
    values = maps.at(10, 20)
    assert values == {Lesion.MA: 0.2, Lesion.HE: 0.0, Lesion.EX: 1.0, Lesion.SE: 0.0}
    assert maps.at(-1, 0) is None and maps.at(0, 360) is None


def test_heads_and_their_mean() -> None:
    probs = np.zeros((4, 4, 2, 2), np.uint8)
    probs[:, 0, 0, 0] = [10, 20, 30, 41]
    heads = HeadProbabilities(probs, fov=None)  # type: ignore[arg-type]
    assert heads.head(4).probs[0, 0, 0] == 41
    assert heads.mean().probs[0, 0, 0] == 25  # (101 + 2) // 4, rounded
