"""PNG figures: training curves and precision-recall curves (matplotlib, Agg; no GUI)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from core.imaging.io import write_bytes_atomic
from core.lesions import LESIONS, Lesion

if TYPE_CHECKING:
    from core.scoring.metrics import PRAccumulator


def _save(figure: Figure, path: Path) -> None:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    write_bytes_atomic(path, buffer.getvalue())


class EpochPoint(Protocol):
    """One epoch of a training log, as the curves need it (``core.learning.train.EpochRecord`` is one)."""

    epoch: int
    train_loss: float
    val_loss: float
    val_aupr: dict[str, dict[str, float]]


def plot_training_curves(records: Sequence[EpochPoint], path: Path) -> None:
    """Training and validation loss per epoch (left) and validation mAUPR per head (right)."""
    figure = Figure(figsize=(10, 4))
    loss_axes, aupr_axes = figure.subplots(1, 2)
    epochs = [r.epoch for r in records]
    loss_axes.plot(epochs, [r.train_loss for r in records], "o-", label="training loss")
    loss_axes.plot(epochs, [r.val_loss for r in records], "s-", label="validation loss (lesion tiles)")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy (mean of 4 heads)", title="Loss")
    loss_axes.legend()
    loss_axes.grid(alpha=0.3)
    plotted = False
    for head in ("1", "2", "3", "4", "mean"):
        points = [(r.epoch, r.val_aupr[head]["mAUPR"]) for r in records if head in r.val_aupr]
        if points:
            xs, ys = zip(*points, strict=True)
            aupr_axes.plot(xs, ys, "o-", label=f"head {head}" if head != "mean" else "mean of heads")
            plotted = True
    aupr_axes.set(xlabel="epoch", ylabel="mAUPR (whole images)", title="Validation mAUPR", ylim=(0, 1))
    if plotted:
        aupr_axes.legend()
    aupr_axes.grid(alpha=0.3)
    _save(figure, path)


def plot_pr_curve(accumulator: PRAccumulator, lesion: Lesion, path: Path, title: str = "") -> None:
    """One lesion's pooled PR curve with its AUPR and best-F1 point."""
    figure = Figure(figsize=(4.5, 4.5))
    axes = figure.subplots()
    curve = accumulator.curve(lesion)
    best = accumulator.best_f1(lesion)
    colour = [c / 255 for c in lesion.colour]
    aupr = accumulator.aupr(lesion)
    label = f"AUPR {aupr:.4f}" if not math.isnan(aupr) else "no positives"
    axes.plot(curve.recall, curve.precision, color=colour, label=label)
    axes.plot([best.recall], [best.precision], "ko", label=f"best F1 {best.f1:.3f} at {best.threshold:.2f}")
    axes.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=title or f"{lesion.code}: {lesion.title}",
    )
    axes.legend(loc="lower left")
    axes.grid(alpha=0.3)
    _save(figure, path)


def plot_pr_curves(accumulator: PRAccumulator, folder: Path, prefix: str = "pr") -> list[Path]:
    """A PNG per lesion, ``<prefix>_<CODE>.png``."""
    paths = []
    for lesion in LESIONS:
        path = Path(folder) / f"{prefix}_{lesion.code}.png"
        plot_pr_curve(accumulator, lesion, path)
        paths.append(path)
    return paths
