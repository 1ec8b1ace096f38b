"""Quality gate of the shipped model: no change may silently make its predictions worse.

Scores the built-in model on the validation photographs its model file names (IDRiD, whole
images, every pixel pooled, the model's default head) and fails when the mAUPR falls more
than 0.01 below the figure on its model card. Runs where ``../shared/data/IDRiD`` exists.
A model trained on every photograph (``train --val-count 0``) records its own figure on those
photographs as ``quality_gate`` (they are in its training data: a regression gate, not an
estimate); the gate compares against that.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from core.assets.paths import default_model_path
from core.config import InferenceConfig, TilingConfig
from core.data.datasets import discover
from core.inference.predictor import Predictor
from core.lesions import LESIONS
from core.network.checkpoint import load_checkpoint
from core.scoring.metrics import PRAccumulator
from tests.conftest import IDRID_ROOT

TOLERANCE = 0.01


def _gate(metrics: dict) -> dict:
    """The photographs and figure the gate holds the model to."""
    return metrics.get("quality_gate") or metrics["validation"]


@functools.cache
def _validation_aupr(backend: str, precision: str) -> dict[str, float]:
    """Per lesion, the pooled AUPR of the built-in model on its 14 validation photographs."""
    loaded = load_checkpoint(default_model_path())
    stems = set(_gate(loaded.meta.metrics)["images"])
    samples = [s for s in discover(IDRID_ROOT).samples if s.stem in stems]
    assert len(samples) == len(stems) == 14
    config = InferenceConfig(
        tiling=TilingConfig(256, 32, "smooth"),
        device="cpu",
        head=loaded.meta.default_head,
        backend=backend,  # type: ignore[arg-type]
        precision=precision,  # type: ignore[arg-type]
        flip_tta=loaded.meta.uses_flip_tta(),  # as the app predicts
    )
    predictor = Predictor.from_loaded(loaded, config)
    pooled = PRAccumulator()
    for sample in samples:
        image, masks = sample.load()
        pooled.add(predictor.predict(image).probs, masks)
    return {lesion.code: pooled.aupr(lesion) for lesion in LESIONS}


@pytest.mark.idrid
@pytest.mark.slow
def test_shipped_model_keeps_its_validation_maupr() -> None:
    """With the backend the app uses here (OpenVINO on a CPU-only machine)."""
    if not IDRID_ROOT.is_dir():
        pytest.skip("IDRiD data not available")
    per_lesion = _validation_aupr("auto", "auto")
    measured = float(np.mean(list(per_lesion.values())))
    recorded = float(_gate(load_checkpoint(default_model_path()).meta.metrics)["mAUPR"])
    assert measured >= recorded - TOLERANCE, (
        f"validation mAUPR {measured:.4f} ({per_lesion}) fell below the model card's "
        f"{recorded:.4f} - {TOLERANCE}"
    )


@pytest.mark.idrid
@pytest.mark.slow
def test_openvino_validation_aupr_is_torchs() -> None:
    """The CPU backend scores what torch in fp32 scores, per lesion within 0.005."""
    pytest.importorskip("openvino")
    if not IDRID_ROOT.is_dir():
        pytest.skip("IDRiD data not available")
    openvino = _validation_aupr("openvino", "auto")
    reference = _validation_aupr("torch", "fp32")
    for code, value in reference.items():
        assert abs(openvino[code] - value) <= 0.005, (code, openvino, reference)


@pytest.mark.slow
def test_shipped_model_leaves_a_healthy_eye_clear() -> None:
    pytest.importorskip("skimage")
    from core.learning.robustness import flagged_share, healthy_eye_image

    loaded = load_checkpoint(default_model_path())
    config = InferenceConfig(
        tiling=TilingConfig(256, 32, "smooth"),
        device="cpu",
        head=loaded.meta.default_head,
        flip_tta=loaded.meta.uses_flip_tta(),
    )
    share = flagged_share(
        Predictor.from_loaded(loaded, config), healthy_eye_image(), loaded.meta.thresholds()
    )
    recorded = loaded.meta.metrics["checks"]["healthy_eye"]["any"]
    assert share["any"] <= max(0.001, recorded + 0.0005), share
