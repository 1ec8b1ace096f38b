"""Ship a trained run as the built-in model: fp16 weights + model card in resources/models/.

Usage (repository root)::

    python scripts/ship_model.py RUN_DIR --name NAME --evaluation EVAL_DIR/evaluation_images.json \\
        --checks CHECKS_DIR/checks.json --hardware "2-core AMD EPYC (AVX512-BF16), no GPU"

The evaluation JSON is ``lesionlens evaluate``'s output on the validation split; for its best
head, the highest threshold per lesion whose F1 is within 2 % of the best F1 becomes the model's
default (``core.scoring.metrics.PRECISE_RULE``; ``--thresholds budget``: the best F1 within the
evaluation's false-alarm budget, ``core.scoring.thresholds``).

``--final-run FINAL``: ship FINAL's weights instead, the same recipe and epoch count trained on
every photograph (``lesionlens train --val-count 0``). Head, thresholds and the validation
figures stay RUN's (held out; the estimate for the final model); ``--checks`` are then the
final file's own (the healthy eye is outside both trainings; the validation photographs are
inside FINAL's, so its simulated-camera and border figures there are optimistic) and
``--validation-checks`` RUN's. The quality gate scores the final model on those photographs
against its own figure there.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from dataclasses import replace
from pathlib import Path

import torch

from core.assets.model_card import DEVELOPER_SECTION
from core.assets.paths import resources_dir
from core.cli.checks import format_checks
from core.imaging.io import write_bytes_atomic
from core.imaging.preprocess import SURROUND_MARGIN
from core.network.checkpoint import load_checkpoint, save_checkpoint
from core.network.model import count_parameters
from core.scoring.metrics import PRECISE_RULE

log = logging.getLogger("ship_model")

ATTRIBUTION = (
    "Trained on the IDRiD segmentation training split (Porwal et al., 'Indian Diabetic Retinopathy "
    "Image Dataset (IDRiD): A Research Database for Diabetic Retinopathy Screening Research', Data "
    "2018, 3(3):25), licensed CC BY 4.0. The data is not distributed with LesionLens."
)


def _input_row(pre: dict) -> str:
    diameter = pre.get("fov_diameter")
    text = "photographs at their own scale"
    if diameter:
        text = f"field of view resized to {diameter} px diameter"
    if pre.get("illumination"):
        text += " and illumination / colour normalised inside the field of view"
    if pre.get("surround") == "background":
        text += (
            f"; outside it and in a {SURROUND_MARGIN}-px margin round the crop, the flat background colour "
            "(no black edge next to the retina)"
        )
    return f"| input | {text} |"


def _compute_text(run: dict) -> str:
    """What the run computed in: recorded by ``train`` since 2026-12-02, else the configured precision."""
    compute = run.get("compute")
    if compute:
        return f"{compute['dtype']} on {compute['device']}"
    return f"precision {run['train'].get('precision', 'auto')} (resolved precision not recorded)"


def _start_text(start: str, depth: int = 0) -> tuple[str, int | None]:
    """What a fine-tune started from, following a start that was itself a fine-tune; and the
    epochs all those starts had had (None where a start's file is not on this machine: the
    count would be too low)."""
    text, epochs = f"`{start}`", 0
    if not Path(start).exists():
        return f"`{start}` (not on this machine)", None
    parent = load_checkpoint(start).meta
    parent_log = Path(start).parent / "log.csv"
    rows = list(csv.DictReader(parent_log.open())) if parent_log.exists() else []
    # a shipped file carries no epoch count; its run's log does
    epochs = int(parent.metrics.get("epochs_done", len(rows)))
    text += f" ({parent.name}, {epochs} epochs of its own"
    if rows:
        hours = sum(float(r["seconds"]) for r in rows) / 3600
        text += f", {hours:.2f} h incl. validation"
    parent_config = Path(start).parent / "config.json"
    grandparent = (
        json.loads(parent_config.read_text())["train"].get("init_weights") if parent_config.exists() else None
    )
    if grandparent and depth < 8:
        earlier, earlier_epochs = _start_text(grandparent, depth + 1)
        text += f"; itself fine-tuned from {earlier}"
        epochs = None if earlier_epochs is None else epochs + earlier_epochs
    text += ")"
    return text, epochs


def _start_rows(train: dict) -> tuple[list[str], int | None]:
    """A card row for a fine-tune (``train --init-weights``) and the epochs its starts had had."""
    start = train.get("init_weights")
    if not start:
        return [], 0
    text, epochs = _start_text(start)
    return [f"| started from | fine-tuned from {text} |"], epochs


def _recipe_rows(train: dict) -> list[str]:
    tiles = train["tiles"]
    pre = tiles.get("preprocess") or {}
    augment = train["augment"]
    return [
        f"| recipe | preset `{train.get('preset') or 'custom'}` (`lesionlens train --preset ...`; "
        "ablation: docs/training/ablation.md) |",
        _input_row(pre),
        f"| tiles | {tiles['tile_size']} px, stride {tiles['stride']}; lesion-free tiles kept: "
        f"{tiles['keep_empty_fraction']:.0%} at random"
        + (", every FOV-edge tile" if tiles.get("edge_negatives") else "")
        + (f", the brightest {tiles.get('bright_negatives', 0):.0%}" if tiles.get("bright_negatives") else "")
        + (f", the darkest {tiles.get('dark_negatives', 0):.0%}" if tiles.get("dark_negatives") else "")
        + " |",
        *(
            [
                f"| camera variation | {tiles['camera_share']:.0%} of each photograph's tiles cut from "
                "a copy as a random other camera took it (width 0.4-1x, exposure, gamma, white balance, "
                "blur, JPEG 50-95; `core/learning/camera_variation.py`) |"
            ]
            if tiles.get("camera_share")
            else []
        ),
        f"| loss | {train.get('loss', 'ce')} (mean over the four heads) |",
        "| augmentation | " + ", ".join(f"{k} {v}" for k, v in augment.items() if v) + " |",
    ]


def _inference_text(flip_tta: bool) -> str:
    if flip_tta:
        return (
            "every tile's maps averaged with its left-right mirror (flip TTA; the thresholds, the "
            "validation and the checks below are of maps made this way; `--no-flip-tta` halves the "
            "network time)"
        )
    return "plain tiles (`--flip-tta` averages with mirrored tiles; the thresholds were chosen without)"


def _largest_region_text(result: dict) -> str:
    """ "HE 1012 px (any 1012)" for a check's largest flagged healthy-eye region, or "not measured"."""
    largest = result.get("healthy_eye_largest_region_px")
    if not largest:
        return "not measured"
    lesion = max((c for c in largest if c != "any"), key=lambda c: largest[c])
    return f"{lesion} {largest[lesion]} px (any {largest['any']} px)"


