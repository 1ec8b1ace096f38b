"""The default thresholds: best F1 within the false-alarm budget."""

from __future__ import annotations

import numpy as np
import pytest

from core.lesions import LESIONS, Lesion
from core.scoring.false_alarms import FalseAlarmAccumulator
from core.scoring.metrics import PRAccumulator
from core.scoring.thresholds import choose_thresholds


def _histograms() -> tuple[PRAccumulator, FalseAlarmAccumulator]:
    """Every lesion alike: lesion pixels at level 200, confusers at 150 (some far from lesions)."""
    accuracy, alarms = PRAccumulator(), FalseAlarmAccumulator()
    for i in range(len(LESIONS)):
        accuracy.positives[i, 200] = 1000
        accuracy.negatives[i, 150] = 500  # near-lesion confusers: worth flagging for recall...
        accuracy.positives[i, 150] = 800
        accuracy.negatives[i, 0] = 1_000_000
        alarms.far[i, 150] = 300  # ...but 300 of them lie far from any lesion
        alarms.far[i, 0] = 900_000
    alarms.fov_pixels = 1_000_000
    return accuracy, alarms


def test_an_unlimited_budget_gives_plain_best_f1() -> None:
    accuracy, alarms = _histograms()
    choice = choose_thresholds(accuracy, alarms, budget=1.0)
    for lesion in LESIONS:
        assert choice.thresholds[lesion.code] == pytest.approx(
            accuracy.best_f1(lesion).threshold, abs=1 / 255
        )
        assert choice.false_alarms[lesion.code] == pytest.approx(300 / 1_000_000)


def test_a_tight_budget_raises_the_thresholds_and_holds() -> None:
    accuracy, alarms = _histograms()
    choice = choose_thresholds(accuracy, alarms, budget=0.0005)  # 4 x 0.03 % would be 0.12 %
    assert sum(choice.false_alarms.values()) <= 0.0005
    raised = [c for c, t in choice.thresholds.items() if t > 150 / 255]
    assert len(raised) >= 1  # at least one lesion gives up its confusers
    assert all(t <= 200 / 255 for t in choice.thresholds.values())  # never above the lesions
    assert "0.05%" in choice.rule


def test_the_cheapest_lesions_give_way_first() -> None:
    accuracy, alarms = _histograms()
    he = LESIONS.index(Lesion.HE)
    alarms.far[he, 150] = 3000  # haemorrhage confusers are ten times as often far from lesions
    choice = choose_thresholds(accuracy, alarms, budget=0.001)
    assert choice.thresholds["HE"] > 150 / 255
    assert all(choice.thresholds[c] <= 150 / 255 for c in ("MA", "EX", "SE"))
    assert np.isclose(sum(choice.false_alarms.values()), 3 * 300 / 1_000_000)
