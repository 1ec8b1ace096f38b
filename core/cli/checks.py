"""``lesionlens check``: the simulated-camera, healthy-eye and FOV-border checks of a model.

Writes ``checks.json`` and ``checks.md`` into ``--out``; ``scripts/ship_model.py`` copies
them into the model card.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from core.config import BACKENDS, FLIP_TTA_HELP, InferenceConfig, TilingConfig, head_choice
from core.data.datasets import LAYOUTS, Sample, discover
from core.errors import LesionLensError
from core.imaging.io import write_json
from core.lesions import LESIONS

log = logging.getLogger("lesionlens")


def add_check(sub: argparse._SubParsersAction) -> None:
    """Register ``check``."""
    check = sub.add_parser(
        "check", help="simulated other camera, healthy eye and FOV-border false alarms of a model"
    )
    check.add_argument("--model", type=Path, default=None, help="model file (default: the built-in)")
    check.add_argument("--data", type=Path, required=True, help="dataset folder with masks")
    check.add_argument("--dataset", default="auto", choices=["auto", *LAYOUTS])
    check.add_argument("--split", default="test")
    check.add_argument("--val-of", type=Path, default=None, help="use the validation images of this RUN")
    check.add_argument(
        "--model-validation",
        action="store_true",
        help="use the validation images recorded in the model file",
    )
    check.add_argument("--out", type=Path, default=Path("lesionlens-checks"))
    check.add_argument("--device", default="auto")
    check.add_argument("--backend", default=None, choices=list(BACKENDS), help="default: $LESIONLENS_BACKEND")
    check.add_argument("--flip-tta", action=argparse.BooleanOptionalAction, default=None, help=FLIP_TTA_HELP)


def _shares(shares: dict[str, float]) -> str:
    """ "MA 0.0163%, HE ..." for shares per lesion code."""
    return ", ".join(f"{k} {v:.4%}" for k, v in shares.items())


def _pixels(regions: dict[str, int]) -> str:
    """ "MA 57, HE ..." for region sizes per lesion code."""
    return ", ".join(f"{k} {v}" for k, v in regions.items())


def format_checks(result: dict[str, Any]) -> str:
    """Markdown tables of :func:`core.learning.robustness.validation_checks` plus the healthy-eye share."""
    lines = ["| photographs | head | EX | HE | MA | SE | mAUPR |", "|---|---|---|---|---|---|---|"]
    for name, label in (("original", "validation"), ("simulated_camera", "simulated other camera")):
        for head, row in result[name].items():
            cells = " | ".join(f"{row[c]:.4f}" for c in ("EX", "HE", "MA", "SE", "mAUPR"))
            lines.append(f"| {label} | {head} | {cells} |")
    head = result["head"]
    ratio = result["simulated_camera"][head]["mAUPR"] / max(1e-9, result["original"][head]["mAUPR"])
    border = result["border_false_alarms"]
    healthy = result["healthy_eye"]
    lines += [
        "",
        f"Simulated camera / original mAUPR (head {head}): **{ratio:.3f}**.",
        "",
        "FOV-border false alarms (outer 5 % of the radius, flagged at the default thresholds where the "
        "ground truth has no lesion, share of the rim's pixels): " + _shares(border),
    ]
    inside = result.get("inside_false_alarms")
    if inside:
        lines += [
            "",
            "The same inside the rim (the rest of the field of view; a band along the edge shows as a rim "
            "share well above this): " + _shares(inside),
        ]
    lines += [
        "",
        "Healthy eye (`skimage.data.retina()`), share of the field of view flagged at the default "
        "thresholds: " + _shares(healthy),
    ]
    largest = result.get("healthy_eye_largest_region_px")
    if largest:
        lines += [
            "",
            "Healthy eye, largest connected flagged region (pixels of the 1411 x 1411 photograph; "
            "a blob a reader sees even when the share is small): " + _pixels(largest),
        ]
    camera = result.get("healthy_eye_camera")
    if camera:
        lines += [
            "",
            "Healthy eye through the simulated camera (darkened, cooler, JPEG 70, at its own size), "
            "share of the field of view flagged: " + _shares(camera),
            "",
            "The same, largest connected flagged region (px): "
            + _pixels(result["healthy_eye_camera_largest_region_px"]),
        ]
    return "\n".join(lines) + "\n"


def _samples(args: argparse.Namespace, recorded: list[str]) -> list[Sample]:
    from core.cli.data import _run_validation_images, _split
    from core.errors import DatasetError

    index = discover(args.data, args.dataset)
    if args.val_of:
        return _run_validation_images(index, args.val_of)
    if args.model_validation:
        if not recorded:
            raise DatasetError(f"{args.model}: the model file records no validation images; use --val-of RUN")
        samples = [s for s in index.samples if s.stem in set(recorded)]
        if len(samples) != len(recorded):
            raise DatasetError(f"{args.data}: some of the model's validation images are missing")
        return samples
    return _split(index, args.split)


def run_check(args: argparse.Namespace) -> int:
    """``check``."""
    from core.assets.paths import default_model_path
    from core.inference.predictor import Predictor
    from core.learning.robustness import (
        flagged_findings,
        healthy_eye_image,
        healthy_eye_through_camera,
        validation_checks,
    )
    from core.network.backends import chosen_backend
    from core.network.checkpoint import load_checkpoint

    loaded = load_checkpoint(args.model or default_model_path())
    recorded = loaded.meta.metrics.get("validation", {}).get("images", [])
    samples = _samples(args, recorded)
    head = loaded.meta.default_head
    config = InferenceConfig(
        tiling=TilingConfig(256, 32, "smooth"),
        device=args.device,
        head=head_choice(head),
        flip_tta=loaded.meta.uses_flip_tta(args.flip_tta),
        backend=chosen_backend(args.backend),
    )
    predictor = Predictor.from_loaded(loaded, config)
    thresholds = loaded.meta.thresholds()

    def report(i: int, n: int, s: Sample) -> None:
        log.info("checked %d/%d %s", i, n, s.stem)

    result = validation_checks(predictor, samples, thresholds, head, report)
    result["head"] = head
    result["thresholds"] = {lesion.code: thresholds[lesion] for lesion in LESIONS}
    result["flip_tta"] = config.flip_tta
    try:
        healthy = healthy_eye_image()
    except ImportError as exc:
        raise LesionLensError(
            "the healthy-eye check needs scikit-image (skimage.data.retina); "
            "install the development extras: pip install -e '.[dev]'"
        ) from exc
    findings = flagged_findings(predictor, healthy, thresholds)
    result["healthy_eye"] = findings.share
    result["healthy_eye_largest_region_px"] = findings.largest_region_px
    darker = flagged_findings(predictor, healthy_eye_through_camera(healthy), thresholds)
    result["healthy_eye_camera"] = darker.share
    result["healthy_eye_camera_largest_region_px"] = darker.largest_region_px
    result["model"] = loaded.provenance()
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "checks.json", result)
    text = format_checks(result)
    (args.out / "checks.md").write_text(text)
    print(text)
    return 0
