"""Scoring as the IDRiD challenge did: AUPR per lesion over every pixel of a set, pooled.

Pure scoring: probability maps and ground truth in, tables and reports out; nothing here
runs a model (:mod:`core.learning.model_evaluation` does, for both protocols). Two protocols:

- ``images`` (primary): whole photographs at their original resolution; every pixel of
  every image counts (an image without a lesion's mask is all negative for it).
- ``tiles``: the paper's figures' protocol, reported separately: 64-px tiles of the FOV
  crop (at the model's working scale), lesion-free tiles (by ground truth) dropped, each
  tile predicted on its own.
"""

from __future__ import annotations

import csv
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.config import NUM_HEADS
from core.data.datasets import Sample
from core.errors import DatasetError
from core.imaging.io import image_size, read_image, write_json
from core.lesions import LESIONS
from core.scoring.false_alarms import FalseAlarmAccumulator
from core.scoring.metrics import PRAccumulator
from core.scoring.thresholds import DEFAULT_BUDGET, ThresholdChoice, choose_thresholds

log = logging.getLogger(__name__)

HEADS = ("1", "2", "3", "4", "mean")
#: The paper's table order.
TABLE_ORDER = ("EX", "HE", "MA", "SE")


@dataclass
class Evaluation:
    """Pooled and per-image statistics per head (``"1"``..``"4"``, ``"mean"``, or ``"pred"``)."""

    protocol: str
    pooled: dict[str, PRAccumulator]
    per_image_aupr: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    #: per head, false alarms far from any lesion (whole-image protocol with ground truth)
    alarms: dict[str, FalseAlarmAccumulator] = field(default_factory=dict)
    false_alarm_budget: float = DEFAULT_BUDGET
    #: whether the maps averaged mirrored tiles (None: not known, e.g. a predictions folder)
    flip_tta: bool | None = None

    def add_alarms(self, head: str, alarms: FalseAlarmAccumulator) -> None:
        """Add one photograph's far-from-lesion histograms of ``head``."""
        self.alarms.setdefault(head, FalseAlarmAccumulator()).merge(alarms)

    def budget_thresholds(self, head: str) -> ThresholdChoice | None:
        """The low-false-alarm thresholds :func:`core.scoring.thresholds.choose_thresholds` picks
        for ``head`` (an operating point to report; the shipped defaults follow
        ``metrics.PRECISE_RULE``)."""
        if head not in self.alarms or head not in self.pooled:
            return None
        return choose_thresholds(self.pooled[head], self.alarms[head], self.false_alarm_budget)

    def add_image(self, stem: str, head: str, accumulator: PRAccumulator) -> None:
        self.pooled.setdefault(head, PRAccumulator()).merge(accumulator)
        table = self.per_image_aupr.setdefault(head, {lesion.code: [] for lesion in LESIONS})
        for lesion in LESIONS:
            if accumulator.has_positives(lesion):
                table[lesion.code].append(accumulator.aupr(lesion))
        if stem not in self.images:
            self.images.append(stem)

    def aupr_table(self) -> dict[str, dict[str, float]]:
        """head -> lesion code -> pooled AUPR, plus mAUPR; and the paper's "integrated" row."""
        table: dict[str, dict[str, float]] = {}
        for head, acc in self.pooled.items():
            row = {lesion.code: acc.aupr(lesion) for lesion in LESIONS}
            row["mAUPR"] = _nanmean(list(row.values()))
            table[head] = row
        numbered = [h for h in ("1", "2", "3", "4") if h in table]
        if len(numbered) == NUM_HEADS:
            row = {lesion.code: max(table[h][lesion.code] for h in numbered) for lesion in LESIONS}
            row["mAUPR"] = _nanmean(list(row.values()))
            table["integrated"] = row
        return table

    def summary(self) -> dict[str, Any]:
        """Everything, JSON-friendly."""
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "images": self.images,
            "aupr": self.aupr_table(),
            "heads": {},
        }
        if self.flip_tta is not None:
            out["flip_tta"] = self.flip_tta
        for head, acc in self.pooled.items():
            stats = acc.summary()
            for lesion in LESIONS:
                values = self.per_image_aupr.get(head, {}).get(lesion.code, [])
                stats[lesion.code]["per_image_aupr_mean"] = _nanmean(values) if values else float("nan")
                stats[lesion.code]["per_image_count"] = len(values)
            out["heads"][head] = stats
        choices = {head: self.budget_thresholds(head) for head in self.pooled}
        out["budget_thresholds"] = {head: c.to_dict() for head, c in choices.items() if c is not None}
        return out


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


