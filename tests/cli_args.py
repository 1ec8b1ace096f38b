"""Command lines the tests share: a tiny, fast ``lesionlens train`` on synthetic photographs."""

from __future__ import annotations

from pathlib import Path


def tiny_train_args(data: Path, out: Path, epochs: int) -> list[str]:
    """``lesionlens train`` arguments: width 0.125, 64-px tiles, batch 8, CPU fp32, one validation image."""
    return [
        "--log-level",
        "WARNING",
        "train",
        "--data",
        str(data),
        "--out",
        str(out),
        "--preset",
        "paper",
        "--width",
        "0.125",
        "--tile",
        "64",
        "--stride",
        "32",
        "--epochs",
        str(epochs),
        "--batch",
        "8",
        "--lr",
        "3e-3",
        "--val-count",
        "1",
        "--val-tile",
        "64",
        "--device",
        "cpu",
        "--precision",
        "fp32",
    ]