def _darker_healthy_eye_text(result: dict) -> str:
    """ "0.47 % (largest 1197 px)" for the healthy eye through the simulated camera, or "not measured"."""
    share = result.get("healthy_eye_camera")
    if not share:
        return "not measured"
    return f"{share['any']:.2%} (largest {result['healthy_eye_camera_largest_region_px']['any']} px)"


def _comparison(before: dict, after: dict, label: str = "this model") -> list[str]:
    """Rows "previous model -> this model" for the checks (same photographs, same protocol)."""

    def row(result: dict) -> list[str]:
        head = result["head"]
        original, camera = result["original"][head]["mAUPR"], result["simulated_camera"][head]["mAUPR"]
        return [
            f"{original:.4f}",
            f"{camera:.4f} ({camera / max(1e-9, original):.2f}x)",
            f"{result['border_false_alarms']['any']:.2%} (HE {result['border_false_alarms']['HE']:.2%})",
            f"{result['healthy_eye']['any']:.2%}",
            _largest_region_text(result),
            _darker_healthy_eye_text(result),
        ]

    names = [
        "validation mAUPR",
        "simulated camera mAUPR",
        "FOV-border false alarms",
        "healthy eye flagged",
        "healthy eye, largest flagged region",
        "healthy eye through the simulated camera",
    ]
    previous = before.get("label") or before["model"]["name"]
    lines = [
        f"Against the previous built-in model ({previous}), same checks:",
        "",
        f"| | previous | {label} |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {b} | {a} |" for n, b, a in zip(names, row(before), row(after), strict=True)]
    return [*lines, ""]


