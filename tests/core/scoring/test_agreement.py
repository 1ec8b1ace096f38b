"""Dice agreement between two readers."""

from __future__ import annotations

import math

import numpy as np

from core.lesions import Lesion
from core.scoring.agreement import Agreement, overlap


def test_overlap_and_dice() -> None:
    a = np.zeros((10, 10), bool)
    b = np.zeros((10, 10), bool)
    a[:5] = True  # 50
    b[3:8] = True  # 50, 20 shared
    result = overlap(a, b)
    assert (result.both, result.first, result.second) == (20, 50, 50)
    assert result.dice == 0.4
    assert math.isnan(overlap(np.zeros((3, 3), bool), np.zeros((3, 3), bool)).dice)


def test_pooled_per_lesion_and_overall() -> None:
    agreement = Agreement({})
    full = np.ones((4, 4), bool)
    half = np.zeros((4, 4), bool)
    half[:2] = True
    agreement.add("one", {Lesion.MA: full}, {Lesion.MA: half})
    agreement.add("two", {Lesion.MA: half, Lesion.EX: full}, {Lesion.MA: half, Lesion.EX: full})
    assert agreement.images["one"][Lesion.MA].dice == 2 * 8 / 24
    pooled = agreement.pooled(Lesion.MA)
    assert (pooled.both, pooled.first, pooled.second) == (16, 24, 16)
    assert agreement.pooled(Lesion.EX).dice == 1.0
    assert math.isnan(agreement.pooled(Lesion.HE).dice)
    assert agreement.overall().dice == 2 * 32 / (40 + 32)
    assert agreement.image_dice("two") == 1.0
