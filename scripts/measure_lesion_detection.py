"""Lesion-level view of two sets of thresholds on a run's validation photographs.

For each lesion: how many ground-truth lesions (connected components) the mask at the
threshold touches, and how many marked components touch no lesion of that kind. Pixel F1 and
AUPR do not say how many haemorrhages a reader is shown or how many marks are false; this does.

Usage (repository root)::

    python scripts/measure_lesion_detection.py --data ../shared/data/IDRiD --run RUN \\
        --model resources/models/lesionlens-idrid-w025-robust.safetensors \\
        --compare MA=0.588,HE=0.357,EX=0.855,SE=0.737
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cli.main import parse_thresholds
from core.config import InferenceConfig
from core.data.datasets import discover
from core.inference.predictor import Predictor
from core.lesions import LESIONS
from core.network.backends import load_for_inference

log = logging.getLogger("measure_lesion_detection")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--run", type=Path, required=True, help="run folder whose config.json names the images"
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--compare", required=True, help="other thresholds, MA=..,HE=..,EX=..,SE=..")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    loaded = load_for_inference(args.model, "cpu", "auto")
    sets = {
        "model defaults": {lesion.code: t for lesion, t in loaded.meta.thresholds().items()},
        "compared": {lesion.code: t for lesion, t in parse_thresholds(args.compare).items()},
    }
    stems = set(json.loads((args.run / "config.json").read_text())["val_images"])
    samples = [s for s in discover(args.data).samples if s.stem in stems]
    predictor = Predictor.from_loaded(loaded, InferenceConfig())
    found = {name: {c: [0, 0] for c in sets[name]} for name in sets}
    false = {name: {c: [0, 0] for c in sets[name]} for name in sets}
    # per lesion, the false marks a reader sees without zooming: >= 100 px, >= 500 px, their pixels
    visible = {name: {c: [0, 0, 0] for c in sets[name]} for name in sets}
    for sample in samples:
        image, masks = sample.load()
        prediction = predictor.predict(image)
        for lesion in LESIONS:
            truth = masks.get(lesion)
            for name, thresholds in sets.items():
                marked = prediction.mask(lesion, thresholds[lesion.code])
                if truth is not None and truth.any():
                    count, labels = cv2.connectedComponents(truth.astype(np.uint8))
                    touched = np.unique(labels[marked & truth])
                    found[name][lesion.code][0] += int((touched > 0).sum())
                    found[name][lesion.code][1] += count - 1
                count, labels, stats, _ = cv2.connectedComponentsWithStats(marked.astype(np.uint8))
                hits = np.unique(labels[truth]) if truth is not None else np.array([0])
                false[name][lesion.code][0] += (count - 1) - int((hits > 0).sum())
                false[name][lesion.code][1] += count - 1
                is_false = np.ones(count, bool)
                is_false[0] = False
                is_false[hits] = False
                sizes = stats[is_false, cv2.CC_STAT_AREA]
                tally = visible[name][lesion.code]
                tally[0] += int((sizes >= 100).sum())
                tally[1] += int((sizes >= 500).sum())
                tally[2] += int(sizes[sizes >= 100].sum())
        log.info("%s", sample.stem)
    lines = [
        f"| {len(samples)} photographs | lesions found | marks on no lesion | "
        "of those, >= 100 px / >= 500 px; pixels of the >= 100 px ones |",
        "|---|---|---|---|",
    ]
    for name, thresholds in sets.items():
        shown = ", ".join(f"{c} {t:.3f}" for c, t in thresholds.items())
        hit = "; ".join(f"{c} {v[0]}/{v[1]} ({v[0] / max(v[1], 1):.0%})" for c, v in found[name].items())
        wrong = "; ".join(f"{c} {v[0]}/{v[1]}" for c, v in false[name].items())
        seen = "; ".join(f"{c} {v[0]} / {v[1]}; {v[2]:,} px" for c, v in visible[name].items())
        lines.append(f"| {name} ({shown}) | {hit} | {wrong} | {seen} |")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