def _plateau_rows(evaluation: dict, head: str) -> list[str]:
    """The default thresholds on the flat top of F1 next to best F1 (validation pixels)."""
    stats = evaluation["heads"][head]
    if "precise_threshold" not in stats["MA"]:
        return []
    lines = [
        "",
        "## Default thresholds",
        "",
        f"Per lesion, {PRECISE_RULE}: on the flat top of the F1 curve the higher threshold marks fewer "
        "healthy pixels for the same F1. Lower a lesion's slider to see fainter lesions.",
        "",
        "| lesion | default threshold | its F1 (pixels) | best-F1 threshold | best F1 |",
        "|---|---|---|---|---|",
    ]
    for code in ("MA", "HE", "EX", "SE"):
        s = stats[code]
        lines.append(
            f"| {code} | {s['precise_threshold']:.3f} | {s['precise_f1']:.3f} | "
            f"{s['best_threshold']:.3f} | {s['best_f1']:.3f} |"
        )
    return lines


def _threshold_rows(evaluation: dict, head: str) -> list[str]:
    """What the default thresholds trade: validation F1 against flags far from any lesion."""
    chosen = evaluation.get("budget_thresholds", {}).get(head)
    if chosen is None:
        return []
    stats = evaluation["heads"][head]
    lines = [
        "",
        "## Default thresholds",
        "",
        f"Chosen for few false alarms on healthy retina: {chosen['rule']}. They flag less than best "
        "F1 would, so some faint or small lesions are not marked at the defaults; lower a lesion's "
        "slider to see more (with ground truth, the precision-recall panel shows what each threshold finds).",
        "",
        "| lesion | default threshold | validation F1 (pixels) | flagged far from lesions | "
        "best-F1 threshold | its F1 |",
        "|---|---|---|---|---|---|",
    ]
    for code in ("MA", "HE", "EX", "SE"):
        lines.append(
            f"| {code} | {chosen['thresholds'][code]:.3f} | {chosen['f1'][code]:.3f} | "
            f"{chosen['false_alarms'][code]:.3%} | {stats[code]['best_threshold']:.3f} | "
            f"{stats[code]['best_f1']:.3f} |"
        )
    return lines


