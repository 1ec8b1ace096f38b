"""What defines a training run (:class:`TrainConfig`, saved in ``config.json`` and the model
card) and what one epoch reports (:class:`EpochRecord`, a row of ``log.csv``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from core.config import ModelConfig, TilingConfig
from core.learning.augment import AugmentConfig
from core.learning.losses import LOSSES
from core.learning.training_data import TileCacheConfig
from core.lesions import NUM_CLASSES


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (saved in ``config.json`` and the model card)."""

    width: float = 0.25
    tiles: TileCacheConfig = TileCacheConfig()
    epochs: int = 20
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_fraction: float = 0.05
    class_weights: tuple[float, ...] | None = None
    precision: str = "auto"
    augment: AugmentConfig = AugmentConfig()
    val_every: int = 1
    val_tiling: TilingConfig = TilingConfig(tile_size=256, overlap=32, blending="smooth")
    max_steps_per_epoch: int | None = None
    seed: int = 0
    encoder_weights: str | None = None
    init_weights: str | None = None  # a LesionLens model file to start from (fine-tuning)
    device: str = "auto"
    loss: str = "ce"
    preset: str = ""

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"loss {self.loss!r}: use one of {', '.join(LOSSES)}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs {self.epochs} and batch size {self.batch_size} must be >= 1")
        if self.class_weights is not None and len(self.class_weights) != NUM_CLASSES:
            raise ValueError(f"class_weights needs {NUM_CLASSES} values, got {len(self.class_weights)}")
        ModelConfig(width=self.width)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return asdict(self)


@dataclass
class EpochRecord:
    """One row of ``log.csv``."""

    epoch: int
    train_loss: float
    val_loss: float
    lr: float
    seconds: float
    val_aupr: dict[str, dict[str, float]] = field(default_factory=dict)  # head -> lesion -> AUPR

    def row(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "epoch": self.epoch,
            "train_loss": round(self.train_loss, 5),
            "val_loss": round(self.val_loss, 5),
            "lr": f"{self.lr:.3g}",
            "seconds": round(self.seconds, 1),
        }
        for head, scores in self.val_aupr.items():
            for code, value in scores.items():
                out[f"h{head}_{code}"] = round(value, 4)
        return out
