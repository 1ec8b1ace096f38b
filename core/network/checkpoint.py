"""The one model file format: safetensors weights with LesionLens JSON metadata.

The JSON lives in the safetensors header (key ``lesionlens``), so a model is one file.
Loading parses a header and raw tensors only: nothing in the file is executed or unpickled.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors.torch import save as save_safetensors

import core
from core.errors import CheckpointError
from core.imaging.io import write_bytes_atomic
from core.network.model import UNetPlusPlus
from core.network.model_file import (  # noqa: F401 - re-exported: the torch side's public names
    FORMAT_NAME,
    FORMAT_VERSION,
    IMAGENET_MEAN,
    IMAGENET_STD,
    CheckpointMeta,
    LoadedModel,
    file_sha256,
    opened_model_file,
    read_meta,
)

log = logging.getLogger(__name__)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: UNetPlusPlus,
    meta: CheckpointMeta,
    dtype: torch.dtype = torch.float16,
) -> Path:
    """Write ``model`` and ``meta`` to one ``.safetensors`` file, atomically.

    Floating-point tensors are stored as ``dtype`` (fp16 halves the size); integer
    buffers (BatchNorm counters) keep their type.
    """
    path = Path(path)
    meta = replace(
        meta,
        model=model.config,
        created=meta.created or datetime.now(UTC).isoformat(timespec="seconds"),
        software=meta.software or f"lesionlens {core.__version__}",
    )
    tensors = {
        name: (t.detach().to(dtype) if t.is_floating_point() else t.detach()).contiguous().cpu()
        for name, t in model.state_dict().items()
    }
    header = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "lesionlens": json.dumps(meta.to_dict()),
    }
    write_bytes_atomic(path, save_safetensors(tensors, metadata=header))
    log.info("saved checkpoint %s (%s)", path, meta.name)
    return path


def load_checkpoint(path: str | os.PathLike[str]) -> LoadedModel:
    """Load a LesionLens model file.

    Raises:
        CheckpointError: missing, truncated, not safetensors, foreign, newer format,
            or weights that do not fit the declared architecture.
    """
    path = Path(path)
    with opened_model_file(path, framework="pt") as (handle, meta):
        state = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118
    first = state.get("x_0_0.0.weight")
    if first is None or tuple(first.shape) != (meta.model.stage_channels[0], 3, 3, 3):
        # checked before building: a damaged width must not allocate a network for it
        raise CheckpointError(
            f"{path}: weights do not fit a width-{meta.model.width} UNet++ (first convolution "
            f"{None if first is None else tuple(first.shape)}); the file is damaged or was edited"
        )
    model = UNetPlusPlus(meta.model)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or unexpected or wrong:
        raise CheckpointError(
            f"{path}: weights do not fit a width-{meta.model.width} UNet++ "
            f"(missing {missing[:3]}, unexpected {unexpected[:3]}, wrong shape {wrong[:3]}); "
            "the file is damaged or was edited"
        )
    damaged = sorted(
        k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())
    )
    if damaged:
        raise CheckpointError(
            f"{path}: weights {damaged[:3]} hold NaN or infinite values; the file is damaged, copy it again"
        )
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    model.eval()
    return LoadedModel(model=model, meta=meta, path=path, sha256=file_sha256(path))


def torch_model(loaded: LoadedModel) -> UNetPlusPlus:
    """``loaded``'s torch network, loading the weights if only the header was read."""
    if loaded.model is not None:
        model: UNetPlusPlus = loaded.model
        return model
    network: UNetPlusPlus = load_checkpoint(loaded.path).model
    return network
