"""Far-from-lesion false alarms: the margin, the field of view, the shares by level."""

from __future__ import annotations

import numpy as np
import pytest

from core.lesions import LESIONS, Lesion
from core.scoring.false_alarms import FalseAlarmAccumulator, far_from_lesions


def _disc(size: int = 200) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 2 - 2) ** 2


def test_far_pixels_are_inside_the_field_and_away_from_every_lesion() -> None:
    fov = _disc()
    haemorrhage = np.zeros_like(fov)
    haemorrhage[100, 100] = True
    far = far_from_lesions(fov, {Lesion.HE: haemorrhage}, margin_fraction=0.05)  # ~10 px of 196
    assert not far[~fov].any()
    assert not far[100, 100] and not far[100, 109] and not far[91, 100]
    assert far[100, 112] and far[100, 150]
    assert far_from_lesions(fov, {}).sum() == fov.sum()


def test_shares_count_far_pixels_at_or_above_each_level() -> None:
    fov = _disc()
    far = far_from_lesions(fov, {})
    probs = np.zeros((len(LESIONS), *fov.shape), np.uint8)
    ex = LESIONS.index(Lesion.EX)
    probs[ex, 50, 50:60] = 200  # 10 far pixels at level 200
    probs[ex, 0, 0] = 255  # outside the field: never counted
    alarms = FalseAlarmAccumulator()
    alarms.add(probs, far, int(fov.sum()))
    shares = alarms.shares(Lesion.EX)
    assert shares[200] == pytest.approx(10 / fov.sum())
    assert shares[201] == 0.0
    assert shares[0] == pytest.approx(far.sum() / fov.sum())
    twice = FalseAlarmAccumulator()
    twice.merge(alarms)
    twice.merge(alarms)
    assert twice.shares(Lesion.EX)[200] == pytest.approx(shares[200])  # a share, not a count


def test_maps_of_another_size_are_refused() -> None:
    with pytest.raises(ValueError, match="uint8 maps"):
        FalseAlarmAccumulator().add(np.zeros((4, 5, 5), np.uint8), np.ones((6, 6), bool), 36)