def evaluate_prediction_folder(pred_dir: Path, samples: list[Sample]) -> Evaluation:
    """Score ``lesionlens predict`` outputs (``<stem>_<CODE>.png``) against a dataset split."""
    evaluation = Evaluation("images", {})
    missing = [s.stem for s in samples if not (pred_dir / f"{s.stem}_{LESIONS[0].code}.png").exists()]
    if missing:
        raise DatasetError(
            f"{pred_dir}: no predictions for {len(missing)} images (e.g. {missing[:3]}); "
            "run 'lesionlens predict' on the same images first"
        )
    for sample in samples:
        files = [pred_dir / f"{sample.stem}_{lesion.code}.png" for lesion in LESIONS]
        maps = [read_image(path, min_side=1)[..., 0] for path in files]
        # the photograph's size is the reference: a map or a mask of another size is named as such
        shape = image_size(sample.image) if sample.image.is_file() else maps[0].shape
        for path, probability in zip(files, maps, strict=True):
            if probability.shape != shape:
                raise DatasetError(
                    f"{path}: {probability.shape[1]}x{probability.shape[0]} px, but the photograph "
                    f"{sample.image.name} is {shape[1]}x{shape[0]}; predict it again"
                )
        masks = sample.load_masks(shape)
        acc = PRAccumulator()
        acc.add(np.stack(maps), masks)
        evaluation.add_image(sample.stem, "pred", acc)
    return evaluation


def format_table(evaluation: Evaluation, title: str) -> str:
    """The paper's table: rows per output (and integrated), columns EX HE MA SE mAUPR."""
    table = evaluation.aupr_table()
    lines = [title, "", "| output | " + " | ".join(TABLE_ORDER) + " | mAUPR |", "|---" * 6 + "|"]
    for head, row in table.items():
        name = {"mean": "mean of heads", "integrated": "integrated", "pred": "predictions"}.get(
            head, f"output {head}"
        )
        cells = " | ".join(f"{row[c]:.4f}" for c in (*TABLE_ORDER, "mAUPR"))
        lines.append(f"| {name} | {cells} |")
    return "\n".join(lines) + "\n"


def write_report(evaluation: Evaluation, out_dir: Path, title: str) -> dict[str, Path]:
    """JSON (everything), CSV (per head and lesion), Markdown table, PR-curve PNG per lesion."""
    from core.scoring.plots import plot_pr_curves

    out_dir.mkdir(parents=True, exist_ok=True)
    summary = evaluation.summary()
    paths = {
        "json": out_dir / f"evaluation_{evaluation.protocol}.json",
        "csv": out_dir / f"evaluation_{evaluation.protocol}.csv",
        "markdown": out_dir / f"evaluation_{evaluation.protocol}.md",
    }
    write_json(paths["json"], summary)
    with open(paths["csv"], "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "protocol",
                "head",
                "lesion",
                "aupr",
                "ap",
                "aupr_11",
                "best_f1",
                "best_threshold",
                "per_image_aupr_mean",
                "images_with_lesion",
            ]
        )
        for head, stats in summary["heads"].items():
            for lesion in LESIONS:
                s = stats[lesion.code]
                writer.writerow(
                    [
                        evaluation.protocol,
                        head,
                        lesion.code,
                        s["aupr"],
                        s["ap"],
                        s["aupr_11"],
                        s["best_f1"],
                        s["best_threshold"],
                        s["per_image_aupr_mean"],
                        s["images_with_lesion"],
                    ]
                )
    paths["markdown"].write_text(format_table(evaluation, title))
    best_head = max(summary["aupr"].items(), key=lambda kv: kv[1]["mAUPR"] if kv[0] != "integrated" else -1)[
        0
    ]
    plot_pr_curves(evaluation.pooled[best_head], out_dir, prefix=f"pr_{evaluation.protocol}_head{best_head}")
    return paths
