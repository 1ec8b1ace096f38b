"""Training losses: the paper's deep-supervision cross-entropy and the lesions' soft Dice."""

from __future__ import annotations

import torch
from torch import nn

from core.lesions import LESIONS, TrainingClass

LOSSES = ("ce", "ce+dice")
_LESION_CLASSES = [int(TrainingClass.for_lesion(lesion)) for lesion in LESIONS]


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - mean soft Dice of the four lesion classes, pooled over the batch.

    Args:
        logits: B x C x T x T (C = 6 classes).
        target: B x T x T int64 class indices.
    """
    probs = logits.float().softmax(dim=1)[:, _LESION_CLASSES]
    truth = torch.stack([target == c for c in _LESION_CLASSES], dim=1).float()
    intersection = (probs * truth).sum(dim=(0, 2, 3))
    total = probs.sum(dim=(0, 2, 3)) + truth.sum(dim=(0, 2, 3))
    return 1.0 - ((2 * intersection + 1.0) / (total + 1.0)).mean()


def deep_supervision_loss(
    outputs: list[torch.Tensor],
    target: torch.Tensor,
    weight: torch.Tensor | None = None,
    loss: str = "ce",
) -> torch.Tensor:
    """Mean over the four heads of the multi-class cross-entropy (METHOD.md step 6),
    plus the lesions' soft Dice when ``loss == "ce+dice"``."""
    per_head = []
    for output in outputs:
        value = nn.functional.cross_entropy(output.float(), target, weight=weight)
        if loss == "ce+dice":
            value = value + soft_dice_loss(output, target)
        per_head.append(value)
    return torch.stack(per_head).mean()
