from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.learning.train_config import EpochRecord
from core.lesions import LESIONS
from core.scoring.metrics import PRAccumulator
from core.scoring.plots import plot_pr_curves, plot_training_curves


def test_training_curves_with_and_without_validation_points(tmp_path: Path) -> None:
    records = [EpochRecord(1, 0.9, 0.7, 1e-3, 10.0), EpochRecord(2, 0.6, 0.5, 5e-4, 10.0)]
    plot_training_curves(records, tmp_path / "a.png")  # no AUPR yet: must not warn
    records[1].val_aupr = {"4": {"MA": 0.2, "mAUPR": 0.3}}
    plot_training_curves(records, tmp_path / "b.png")
    for name in ("a.png", "b.png"):
        image = np.asarray(Image.open(tmp_path / name))
        assert image.shape[1] > 600 and image.std() > 10  # a real drawing, not a blank canvas


def test_pr_curve_per_lesion(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    truth = {lesion: rng.random((30, 30)) < 0.1 for lesion in LESIONS}
    probs = np.stack([truth[lesion] * 150 + rng.integers(0, 100, (30, 30)) for lesion in LESIONS]).astype(
        np.uint8
    )
    acc = PRAccumulator()
    acc.add(probs, truth)
    paths = plot_pr_curves(acc, tmp_path, prefix="pr")
    assert [p.name for p in paths] == ["pr_MA.png", "pr_HE.png", "pr_EX.png", "pr_SE.png"]
    assert all(Image.open(p).size[0] > 300 for p in paths)
