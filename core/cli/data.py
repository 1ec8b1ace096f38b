"""Command-line commands for data, training and evaluation: ``dataset check``, ``train``,
``evaluate``. Registered by :mod:`core.cli.main`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.config import BACKENDS, FLIP_TTA_HELP, InferenceConfig, PreprocessConfig, TilingConfig
from core.data.datasets import LAYOUTS, DatasetIndex, Sample, check, discover
from core.errors import ConfigError, DatasetError
from core.scoring.metrics import PRECISE_RULE

if TYPE_CHECKING:
    from core.learning.train_config import TrainConfig
    from core.network.model_file import LoadedModel
    from core.scoring.evaluation import Evaluation

log = logging.getLogger("lesionlens")
PROTOCOL_NAMES = {"images": "whole images, pooled pixels", "tiles": "lesion tiles only"}


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``dataset``, ``train`` and ``evaluate``."""
    dataset = sub.add_parser("dataset", help="inspect a dataset folder")
    dataset_sub = dataset.add_subparsers(dest="dataset_command", required=True)
    check_parser = dataset_sub.add_parser("check", help="counts per split and lesion, and every problem")
    check_parser.add_argument("data", type=Path)
    check_parser.add_argument("--dataset", default="auto", choices=["auto", *LAYOUTS])

    train = sub.add_parser("train", help="train a model (single process, or under torchrun)")
    train.add_argument("--data", type=Path, required=True)
    train.add_argument("--dataset", default="auto", choices=["auto", *LAYOUTS])
    train.add_argument("--out", type=Path, required=True, help="run folder (resumed if it exists)")
    train.add_argument(
        "--preset",
        default="robust",
        choices=["robust", "paper"],
        help="training recipe (robust: the default, see docs/training/ablation.md; paper: METHOD.md)",
    )
    train.add_argument("--width", type=float, default=None)
    train.add_argument("--tile", type=int, default=None)
    train.add_argument("--stride", type=int, default=None, help="tile step (default: tile, no overlap)")
    train.add_argument("--keep-empty", type=float, default=None, help="fraction of lesion-free tiles kept")
    train.add_argument(
        "--edge-negatives",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep lesion-free tiles on the field-of-view edge",
    )
    train.add_argument(
        "--bright-negatives", type=float, default=None, help="fraction of brightest lesion-free tiles kept"
    )
    train.add_argument(
        "--dark-negatives",
        type=float,
        default=None,
        help="fraction of darkest lesion-free tiles kept (fovea, large vessels)",
    )
    train.add_argument(
        "--fov-diameter",
        default=None,
        help="field-of-view diameter in px the photographs are resized to, or 'native'",
    )
    train.add_argument(
        "--illumination",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="normalise illumination and colour inside the field of view",
    )
    train.add_argument(
        "--surround",
        default=None,
        choices=["black", "background"],
        help="what tiles see round the field of view: black, or the flat background colour "
        "(outside the field of view and a margin round the crop; needs --illumination)",
    )
    train.add_argument("--loss", default=None, choices=["ce", "ce+dice"])
    train.add_argument(
        "--camera-share",
        type=float,
        default=None,
        help="share of each photograph's tiles cut from a copy as a random other camera took it "
        "(smaller, darker, other gamma and colour, JPEG; before the preprocessing)",
    )
    train.add_argument(
        "--camera-augment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="augment for camera variation (zoom, gamma, colour temperature, blur, JPEG)",
    )
    train.add_argument("--epochs", type=int, default=20)
    train.add_argument("--batch", type=int, default=None)
    train.add_argument("--lr", type=float, default=2e-3)
    train.add_argument(
        "--class-weights", default=None, help="six comma-separated weights (BG,FUNDUS,MA,HE,EX,SE)"
    )
    train.add_argument(
        "--val-count",
        type=int,
        default=14,
        help="validation images taken from the training "
        "split when the dataset has no validation split (IDRiD: 40/14 as the paper); 0: train on "
        "every image, no validation (the final model, once the epoch count is fixed)",
    )
    train.add_argument("--val-every", type=int, default=1)
    train.add_argument("--val-tile", type=int, default=256)
    train.add_argument("--max-steps", type=int, default=None, help="cap on steps per epoch")
    train.add_argument("--no-augment", action="store_true")
    train.add_argument(
        "--encoder-weights", type=Path, default=None, help="local torchvision vgg16_bn weights"
    )
    train.add_argument(
        "--init-weights",
        type=Path,
        default=None,
        help="LesionLens model file to start from (fine-tuning; same width)",
    )
    train.add_argument("--device", default="auto")
    train.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"])
    train.add_argument("--seed", type=int, default=0)

    evaluate = sub.add_parser("evaluate", help="AUPR per lesion, as the IDRiD challenge")
    evaluate.add_argument("--model", type=Path, default=None)
    evaluate.add_argument("--data", type=Path, default=None, help="dataset folder (with --model)")
    evaluate.add_argument("--pred", type=Path, default=None, help="'lesionlens predict' output folder")
    evaluate.add_argument(
        "--gt", type=Path, default=None, help="dataset folder with the ground truth (with --pred)"
    )
    evaluate.add_argument("--dataset", default="auto", choices=["auto", *LAYOUTS])
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument(
        "--val-of",
        type=Path,
        default=None,
        help="evaluate the validation images of this training run (RUN folder)",
    )
    evaluate.add_argument("--protocol", default="images", choices=["images", "tiles"])
    evaluate.add_argument("--out", type=Path, default=Path("lesionlens-evaluation"))
    evaluate.add_argument("--tile", type=int, default=256)
    evaluate.add_argument("--overlap", type=int, default=32)
    evaluate.add_argument("--device", default="auto")
    evaluate.add_argument("--backend", default=None, choices=list(BACKENDS), help="default: env or auto")
    evaluate.add_argument(
        "--flip-tta", action=argparse.BooleanOptionalAction, default=None, help=FLIP_TTA_HELP
    )
    evaluate.add_argument(
        "--set-default-thresholds",
        action="store_true",
        help="write the default thresholds (the highest within 2 %% of the best F1; with "
        "--false-alarm-budget: the best F1 within it) into the model file as the app's defaults",
    )
    evaluate.add_argument(
        "--false-alarm-budget",
        type=float,
        default=None,
        help="share of the field of view the proposed thresholds may flag far from any lesion, all "
        "lesions together (reported per head; default 0.001 = 0.1 %%)",
    )


