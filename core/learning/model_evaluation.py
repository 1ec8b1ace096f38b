"""Running a model for scoring: whole photographs (all four heads and their mean) or the
paper's 64-px tiles, each image's maps handed to :class:`core.scoring.evaluation.Evaluation`.

Kept apart from the scoring itself (:mod:`core.scoring.evaluation`, pure) because it needs a
network and the training tiles (:mod:`core.learning.training_data`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.config import NUM_HEADS, InferenceConfig
from core.data.datasets import Sample
from core.imaging.fov import detect_fov
from core.imaging.preprocess import prepare, prepare_masks
from core.inference.predictor import Predictor
from core.learning.training_data import TileCacheConfig, build_label_map, cut_tiles
from core.lesions import LESIONS, TrainingClass
from core.network.model_file import LoadedModel
from core.scoring.evaluation import HEADS, Evaluation
from core.scoring.false_alarms import FalseAlarmAccumulator, far_from_lesions
from core.scoring.metrics import PRAccumulator
from core.scoring.thresholds import DEFAULT_BUDGET


def evaluate_model(
    loaded: LoadedModel,
    samples: list[Sample],
    config: InferenceConfig,
    on_image: Callable[[int, int, Sample], None] | None = None,
    false_alarm_budget: float = DEFAULT_BUDGET,
) -> Evaluation:
    """Whole-image protocol for all four heads and their mean, with the far-from-lesion false
    alarms that the low-false-alarm operating point is held to (``false_alarm_budget``)."""
    predictor = Predictor.from_loaded(loaded, config)
    evaluation = Evaluation("images", {}, false_alarm_budget=false_alarm_budget, flip_tta=config.flip_tta)
    for index, sample in enumerate(samples):
        image, masks = sample.load()
        heads = predictor.predict_all_heads(image)
        far = far_from_lesions(heads.fov.mask, masks)
        fov_pixels = int(heads.fov.mask.sum())
        for head in HEADS:
            probs = heads.mean().probs if head == "mean" else heads.probs[int(head) - 1]
            acc = PRAccumulator()
            acc.add(probs, masks)
            evaluation.add_image(sample.stem, head, acc)
            alarms = FalseAlarmAccumulator()
            alarms.add(probs, far, fov_pixels)
            evaluation.add_alarms(head, alarms)
        if on_image:
            on_image(index + 1, len(samples), sample)
    return evaluation


def evaluate_tiles(
    loaded: LoadedModel,
    samples: list[Sample],
    tile_size: int = 64,
    device: str = "auto",
    on_image: Callable[[int, int, Sample], None] | None = None,
) -> Evaluation:
    """The tile protocol (see module docstring); each tile is predicted without context."""
    predictor = Predictor.from_loaded(loaded, InferenceConfig(device=device))
    evaluation = Evaluation("tiles", {})
    rng = np.random.default_rng(0)
    for index, sample in enumerate(samples):
        image, masks = sample.load()
        prepared = prepare(image, detect_fov(image), loaded.meta.preprocess)
        labels = build_label_map(prepared.mask, prepare_masks(masks, prepared))
        tile_config = TileCacheConfig(tile_size, tile_size)
        tiles, maps = cut_tiles(prepared.image, labels, prepared.mask, tile_config, rng)
        accs = {head: PRAccumulator() for head in HEADS}
        for start in range(0, len(tiles), 64):
            batch = tiles[start : start + 64]
            probs = predictor.predict_tiles(batch, "all")  # B x (4 * L) x T x T float
            levels = np.clip(probs * 255 + 0.5, 0, 255).astype(np.uint8)
            for offset in range(len(batch)):
                truth = {
                    lesion: maps[start + offset] == int(TrainingClass.for_lesion(lesion))
                    for lesion in LESIONS
                }
                per_head = levels[offset].reshape(NUM_HEADS, len(LESIONS), tile_size, tile_size)
                for number in range(NUM_HEADS):
                    accs[str(number + 1)].add(np.ascontiguousarray(per_head[number]), truth)
                mean = ((per_head.astype(np.uint16).sum(0) + 2) // 4).astype(np.uint8)
                accs["mean"].add(mean, truth)
        for head, acc in accs.items():
            evaluation.add_image(sample.stem, head, acc)
        if on_image:
            on_image(index + 1, len(samples), sample)
    return evaluation
