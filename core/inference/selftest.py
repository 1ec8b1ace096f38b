"""The engine half of ``LesionLens --self-test``: the bundled model on a bundled photograph,
compared with the stored reference result.

The reference (``resources/selftest/``) is a 1024 x 1536 crop of the bundled sample
``synthetic_02.jpg`` (lossless PNG) and its four masks at the model's default thresholds,
made by ``scripts/make_selftest_reference.py`` with torch in fp32. The self-test runs the
backend and precision the application itself would use here (OpenVINO on a CPU-only
installer, in bf16 where the CPU has it), so it checks what ships.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.assets.paths import default_model_path, resources_dir
from core.config import InferenceConfig, TilingConfig, backend_choice, head_choice
from core.imaging.io import read_image, read_mask
from core.imaging.probability_maps import LesionProbabilities
from core.inference.predictor import Predictor
from core.lesions import LESIONS
from core.network.backends import load_for_inference, resolve_backend
from core.scoring.agreement import overlap

MIN_DICE = 0.99
IMAGE_NAME = "selftest.png"


def selftest_dir() -> Path:
    return resources_dir() / "selftest"


def selftest_config(
    meta_tile: int,
    meta_overlap: int,
    head: str,
    backend: str = "torch",
    precision: str = "fp32",
    flip_tta: bool = False,
) -> InferenceConfig:
    """CPU, the model's tiling, head and flip TTA; the reference's backend and precision unless given."""
    return InferenceConfig(
        tiling=TilingConfig(tile_size=meta_tile, overlap=meta_overlap, blending="smooth"),  # as the app
        device="cpu",
        precision=precision,  # type: ignore[arg-type]
        head=head_choice(head),
        backend=backend_choice(backend),
        flip_tta=flip_tta,
    )


def predict_reference_image(
    model_path: Path | None = None, backend: str = "torch", precision: str = "fp32"
) -> tuple[LesionProbabilities, dict[str, float], str, str]:
    """(prediction, default thresholds by code, model sha256, backend description) for the
    self-test photograph."""
    loaded = load_for_inference(model_path or default_model_path(), "cpu", backend)
    meta = loaded.meta
    config = selftest_config(
        meta.inference_tile_size,
        meta.inference_overlap,
        meta.default_head,
        backend,
        precision,
        meta.uses_flip_tta(),
    )
    predictor = Predictor.from_loaded(loaded, config)
    prediction = predictor.predict(read_image(selftest_dir() / IMAGE_NAME))
    thresholds = {lesion.code: value for lesion, value in meta.thresholds().items()}
    described = ", ".join(f"{k} {v}" for k, v in predictor.network.describe().items())
    return prediction, thresholds, loaded.sha256, described


@dataclass
class SelfTestResult:
    """What was checked, line by line, and whether everything passed."""

    lines: list[str] = field(default_factory=list)
    ok: bool = True

    def check(self, passed: bool, text: str) -> None:
        self.lines.append(f"{'ok  ' if passed else 'FAIL'} {text}")
        self.ok = self.ok and passed


def check_backend(result: SelfTestResult) -> str:
    """The backend the application uses here resolves and its runtime imports; returns its name."""
    backend = resolve_backend(InferenceConfig(device="cpu"))
    if backend == "openvino":
        from core.network.openvino_network import import_openvino

        version = import_openvino().__version__.split("-")[0]
        result.check(True, f"backend openvino {version} (the CPU default), telemetry off")
    else:
        import torch

        value = float(torch.ones(2, 2).sum())
        result.check(value == 4.0, f"backend torch {torch.__version__} ({torch.get_num_threads()} threads)")
    return backend


def check_inference(result: SelfTestResult) -> None:
    """Run the bundled model on the self-test photograph and compare with the reference masks."""
    folder = selftest_dir()
    reference_file = folder / "reference.json"
    if not reference_file.is_file():
        result.check(False, f"reference result missing: {reference_file}")
        return
    reference = json.loads(reference_file.read_text(encoding="utf-8"))
    started = time.perf_counter()
    backend = check_backend(result)
    prediction, thresholds, sha256, described = predict_reference_image(backend=backend, precision="auto")
    seconds = time.perf_counter() - started
    result.check(sha256 == reference["model_sha256"], f"bundled model {sha256[:12]} is the reference's model")
    result.check(
        True,
        f"inference on {IMAGE_NAME} {prediction.probs.shape[2]}x{prediction.probs.shape[1]}: "
        f"{seconds:.1f} s ({described})",
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
