"""Does a darker, smaller, recompressed copy of a photograph get the same field of view?

For every photograph of a folder (recursively) this prints the intersection over union of the
field of view found on the photograph and on its simulated-other-camera copy
(:func:`core.learning.robustness.simulate_camera`, mask resized back), and the field of view's
share of the image. A low IoU means the copy is cropped and scaled differently from the
original before the model sees it.

Usage (repository root)::

    python scripts/measure_fov_consistency.py "../shared/data/IDRiD/A. Segmentation/1. Original Images"
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np

from core.imaging.fov import detect_fov
from core.imaging.io import read_image
from core.learning.robustness import simulate_camera

log = logging.getLogger("measure_fov_consistency")


def intersection_over_union(first: np.ndarray, second: np.ndarray) -> float:
    """IoU of two bool masks; ``second`` is resized (nearest) to ``first``'s shape if needed."""
    if second.shape != first.shape:
        size = (first.shape[1], first.shape[0])
        second = cv2.resize(second.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST).astype(bool)
    return float((first & second).sum() / max(1, (first | second).sum()))


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    scores = []
    for path in sorted(args.folder.rglob("*.jpg")):
        image = read_image(path)
        original = detect_fov(image).mask
        iou = intersection_over_union(original, detect_fov(simulate_camera(image)).mask)
        scores.append(iou)
        log.info(
            "%s  IoU original ~ simulated camera %.4f  field of view %.4f of the image",
            path.stem,
            iou,
            original.mean(),
        )
    if scores:
        median = float(np.median(scores))
        log.info("%d photographs: lowest IoU %.4f, median %.4f", len(scores), min(scores), median)


if __name__ == "__main__":
    main()
