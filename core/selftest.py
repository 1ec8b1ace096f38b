"""The engine half of ``LesionLens --self-test``: the bundled model on a bundled photograph,
compared with the stored reference result.

The reference (``resources/selftest/``) is a 1024 x 1536 crop of the bundled sample
``synthetic_02.jpg`` (lossless PNG) and its four masks at the model's default thresholds,
made by ``scripts/make_selftest_reference.py`` with the same settings (fp32, so that CPUs
with and without fast bf16 agree).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.agreement import overlap
from core.checkpoint import load_checkpoint
from core.config import InferenceConfig, TilingConfig
from core.inference import LesionProbabilities, Predictor
from core.io import read_image, read_mask
from core.lesions import LESIONS
from core.paths import default_model_path, resources_dir

MIN_DICE = 0.99
IMAGE_NAME = "selftest.png"


def selftest_dir() -> Path:
    return resources_dir() / "selftest"


def selftest_config(meta_tile: int, meta_overlap: int, head: str) -> InferenceConfig:
    """The fixed settings of the reference: CPU, fp32, the model's tiling and head."""
    return InferenceConfig(
        tiling=TilingConfig(tile_size=meta_tile, overlap=meta_overlap),
        device="cpu",
        precision="fp32",
        head=head,
    )


def predict_reference_image(
    model_path: Path | None = None,
) -> tuple[LesionProbabilities, dict[str, float], str]:
    """(prediction, default thresholds by code, model sha256) for the self-test photograph."""
    loaded = load_checkpoint(model_path or default_model_path())
    meta = loaded.meta
    predictor = Predictor.from_loaded(
        loaded, selftest_config(meta.inference_tile_size, meta.inference_overlap, meta.default_head)
    )
    prediction = predictor.predict(read_image(selftest_dir() / IMAGE_NAME))
    thresholds = {lesion.code: value for lesion, value in meta.thresholds().items()}
    return prediction, thresholds, loaded.sha256


@dataclass
class SelfTestResult:
    """What was checked, line by line, and whether everything passed."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def check(self, passed: bool, text: str) -> None:
        self.lines.append(f"{'ok  ' if passed else 'FAIL'} {text}")
        self.ok = self.ok and passed


def check_torch(result: SelfTestResult) -> None:
    """torch imports and computes."""
    import torch

    value = float(torch.ones(2, 2).sum())
    result.check(
        value == 4.0, f"torch {torch.__version__} imported and computing ({torch.get_num_threads()} threads)"
    )


def check_inference(result: SelfTestResult) -> None:
    """Run the bundled model on the self-test photograph and compare with the reference masks."""
    folder = selftest_dir()
    reference_file = folder / "reference.json"
    if not reference_file.is_file():
        result.check(False, f"reference result missing: {reference_file}")
        return
    reference = json.loads(reference_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    prediction, thresholds, sha256 = predict_reference_image()
    seconds = time.perf_counter() - started
    result.check(sha256 == reference["model_sha256"], f"bundled model {sha256[:12]} is the reference's model")
    result.check(
        True,
        f"inference on {IMAGE_NAME} {prediction.probs.shape[2]}x{prediction.probs.shape[1]}: {seconds:.1f} s",
    )
    for lesion in LESIONS:
        expected = read_mask(folder / f"reference_{lesion.code}.png")
        mask = prediction.mask(lesion, thresholds[lesion.code])
        counts = overlap(mask, expected)
        dice = 1.0 if counts.first + counts.second == 0 else counts.dice
        result.check(
            dice >= MIN_DICE,
            f"{lesion.code} at threshold {thresholds[lesion.code]:.3f}: Dice {dice:.4f} vs reference "
            f"({counts.first} / {counts.second} px; needs >= {MIN_DICE})",
        )
    if not np.any(prediction.probs):
        result.check(False, "the prediction is empty everywhere")
