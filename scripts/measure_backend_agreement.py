"""How far the backends and precisions move the built-in model's masks and scores.

Run: ``python scripts/measure_backend_agreement.py --data ../shared/data/IDRiD`` (the 14
validation photographs the model file names; about 15 minutes on two cores). Against torch
fp32, for every other configuration: Dice per lesion of the masks at the default thresholds
(pixels of all photographs pooled, and the lowest single photograph) and the pooled validation
AUPR. Prints a Markdown table (docs/performance.md quotes it).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.assets.paths import default_model_path  # noqa: E402
from core.config import InferenceConfig, TilingConfig  # noqa: E402
from core.data.datasets import discover  # noqa: E402
from core.inference.predictor import Predictor  # noqa: E402
from core.lesions import LESIONS  # noqa: E402
from core.network.checkpoint import load_checkpoint  # noqa: E402
from core.scoring.metrics import PRAccumulator  # noqa: E402

CONFIGS = {
    "torch fp32": ("torch", "fp32"),
    "openvino fp32": ("openvino", "fp32"),
    "openvino bf16": ("openvino", "bf16"),
    "torch bf16": ("torch", "bf16"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="the IDRiD folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    loaded = load_checkpoint(default_model_path())
    meta = loaded.meta
    stems = set(meta.metrics["validation"]["images"])
    samples = [s for s in discover(args.data).samples if s.stem in stems]
    thresholds = meta.thresholds()
    predictors = {
        name: Predictor.from_loaded(
            loaded,
            InferenceConfig(
                tiling=TilingConfig(meta.inference_tile_size, meta.inference_overlap, "smooth"),
                device="cpu",
                precision=precision,  # type: ignore[arg-type]
                head=meta.default_head,
                backend=backend,  # type: ignore[arg-type]
            ),
        )
        for name, (backend, precision) in CONFIGS.items()
    }
    pooled = {name: PRAccumulator() for name in CONFIGS}
    overlap = {name: np.zeros((len(LESIONS), 3), np.int64) for name in CONFIGS}  # both, ours, reference
    worst = {name: np.ones(len(LESIONS)) for name in CONFIGS}
    for sample in samples:
        image, masks = sample.load()
        maps = {name: predictor.predict(image) for name, predictor in predictors.items()}
        for name, result in maps.items():
            pooled[name].add(result.probs, masks)
            for index, lesion in enumerate(LESIONS):
                ours = result.mask(lesion, thresholds[lesion])
                reference = maps["torch fp32"].mask(lesion, thresholds[lesion])
                counts = np.array([(ours & reference).sum(), ours.sum(), reference.sum()])
                overlap[name][index] += counts
                if counts[1] + counts[2]:
                    worst[name][index] = min(worst[name][index], 2 * counts[0] / (counts[1] + counts[2]))
        logging.getLogger("agreement").warning("done %s", sample.stem)
    reference_aupr = {lesion: pooled["torch fp32"].aupr(lesion) for lesion in LESIONS}
    lines = [
        "| configuration | Dice vs torch fp32, pooled (lowest photograph) | AUPR - torch fp32's | mAUPR |",
        "|---|---|---|---|",
    ]
    for name in CONFIGS:
        dice = [
            f"{lesion.code} {2 * both / (ours + ref):.4f} ({worst[name][i]:.3f})"
            for i, (lesion, (both, ours, ref)) in enumerate(zip(LESIONS, overlap[name], strict=True))
        ]
        aupr = {lesion: pooled[name].aupr(lesion) for lesion in LESIONS}
        delta = [f"{lesion.code} {aupr[lesion] - reference_aupr[lesion]:+.4f}" for lesion in LESIONS]
        maupr = np.mean(list(aupr.values()))
        lines.append(f"| {name} | {', '.join(dice)} | {', '.join(delta)} | {maupr:.4f} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