def split_train_val(index: DatasetIndex, val_count: int, seed: int) -> tuple[list[Sample], list[Sample], str]:
    """(train, validation, description): the dataset's own validation split if it has one,
    otherwise ``val_count`` images drawn (seeded) from its training split. ``val_count`` 0:
    every image (training and validation splits) trains, none validates."""
    if val_count == 0:
        pool = index.split("train") + index.split("valid") or index.split("all")
        every = sorted(pool, key=lambda s: s.stem)
        return every, [], f"{index.layout} {index.root.name}: all {len(every)} images, no validation"
    if val_count < 0:
        raise DatasetError(f"--val-count {val_count}: give 0 or more images")
    if index.split("valid"):
        return index.split("train"), index.split("valid"), f"{index.layout}: train / valid splits"
    pool = index.split("train") or index.split("all")
    if len(pool) <= val_count:
        raise DatasetError(
            f"{index.root}: {len(pool)} training images; need more than --val-count {val_count}"
        )
    order = np.random.default_rng(seed).permutation(len(pool))
    val = sorted((pool[i] for i in order[:val_count]), key=lambda s: s.stem)
    train = sorted((pool[i] for i in order[val_count:]), key=lambda s: s.stem)
    return (
        train,
        val,
        (
            f"{index.layout} {index.root.name}: {len(train)} train / {len(val)} validation images "
            f"drawn with seed {seed} from its training split"
        ),
    )


