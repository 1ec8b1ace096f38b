"""Which part of the simulated other camera costs what: each degradation of
``core.learning.robustness.simulate_camera`` alone, scored on a run's validation photographs.

Usage (repository root)::

    python scripts/diagnose_simulated_camera.py --data ../shared/data/IDRiD --run RUN \\
        [--model resources/models/lesionlens-idrid-w025-robust.safetensors]

Prints a Markdown table: pooled AUPR per lesion and mAUPR (model's default head) per variant.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import core.learning.robustness as camera
from core.assets.paths import default_model_path
from core.config import InferenceConfig
from core.data.datasets import discover
from core.inference.predictor import Predictor, model_tiling
from core.lesions import LESIONS
from core.network.backends import load_for_inference
from core.scoring.metrics import PRAccumulator

log = logging.getLogger("diagnose_simulated_camera")


def _small(image: np.ndarray) -> np.ndarray:
    height = round(image.shape[0] * camera.SIMULATED_WIDTH / image.shape[1])
    return cv2.resize(image, (camera.SIMULATED_WIDTH, height), interpolation=cv2.INTER_AREA)


def _dark(image: np.ndarray) -> np.ndarray:
    values = camera.SIMULATED_GAIN * (image.astype(np.float32) / 255.0) ** camera.SIMULATED_GAMMA
    return np.clip(values * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _cool(image: np.ndarray) -> np.ndarray:
    values = image.astype(np.float32)
    values[..., 0] *= camera.SIMULATED_RED_BLUE[0]
    values[..., 2] *= camera.SIMULATED_RED_BLUE[1]
    return np.clip(values + 0.5, 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray) -> np.ndarray:
    quality = [cv2.IMWRITE_JPEG_QUALITY, camera.SIMULATED_JPEG_QUALITY]
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(image[..., ::-1]), quality)
    if not ok:
        raise RuntimeError("OpenCV could not encode a JPEG")
    return np.ascontiguousarray(cv2.imdecode(encoded, cv2.IMREAD_COLOR)[..., ::-1])


VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "nothing": lambda image: image,
    f"downscaled to {camera.SIMULATED_WIDTH} px wide": _small,
    f"darkened (gain {camera.SIMULATED_GAIN}, gamma {camera.SIMULATED_GAMMA})": _dark,
    "cooler colour": _cool,
    f"JPEG quality {camera.SIMULATED_JPEG_QUALITY}": _jpeg,
    "downscaled + JPEG": lambda image: _jpeg(_small(image)),
    "all of it (the check)": camera.simulate_camera,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--run", type=Path, required=True, help="run folder naming the images (config.json)")
    parser.add_argument("--model", type=Path, default=None, help="default: the built-in model")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    loaded = load_for_inference(args.model or default_model_path(), "cpu", "auto")
    predictor = Predictor.from_loaded(loaded, InferenceConfig(tiling=model_tiling(loaded.meta)))
    stems = set(json.loads((args.run / "config.json").read_text())["val_images"])
    samples = [s for s in discover(args.data).samples if s.stem in stems]
    scores = {name: PRAccumulator() for name in VARIANTS}
    for sample in samples:
        image, masks = sample.load()
        for name, degrade in VARIANTS.items():
            maps = predictor.predict(degrade(image)).probs
            if maps.shape[1:] != image.shape[:2]:  # scored at the original pixels
                size = (image.shape[1], image.shape[0])
                maps = np.stack([cv2.resize(m, size, interpolation=cv2.INTER_LINEAR) for m in maps])
            scores[name].add(maps, masks)
        log.info("%s", sample.stem)
    lines = ["| applied to the photographs | MA | HE | EX | SE | mAUPR |", "|---|---|---|---|---|---|"]
    for name, accumulator in scores.items():
        aupr = {lesion.code: accumulator.aupr(lesion) for lesion in LESIONS}
        cells = " | ".join(f"{aupr[code]:.3f}" for code in ("MA", "HE", "EX", "SE"))
        lines.append(f"| {name} | {cells} | {float(np.mean(list(aupr.values()))):.3f} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
