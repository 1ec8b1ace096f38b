"""Uniform weight averaging ("model soup") of fine-tunes that share one start.

Fine-tunes of one model stay in one basin of the loss, so the element-wise mean of their
weights is itself a working network, often better on shifted data than each member
(Wortsman et al., "Model soups", ICML 2022). :func:`average_models` averages LesionLens model
files of the same architecture: floating-point tensors (weights and BatchNorm running
statistics) in float32, integer buffers (BatchNorm counters) taken from the first member.
The metadata of the first member is kept, its validation figures and default thresholds are
not (they belong to another network): score the soup with ``lesionlens evaluate
--set-default-thresholds`` before using it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import torch

from core.errors import CheckpointError
from core.lesions import LESIONS
from core.network.checkpoint import LoadedModel, load_checkpoint
from core.network.model import UNetPlusPlus


def _label(path: Path) -> str:
    """A member's folder and file name (fine-tunes often share a file name)."""
    return f"{path.parent.name}/{path.name}" if path.parent.name else path.name


def average_models(paths: list[str | os.PathLike[str]]) -> LoadedModel:
    """The uniform average of several model files.

    Args:
        paths: two or more LesionLens model files of one architecture (same width).

    Returns:
        A :class:`LoadedModel` (float32 network, eval mode) whose metadata is the first member's
        with no validation metrics, thresholds of 0.5 and a note naming every member's SHA-256;
        its ``path`` is the first member's (save it with ``save_checkpoint``).

    Raises:
        CheckpointError: fewer than two files, or members of different architectures.
    """
    if len(paths) < 2:
        raise CheckpointError(f"averaging needs two or more model files, got {len(paths)}")
    members = [load_checkpoint(path) for path in paths]
    first = members[0]
    for member in members[1:]:
        if member.meta.model != first.meta.model:
            raise CheckpointError(
                f"{member.path}: a {member.meta.model} network cannot be averaged with "
                f"{first.path}'s {first.meta.model}; average fine-tunes of one model only"
            )
    states = [member.model.state_dict() for member in members]
    averaged: dict[str, torch.Tensor] = {}
    for key, tensor in states[0].items():
        if tensor.is_floating_point():
            averaged[key] = torch.stack([state[key].float() for state in states]).mean(dim=0)
        else:
            averaged[key] = tensor.clone()
    network = UNetPlusPlus(first.meta.model)
    network.load_state_dict(averaged)
    network.eval()
    member_list = ", ".join(f"{_label(Path(m.path))} (sha256 {m.sha256[:12]})" for m in members)
    note = f"Uniform weight average of {len(members)} models: {member_list}."
    meta = replace(
        first.meta,
        default_thresholds={lesion.code: 0.5 for lesion in LESIONS},
        metrics={},
        notes=f"{first.meta.notes} {note}".strip(),
        created="",
        software="",
    )
    return LoadedModel(model=network, meta=meta, path=Path(first.path), sha256="")
