"""Rule 18's stripe measure (a record of the one-off experiment, run from the repository root).

    python docs/training/rules/rule18_stripes.py MODEL.safetensors [2d|rows]

Predicts IDRiD_03 (head 4, the model's own settings) and prints, per lesion, the mean
|second difference| of its working-scale map row to row and column to column inside the band of
unsure values (50-250 of 255), and their ratio (1.0: no direction stands out). With ``2d`` or
``rows`` the maps are first filtered as rule 18's candidates A and B were scored: a patch of
``Predictor._run`` (per tile, edge rows replicated); without, the model file's own maps.
"""

from __future__ import annotations

import logging
import sys

import numpy as np
import torch
from torch.nn import functional

import core.inference.predictor as predictor_module
from core.imaging.fov import detect_fov
from core.imaging.io import read_image
from core.lesions import LESIONS
from core.network.checkpoint import load_checkpoint

PHOTOGRAPH = "../shared/data/IDRiD/A. Segmentation/1. Original Images/a. Training Set/IDRiD_03.jpg"
log = logging.getLogger("rule18")


def candidate_filter(variant: str) -> torch.Tensor:
    """Rule 18's kernels: A ``2d`` 3 x 3 binomial, B ``rows`` [1, 2, 1] / 4 down each column."""
    k1 = torch.tensor([1.0, 2.0, 1.0]) / 4
    return k1[:, None] * k1[None, :] if variant == "2d" else k1[:, None]


def patch_predictor(variant: str) -> None:
    """Filter every tile's B x C x T x T maps after the network, as the candidates were scored."""
    kernel = candidate_filter(variant)
    original = predictor_module.Predictor._run

    def filtered(self: predictor_module.Predictor, tiles: np.ndarray, head: str) -> np.ndarray:
        maps = torch.from_numpy(np.ascontiguousarray(original(self, tiles, head), dtype=np.float32))
        channels, (kh, kw) = maps.shape[1], kernel.shape
        padded = functional.pad(maps, (kw // 2, kw // 2, kh // 2, kh // 2), mode="replicate")
        weights = kernel.expand(channels, 1, kh, kw).contiguous()
        return functional.conv2d(padded, weights, groups=channels).numpy()

    predictor_module.Predictor._run = filtered  # type: ignore[method-assign]


def stripe_ratios(levels: np.ndarray) -> tuple[float, float]:
    """Mean |second difference| row to row and column to column of an h x w uint8 map, in 50-250."""
    a = levels.astype(float)
    band = ((levels > 50) & (levels < 250))[1:-1, 1:-1]
    rows = np.abs(a[2:] - 2 * a[1:-1] + a[:-2])[:, 1:-1]
    columns = np.abs(a[:, 2:] - 2 * a[:, 1:-1] + a[:, :-2])[1:-1]
    return float(rows[band].mean()), float(columns[band].mean())


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(sys.argv) > 2:
        patch_predictor(sys.argv[2])
    image = np.asarray(read_image(PHOTOGRAPH))
    fov = detect_fov(image)
    predictor = predictor_module.Predictor.from_loaded(load_checkpoint(sys.argv[1]))
    prepared = predictor.prepare(image, fov)
    kept: dict[str, np.ndarray] = {}
    restore = predictor_module.restore

    def keep(levels: np.ndarray, prep: object) -> np.ndarray:
        kept["levels"] = levels.copy()
        return restore(levels, prep)  # type: ignore[arg-type]

    predictor_module.restore = keep  # type: ignore[assignment]
    predictor.predict(image, fov, prepared=prepared)
    m = prepared.margin
    for index, lesion in enumerate(LESIONS):
        rows, columns = stripe_ratios(kept["levels"][index, m:-m, m:-m])
        ratio = rows / columns
        log.info("%s: row to row %.1f, column to column %.1f, ratio %.2f", lesion.code, rows, columns, ratio)


if __name__ == "__main__":
    main()