def run_dataset(args: argparse.Namespace) -> int:
    """``dataset check``."""
    index = discover(args.data, args.dataset)
    problems = check(index)
    print(f"{index.root}: {index.layout} layout")
    print(
        f"{'split':8} {'images':>7} " + " ".join(f"{c:>5}" for c in ("MA", "HE", "EX", "SE")) + "   (masks)"
    )
    for split, row in index.counts().items():
        print(f"{split:8} {row['images']:>7} " + " ".join(f"{row[c]:>5}" for c in ("MA", "HE", "EX", "SE")))
    for problem in index.problems:
        print(f"PROBLEM {problem}", file=sys.stderr)
    print(f"{len(index.problems)} problems", file=sys.stderr)
    return 1 if problems else 0


def _preprocess_override(args: argparse.Namespace, base: PreprocessConfig) -> PreprocessConfig | None:
    if args.fov_diameter is None and args.illumination is None and args.surround is None:
        return None
    diameter = base.fov_diameter
    if args.fov_diameter is not None:
        text = str(args.fov_diameter).strip().lower()
        if text != "native" and not text.isdigit():
            raise ConfigError(f"--fov-diameter {args.fov_diameter!r}: give pixels (e.g. 1536) or 'native'")
        diameter = None if text == "native" else int(text)
    illumination = base.illumination if args.illumination is None else args.illumination
    surround = base.surround if args.surround is None else args.surround
    if args.surround is None and not illumination:
        surround = "black"  # the background colour is the normalisation's; without it, the paper's black
    return replace(base, fov_diameter=diameter, illumination=illumination, surround=surround)


