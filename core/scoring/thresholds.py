"""A low-false-alarm operating point: the best F1 the false alarms on healthy retina allow.

Best F1 per lesion on the validation photographs (the defaults until 2026-12-02) flagged
0.35 % of a normal fundus. The rule here picks, on the validation photographs, the thresholds with the
highest summed F1 among those whose far-from-lesion false alarms
(:mod:`core.scoring.false_alarms`), summed over the four lesions, stay within a budget (a share
of the field of view). It is reported by ``evaluate`` and can be shipped on request; it is not
the default because at 0.1 % it left obvious lesions unmarked (docs/training/README.md).

The search is a Lagrangian one: for a price on false alarms, each lesion takes its level with
the best F1 minus price x share; the price is raised until the sum fits the budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.lesions import LESIONS
from core.scoring.false_alarms import FalseAlarmAccumulator
from core.scoring.metrics import PRAccumulator

#: Far-from-lesion false alarms allowed, all lesions together (issue 10's target for a healthy
#: eye: at most 0.1 % of the field of view flagged).
DEFAULT_BUDGET = 0.001
MAX_LEVEL = 254
_PRICES = np.concatenate([[0.0], np.geomspace(1.0, 1e7, 400)])


@dataclass(frozen=True)
class ThresholdChoice:
    """Thresholds (0..1) per lesion code with their validation F1 and false-alarm shares."""

    thresholds: dict[str, float]
    f1: dict[str, float]
    false_alarms: dict[str, float]
    budget: float
    rule: str = field(default="")

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {
            "thresholds": self.thresholds,
            "f1": self.f1,
            "false_alarms": self.false_alarms,
            "false_alarms_total": sum(self.false_alarms.values()),
            "budget": self.budget,
            "rule": self.rule,
        }


def _f1_by_level(accuracy: PRAccumulator, index: int) -> np.ndarray:
    """256 float64: F1 of ``probability >= level`` (level 0 flags everything)."""
    pos, neg = accuracy.positives[index], accuracy.negatives[index]
    tp = np.cumsum(pos[::-1])[::-1].astype(np.float64)
    fp = np.cumsum(neg[::-1])[::-1].astype(np.float64)
    total = float(pos.sum())
    denominator = tp + fp + total
    f1 = np.zeros(len(tp))
    np.divide(2 * tp, denominator, out=f1, where=denominator > 0)
    return f1


def choose_thresholds(
    accuracy: PRAccumulator, alarms: FalseAlarmAccumulator, budget: float = DEFAULT_BUDGET
) -> ThresholdChoice:
    """The thresholds with the highest summed F1 whose summed false-alarm share is <= ``budget``.

    Args:
        accuracy: pooled pixel histograms of the validation photographs (one head).
        alarms: their far-from-lesion histograms (same head).
        budget: allowed share of the field of view, all lesions together; 1.0 = plain best F1.
    """
    # levels 1..254: the app's threshold slider ends at 254 (255 would flag only certainty)
    f1 = np.stack([_f1_by_level(accuracy, i) for i in range(len(LESIONS))])[:, 1 : MAX_LEVEL + 1]
    shares = np.stack([alarms.shares(lesion) for lesion in LESIONS])[:, 1 : MAX_LEVEL + 1]
    rows = np.arange(len(LESIONS))
    last = shares.shape[1] - 1
    # fallback when not even the highest levels fit: flag as little as possible
    picks = last - np.argmin(shares[:, ::-1], axis=1)
    for price in _PRICES:  # the lowest price that fits keeps the most F1
        score = f1 - price * shares
        candidate = last - np.argmax(score[:, ::-1], axis=1)  # the highest level among equal scores
        if shares[rows, candidate].sum() <= budget + 1e-12:
            picks = candidate
            break
    levels = picks + 1
    return ThresholdChoice(
        thresholds={lesion.code: float(levels[i]) / 255.0 for i, lesion in enumerate(LESIONS)},
        f1={lesion.code: float(f1[i, picks[i]]) for i, lesion in enumerate(LESIONS)},
        false_alarms={lesion.code: float(shares[i, picks[i]]) for i, lesion in enumerate(LESIONS)},
        budget=budget,
        rule=(
            f"highest summed F1 on the validation photographs with at most {budget:.2%} of the field "
            "of view flagged far from any lesion, all lesions together"
        ),
    )
