"""Scoring a folder of predictions against a dataset: wrong sizes are named (issue 13, defect 12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import discover
from core.data.synthetic import write_idrid_layout
from core.errors import DatasetError, LesionLensError
from core.imaging.io import write_png
from core.lesions import LESIONS
from core.scoring.evaluation import evaluate_prediction_folder


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, list]:
    write_idrid_layout(tmp_path / "IDRiD", 2, 120, 160, seed=5)
    samples = discover(tmp_path / "IDRiD").split("train")
    pred = tmp_path / "pred"
    pred.mkdir()
    rng = np.random.default_rng(1)
    for sample in samples:
        for lesion in LESIONS:
            write_png(
                pred / f"{sample.stem}_{lesion.code}.png", rng.integers(0, 256, (120, 160), dtype=np.uint8)
            )
    return pred, samples


def test_matching_predictions_are_scored(dataset) -> None:
    pred, samples = dataset
    evaluation = evaluate_prediction_folder(pred, samples)
    assert "pred" in evaluation.aupr_table()


def test_a_map_of_another_size_is_named(dataset) -> None:
    pred, samples = dataset
    bad = pred / f"{samples[1].stem}_HE.png"
    write_png(bad, np.zeros((100, 160), np.uint8))
    with pytest.raises(DatasetError, match=rf"{bad.name}: 160x100 px, but the photograph .* is 160x120"):
        evaluate_prediction_folder(pred, samples)


def test_a_ground_truth_mask_of_another_size_is_blamed_on_the_mask(dataset) -> None:
    pred, samples = dataset
    mask = next(iter(samples[0].masks.values()))
    with Image.open(mask) as img:
        img.resize((80, 60)).save(mask)
    with pytest.raises(LesionLensError) as caught:
        evaluate_prediction_folder(pred, samples)
    assert mask.name in str(caught.value) and "predict" not in str(caught.value)