def _card(
    name: str,
    loaded,  # type: ignore[no-untyped-def]
    meta,  # type: ignore[no-untyped-def]
    run: dict,
    rows: list[dict],
    evaluation: dict,
    checks: dict | None,
    before: dict | None,
    head: str,
    hardware: str,
    final: dict | None = None,
    checkpoint: str = "",
) -> str:
    """``final``: {"run": config, "rows": log rows, "validation_checks": RUN's checks} when the
    weights are the all-photographs model (``--final-run``)."""
    aupr = evaluation["aupr"]
    heads = [h for h in ("1", "2", "3", "4", "mean", "integrated") if h in aupr]
    train = run["train"]
    shipped_run, shipped_rows = (final["run"], final["rows"]) if final else (run, rows)
    validation_images = ", ".join(run["val_images"])
    if final:
        validation_images = (
            f"none held out from this model; the validation figures are of the same recipe trained "
            f"on the other {len(run['train_images'])} photographs and scored on these "
            f"{len(run['val_images'])}: {validation_images}"
        )
    recipe = _recipe_rows(train)
    start_rows, start_epochs = _start_rows(shipped_run["train"])
    epochs = str(len(shipped_rows))
    if start_epochs is None:
        epochs += " (after those of the starts above; not all of them are on this machine to count)"
    elif start_epochs:
        epochs += f" (after the {start_epochs} it started from)"
    lines = [
        f"# Model card: {name}",
        "",
        "**A review aid, not for diagnosis.** The maps point at candidate lesions for a trained reader.",
        "",
        "| | |",
        "|---|---|",
        f"| architecture | UNet++ / VGG16-BN, width {meta.model.width} ({count_parameters(loaded.model):,} "
        "parameters), transposed-conv upsampling, 4 deep-supervision heads"
        + (
            "; the maps filtered with [1, 2, 1] / 4 down each column after the softmax (against the "
            "transposed convolutions' row-to-row stripes)"
            if meta.model.vertical_smoothing
            else ""
        )
        + " |",
        f"| training data | {shipped_run['data']} |",
        f"| training images | {', '.join(shipped_run['train_images'])} |",
        f"| validation images | {validation_images} |",
        *recipe,
        *start_rows,
        f"| optimiser | AdamW lr {train['lr']}, weight decay {train['weight_decay']}, "
        f"cosine schedule, batch {train['batch_size']}, {_compute_text(shipped_run)} |",
        f"| epochs | {epochs} |",
        *([f"| checkpoint | {checkpoint} |"] if checkpoint else []),
        f"| wall time | {sum(float(r['seconds']) for r in shipped_rows) / 3600:.2f} h "
        f"({'no validation' if final else 'epochs incl. validation'}) |",
        f"| hardware | {hardware} |",
        f"| inference head | {head} (best validation mAUPR) |",
        f"| inference | {_inference_text(meta.inference_flip_tta)} |",
        f"| default thresholds | {', '.join(f'{k} {v:.3f}' for k, v in meta.default_thresholds.items())} "
        f"({meta.metrics.get('thresholds_rule', 'best F1 on the validation split')}; "
        "docs/training/README.md) |",
        "",
        "## Validation AUPR (whole images, every pixel pooled, original resolution)",
        "",
        *(
            [
                f"Of the same recipe and epochs trained on {len(run['train_images'])} photographs, "
                f"scored on the {len(run['val_images'])} it did not see: the held-out estimate for "
                "this model, which trained on all of them. Head and default thresholds were chosen "
                "here.",
                "",
            ]
            if final
            else []
        ),
        "| output | EX | HE | MA | SE | mAUPR |",
        "|---|---|---|---|---|---|",
    ]
    for h in heads:
        row = aupr[h]
        lines.append(
            f"| {h} | " + " | ".join(f"{row[c]:.4f}" for c in ("EX", "HE", "MA", "SE", "mAUPR")) + " |"
        )
    if "far from any lesion" in meta.metrics.get("thresholds_rule", ""):  # --thresholds budget
        lines += _threshold_rows(evaluation, head)
    else:
        lines += _plateau_rows(evaluation, head)
    lines += [
        "",
        "## Beyond the validation photographs",
        "",
        "Simulated other camera: each validation photograph downscaled to 2196 px wide (field of view "
        "about half IDRiD's diameter), darkened (gain 0.6, gamma 1.2), cooler (red x0.9, blue x1.15), "
        "JPEG quality 70; maps resized back and scored against the original masks. FOV-border false "
        "alarms: in the outer 5 % of the field of view's radius, pixels flagged at the default "
        "thresholds where the ground truth has no lesion, as a share of the rim. Healthy eye: "
        "scikit-image's normal fundus (`skimage.data.retina()`), share of the field of view flagged.",
        "",
        *(
            [
                "This model (the photographs above are in its training data, so the simulated-camera "
                "and border figures are optimistic; the healthy eye is in neither training):",
                "",
            ]
            if final
            else []
        ),
        format_checks(checks) if checks else "(not run yet)",
        "",
        *(
            [
                f"The same recipe trained on {len(run['train_images'])} photographs, on the "
                f"{len(run['val_images'])} held out (the honest estimate):",
                "",
                format_checks(final["validation_checks"]),
                "",
            ]
            if final and final.get("validation_checks")
            else []
        ),
        f"## {DEVELOPER_SECTION}",
        "",
        *(_comparison(before, checks) if before and checks and not final else []),
        *(
            _comparison(
                before, final["validation_checks"], f"this recipe, {len(run['train_images'])} photographs"
            )
            if before and final and final.get("validation_checks")
            else []
        ),
        "The paper (METHOD.md) reports IDRiD test-split AUPR EX 0.887, HE 0.702, MA 0.664, SE 0.765, "
        "mAUPR 0.755 for width 1.0 trained on a GPU (most likely on tiles). This model is the slim width "
        "trained on 2 CPU cores; its validation figures are whole images of 14 held-out training-split "
        "photographs (the official test split is not available to us).",
        "",
        "Not measured here: the official IDRiD test split and other datasets (not available to us); a GPU "
        "width-1.0 model (no GPU was lent). Commands that reproduce this model: docs/training/README.md.",
        "",
        "## Licence and attribution",
        "",
        ATTRIBUTION,
        "",
    ]
    return "\n".join(lines)


