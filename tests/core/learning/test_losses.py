from __future__ import annotations

import torch

from core.learning.losses import deep_supervision_loss, soft_dice_loss
from core.lesions import TrainingClass


def test_soft_dice_is_low_for_a_perfect_prediction_and_high_for_a_wrong_one() -> None:
    target = torch.ones(2, 16, 16, dtype=torch.long)
    target[:, 4:8, 4:8] = int(TrainingClass.HE)
    perfect = torch.nn.functional.one_hot(target, 6).permute(0, 3, 1, 2).float() * 20
    wrong = torch.nn.functional.one_hot(torch.ones_like(target), 6).permute(0, 3, 1, 2).float() * 20
    assert soft_dice_loss(perfect, target) < 0.05  # absent lesions predicted absent count as perfect
    assert soft_dice_loss(wrong, target) > soft_dice_loss(perfect, target) + 0.2
    ce = deep_supervision_loss([wrong] * 4, target, loss="ce")
    both = deep_supervision_loss([wrong] * 4, target, loss="ce+dice")
    assert both > ce