def train_config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The ``--preset`` recipe with the options given on the command line replacing its values."""
    from core.learning.augment import AugmentConfig
    from core.learning.recipes import CAMERA_AUGMENT, PRESETS, build_config

    base = PRESETS[args.preset]
    augment = None
    if args.no_augment:
        augment = AugmentConfig(False, 0, 0, 0)
    elif args.camera_augment is not None:
        augment = CAMERA_AUGMENT if args.camera_augment else AugmentConfig()
    weights = tuple(float(v) for v in args.class_weights.split(",")) if args.class_weights else None
    return build_config(
        args.preset,
        {
            "width": args.width,
            "epochs": args.epochs,
            "batch_size": args.batch,
            "lr": args.lr,
            "class_weights": weights,
            "precision": args.precision,
            "augment": augment,
            "val_every": args.val_every,
            "val_tiling": TilingConfig(args.val_tile, 32 if args.val_tile > 64 else 0, "smooth"),
            "max_steps_per_epoch": args.max_steps,
            "seed": args.seed,
            "encoder_weights": str(args.encoder_weights) if args.encoder_weights else None,
            "init_weights": str(args.init_weights) if args.init_weights else None,
            "device": args.device,
            "loss": args.loss,
        },
        {
            "tile_size": args.tile,
            "stride": args.stride,
            "keep_empty_fraction": args.keep_empty,
            "edge_negatives": args.edge_negatives,
            "bright_negatives": args.bright_negatives,
            "dark_negatives": args.dark_negatives,
            "camera_share": args.camera_share,
            "seed": args.seed,
            "preprocess": _preprocess_override(args, base.tiles.preprocess),
        },
    )


def run_train(args: argparse.Namespace) -> int:
    """``train``."""
    from core.learning.train import Trainer

    index = discover(args.data, args.dataset)
    train, val, note = split_train_val(index, args.val_count, args.seed)
    config = train_config_from_args(args)
    best = Trainer(config, train, val, args.out, data_note=note).fit()
    print(f"best checkpoint: {best}")
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """``evaluate``."""
    # torch-side imports here: the CPU-only installer builds this parser without torch
    from core.assets.paths import default_model_path
    from core.learning.model_evaluation import evaluate_model, evaluate_tiles
    from core.network.backends import chosen_backend
    from core.network.checkpoint import load_checkpoint
    from core.scoring.evaluation import evaluate_prediction_folder, format_table, write_report
    from core.scoring.thresholds import DEFAULT_BUDGET

    if args.pred is not None:
        if args.gt is None:
            raise DatasetError("--pred needs --gt DATASET_FOLDER with the ground truth")
        samples = _split(discover(args.gt, args.dataset), args.split)
        evaluation = evaluate_prediction_folder(args.pred, samples)
        title = f"Predictions {args.pred} vs {args.gt} ({args.split}, {len(samples)} images, whole images)"
    else:
        if args.data is None:
            raise DatasetError("evaluate needs --data DATASET_FOLDER (or --pred and --gt)")
        loaded = load_checkpoint(args.model or default_model_path())
        index = discover(args.data, args.dataset)
        samples = _run_validation_images(index, args.val_of) if args.val_of else _split(index, args.split)
        if args.val_of:
            args.split = f"validation images of {args.val_of.name}"

        def report(i: int, n: int, s: Sample) -> None:
            log.info("evaluated %d/%d %s", i, n, s.stem)

        if args.protocol == "tiles":
            evaluation = evaluate_tiles(loaded, samples, loaded.meta.train_tile_size, args.device, report)
        else:
            config = InferenceConfig(
                tiling=TilingConfig(args.tile, args.overlap, "smooth"),
                device=args.device,
                flip_tta=loaded.meta.uses_flip_tta(args.flip_tta),
                backend=chosen_backend(args.backend),
            )
            budget = DEFAULT_BUDGET if args.false_alarm_budget is None else args.false_alarm_budget
            if not 0.0 < budget <= 1.0:
                raise ConfigError(
                    f"--false-alarm-budget {budget}: give a share of the field of view in (0, 1]"
                )
            evaluation = evaluate_model(loaded, samples, config, report, budget)
        title = (
            f"{loaded.meta.name} on {args.data} ({args.split}, {len(samples)} images, "
            f"protocol: {PROTOCOL_NAMES[args.protocol]})"
        )
        if args.set_default_thresholds:
            _store_thresholds(loaded, evaluation, use_budget=args.false_alarm_budget is not None)
    paths = write_report(evaluation, args.out, title)
    print(format_table(evaluation, title))
    print(f"reports: {', '.join(str(p) for p in paths.values())}")
    return 0


def _run_validation_images(index: DatasetIndex, run: Path) -> list[Sample]:
    config_path = run / "config.json"
    try:
        stems = set(json.loads(config_path.read_text())["val_images"])
    except (OSError, KeyError, ValueError) as exc:
        raise DatasetError(
            f"{config_path}: not a training run's config ({exc}); pass the RUN folder"
        ) from exc
    samples = [s for s in index.samples if s.stem in stems]
    if len(samples) != len(stems):
        raise DatasetError(
            f"{index.root}: {len(stems) - len(samples)} validation images of {run} are missing"
        )
    return samples


def _split(index: DatasetIndex, split: str) -> list[Sample]:
    samples = index.split(split)
    if not samples:
        raise DatasetError(f"{index.root}: no images in split {split!r}; splits here: {index.splits}")
    return samples


def _store_thresholds(loaded: LoadedModel, evaluation: Evaluation, use_budget: bool) -> None:
    """Write the best head's thresholds into the model file: the flat top of F1
    (:data:`PRECISE_RULE`), or (``use_budget``) the best F1 within the false-alarm budget."""
    from dataclasses import replace

    from core.network.checkpoint import save_checkpoint

    table = evaluation.aupr_table()
    head = max((h for h in table if h in ("1", "2", "3", "4", "mean")), key=lambda h: table[h]["mAUPR"])
    choice = evaluation.budget_thresholds(head) if use_budget else None
    if choice is not None:
        thresholds = choice.thresholds
    else:  # the flat top of F1 (also the tile protocol, which has no far-from-lesion pixels)
        summary = evaluation.pooled[head].summary()
        thresholds = {code: float(summary[code]["precise_threshold"]) for code in ("MA", "HE", "EX", "SE")}
    meta = replace(
        loaded.meta,
        default_thresholds=thresholds,
        inference_flip_tta=bool(evaluation.flip_tta),  # the thresholds hold for maps made this way
        metrics={
            **loaded.meta.metrics,
            "evaluation": json.loads(json.dumps(table)),
            "thresholds_rule": choice.rule if choice is not None else PRECISE_RULE,
        },
    )
    save_checkpoint(loaded.path, loaded.model, meta)
    log.info(
        "default thresholds %s (head %s%s) written to %s",
        thresholds,
        head,
        ", mirrored tiles averaged" if evaluation.flip_tta else "",
        loaded.path,
    )