def run_epochs(run: Path) -> int:
    """The epoch count a run was configured for."""
    return int(json.loads((run / "config.json").read_text())["train"]["epochs"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--evaluation", type=Path, required=True)
    parser.add_argument(
        "--checks",
        type=Path,
        default=None,
        help="checks.json of 'lesionlens check' on the shipped file (ship, check, ship again)",
    )
    parser.add_argument("--hardware", required=True)
    parser.add_argument(
        "--thresholds",
        choices=["f1-plateau", "budget"],
        default="f1-plateau",
        help="default thresholds: the highest within 2 %% of the best F1 on validation (default), "
        "or the best F1 within the evaluation's false-alarm budget "
        "(docs/training/README.md: measured, not shipped)",
    )
    parser.add_argument("--before-checks", type=Path, default=None, help="checks.json of the previous model")
    parser.add_argument("--before-name", default=None, help="what to call the previous model on the card")
    parser.add_argument(
        "--final-run",
        type=Path,
        default=None,
        help="ship this run's weights: the same recipe trained on every photograph (--val-count 0)",
    )
    parser.add_argument(
        "--validation-checks", type=Path, default=None, help="with --final-run: checks.json of RUN's model"
    )
    parser.add_argument(
        "--weights",
        type=Path,
        default=None,
        help="ship this model file of RUN instead of RUN/best.safetensors (e.g. a copy of its last epoch); "
        "--evaluation must be of this file",
    )
    parser.add_argument(
        "--weights-note",
        default=None,
        help="with --weights: the card's checkpoint row, for weights that are not one of RUN's epochs "
        "(e.g. a weight average of several runs)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    if args.weights and args.final_run:
        raise SystemExit("--weights and --final-run: give one")
    loaded = load_checkpoint(args.weights or (args.final_run or args.run) / "best.safetensors")
    final = None
    if args.final_run:
        final_run = json.loads((args.final_run / "config.json").read_text())
        if final_run["val_images"] or final_run["train"]["epochs"] != run_epochs(args.run):
            raise SystemExit(f"{args.final_run}: not a --val-count 0 run of RUN's epoch count")
        final = {
            "run": final_run,
            "rows": list(csv.DictReader((args.final_run / "log.csv").open())),
            "validation_checks": json.loads(args.validation_checks.read_text())
            if args.validation_checks
            else None,
        }
    run = json.loads((args.run / "config.json").read_text())
    rows = list(csv.DictReader((args.run / "log.csv").open()))
    done = int(loaded.meta.metrics.get("epochs_done", len(rows)))
    if final:
        checkpoint = ""
    elif not args.weights:
        checkpoint = f"epoch {done} of {len(rows)}: the best validation mAUPR (`best.safetensors`)"
    elif done == len(rows):
        checkpoint = (
            f"epoch {done} of {len(rows)}: the last epoch, a fixed choice (not the best-validation epoch)"
        )
    else:
        checkpoint = f"epoch {done} of {len(rows)} (`{args.weights.name}`)"
    if args.weights_note:
        if not args.weights:
            raise SystemExit("--weights-note describes --weights: give both")
        checkpoint = args.weights_note
    evaluation = json.loads(args.evaluation.read_text())
    checks = json.loads(args.checks.read_text()) if args.checks else None
    before = json.loads(args.before_checks.read_text()) if args.before_checks else None
    if before is not None and args.before_name:
        before["label"] = args.before_name
    candidates = {h: v for h, v in evaluation["aupr"].items() if h in ("1", "2", "3", "4", "mean")}
    head = max(candidates, key=lambda h: candidates[h]["mAUPR"])
    stats = evaluation["heads"][head]
    chosen = evaluation.get("budget_thresholds", {}).get(head) if args.thresholds == "budget" else None
    if chosen is not None:  # best F1 within the false-alarm budget (core/scoring/thresholds.py)
        thresholds = {code: float(v) for code, v in chosen["thresholds"].items()}
        rule = chosen["rule"]
    else:
        thresholds = {code: float(stats[code]["precise_threshold"]) for code in ("MA", "HE", "EX", "SE")}
        rule = PRECISE_RULE
    flip_tta = bool(evaluation.get("flip_tta", False))  # the thresholds hold for maps made this way
    if checks and (
        checks["head"] != head
        or checks["thresholds"] != thresholds
        or bool(checks.get("flip_tta")) != flip_tta
    ):
        raise SystemExit(
            f"{args.checks}: made with another head, thresholds or flip TTA; check the shipped file again"
        )
    meta = replace(
        loaded.meta,
        name=args.name,
        default_thresholds=thresholds,
        default_head=head,
        inference_flip_tta=flip_tta,
        training_data=f"{(final['run'] if final else run)['data']}. {ATTRIBUTION}",
        metrics={
            "validation": {
                "images": run["val_images"],
                "head": head,
                "mAUPR": candidates[head]["mAUPR"],
                "protocol": "whole images, every pixel pooled, original resolution",
            },
            "validation_whole_image_aupr": evaluation["aupr"],
            "checks": {
                "healthy_eye": checks["healthy_eye"],
                **(
                    {"healthy_eye_largest_region_px": checks["healthy_eye_largest_region_px"]}
                    if "healthy_eye_largest_region_px" in checks
                    else {}
                ),
                **{key: checks[key] for key in ("healthy_eye_camera",) if key in checks},
                "border_false_alarms": checks["border_false_alarms"],
                "simulated_camera_maupr": checks["simulated_camera"][head]["mAUPR"],
            }
            if checks
            else {},
            **(
                {
                    "quality_gate": {  # the final model on the photographs it trained on
                        "images": run["val_images"],
                        "head": head,
                        "mAUPR": checks["original"][head]["mAUPR"],
                        "note": "in this model's training data: a regression gate, not an estimate",
                    }
                }
                if final and checks
                else {}
            ),
            "trained_on_every_photograph": bool(final),
            "epochs": len(rows),
            "checkpoint_epoch": done,
            "recipe": run["train"].get("preset", ""),
            "recommended_head": head,
            "thresholds_rule": rule,
        },
        notes="Trained model; a review aid, not for diagnosis. Model card: " + f"{args.name}.md",
    )
    target = resources_dir() / "models" / f"{args.name}.safetensors"
    save_checkpoint(target, loaded.model, meta, dtype=torch.float16)
    card = _card(
        args.name, loaded, meta, run, rows, evaluation, checks, before, head, args.hardware, final, checkpoint
    )
    write_bytes_atomic(target.with_suffix(".md"), card.encode())
    log.info("shipped %s (%d bytes) and its model card", target, target.stat().st_size)


if __name__ == "__main__":
    main()
