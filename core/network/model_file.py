"""What a model file says about itself, read without torch.

A LesionLens model is one safetensors file whose header carries LesionLens JSON metadata
(key ``lesionlens``). This module reads that header and the file's hash only (no tensor is
unpickled or executed), so the OpenVINO backend and the map helpers can run without torch.
``core.network.checkpoint`` adds the torch side: saving, and loading the weights into a network.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from safetensors import SafetensorError, safe_open

from core.config import ModelConfig, PreprocessConfig
from core.errors import CheckpointError, ConfigError
from core.lesions import CLASS_NAMES, LESIONS, Lesion

FORMAT_NAME = "lesionlens-checkpoint"
FORMAT_VERSION = 1
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class CheckpointMeta:
    """What a model file says about itself.

    Attributes:
        name: short model name shown to users.
        model: architecture.
        classes: output class names in index order.
        mean, std: per-channel RGB normalisation applied to images scaled to 0..1.
        train_tile_size: tile side used in training.
        inference_tile_size, inference_overlap: recommended sliding-window settings.
        default_thresholds: per lesion code, probability in 0..1.
        default_head: deep-supervision output to use (``"1"``..``"4"`` or ``"mean"``).
        inference_flip_tta: the default thresholds were chosen on maps averaged with their
            left-right mirror (flip test-time augmentation); inference does the same unless
            told otherwise (``--no-flip-tta``). False in files made before it existed.
        preprocess: field-of-view scale and illumination normalisation the model was
            trained with (inference repeats them); files without it use photographs as they are.
        trained: False for an untrained (randomly initialised) model.
        training_data: free text on the data and split.
        metrics: validation metrics, e.g. ``{"aupr": {"MA": 0.4, ...}}``.
        notes: anything a user must know (e.g. "not for diagnosis").
        created: ISO-8601 UTC time of saving.
        software: LesionLens version that saved it.
    """

    name: str
    model: ModelConfig
    classes: tuple[str, ...] = CLASS_NAMES
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    train_tile_size: int = 64
    inference_tile_size: int = 256
    inference_overlap: int = 32
    default_thresholds: dict[str, float] = field(
        default_factory=lambda: {lesion.code: 0.5 for lesion in LESIONS}
    )
    default_head: str = "4"
    inference_flip_tta: bool = False
    preprocess: PreprocessConfig = PreprocessConfig()
    trained: bool = False
    training_data: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    created: str = ""
    software: str = ""

    def thresholds(self) -> dict[Lesion, float]:
        """Per lesion, the recommended threshold (0.5 where the file has none)."""
        return {lesion: float(self.default_thresholds.get(lesion.code, 0.5)) for lesion in LESIONS}

    def uses_flip_tta(self, requested: bool | None = None) -> bool:
        """Whether maps average mirrored tiles: ``requested`` if given, else as the thresholds were chosen."""
        return self.inference_flip_tta if requested is None else requested

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "name": self.name,
            "model": self.model.to_dict(),
            "classes": list(self.classes),
            "mean": list(self.mean),
            "std": list(self.std),
            "train_tile_size": self.train_tile_size,
            "inference_tile_size": self.inference_tile_size,
            "inference_overlap": self.inference_overlap,
            "default_thresholds": dict(self.default_thresholds),
            "default_head": self.default_head,
            "inference_flip_tta": self.inference_flip_tta,
            "preprocess": self.preprocess.to_dict(),
            "trained": self.trained,
            "training_data": self.training_data,
            "metrics": self.metrics,
            "notes": self.notes,
            "created": self.created,
            "software": self.software,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckpointMeta:
        """Inverse of :meth:`to_dict`; raises KeyError/TypeError/ConfigError on bad data."""
        values = dict(data)
        values["model"] = ModelConfig.from_dict(values["model"])
        values["preprocess"] = PreprocessConfig.from_dict(values.get("preprocess") or {})
        for key in ("classes", "mean", "std"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


@dataclass(frozen=True)
class LoadedModel:
    """A model file ready for inference: its metadata, identity and (once loaded) network.

    Attributes:
        meta: the file's metadata.
        path: where it was read from.
        sha256: hex digest of the file, recorded in every output for provenance.
        model: the torch network (eval mode, float32, CPU) when it was loaded with
            :func:`core.network.checkpoint.load_checkpoint`; None when only the header was read
            (:func:`read_model_file`, enough for a backend that has the network already;
            :func:`core.network.checkpoint.torch_model` loads it on demand).
    """

    meta: CheckpointMeta
    path: Path
    sha256: str
    model: Any = None

    def provenance(self) -> dict[str, Any]:
        """What outputs record about the model that produced them."""
        return {
            "name": self.meta.name,
            "file": self.path.name,
            "sha256": self.sha256,
            "trained": self.meta.trained,
            "width": self.meta.model.width,
        }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_meta(path: Path, header: dict[str, str] | None) -> CheckpointMeta:
    if not header or header.get("format") != FORMAT_NAME:
        raise CheckpointError(
            f"{path}: a safetensors file without LesionLens metadata (foreign model); "
            "use a model saved by LesionLens"
        )
    try:
        version = int(header.get("format_version", "0"))
    except ValueError:
        version = 0
    if version > FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format version {version} is newer than this LesionLens supports "
            f"({FORMAT_VERSION}); update LesionLens"
        )
    try:
        meta = CheckpointMeta.from_dict(json.loads(header["lesionlens"]))
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError, ConfigError) as exc:
        raise CheckpointError(f"{path}: damaged LesionLens metadata ({exc}); re-export the model") from exc
    if tuple(meta.classes) != CLASS_NAMES:
        raise CheckpointError(
            f"{path}: classes {list(meta.classes)} differ from LesionLens's {list(CLASS_NAMES)}; "
            "this model was trained for another task"
        )
    problem = meta_problem(meta)
    if problem:
        raise CheckpointError(
            f"{path}: {problem}; the model's metadata is damaged or was edited, use another file"
        )
    return meta


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def meta_problem(meta: CheckpointMeta) -> str | None:
    """The first value of a model's metadata outside what LesionLens can run, or None.

    Checked before anything is allocated: ``in_channels=1e9`` once tried to allocate 576 GB.
    """
    types = {
        "name": str,
        "default_thresholds": dict,
        "default_head": str,
        "training_data": str,
        "metrics": dict,
        "notes": str,
        "created": str,
        "software": str,
        "trained": bool,
        "inference_flip_tta": bool,
    }
    for key, kind in types.items():
        if not isinstance(getattr(meta, key), kind):
            return f"{key}={getattr(meta, key)!r}: expected {kind.__name__}"
    model = meta.model
    if not _is_int(model.in_channels) or model.in_channels != 3:
        return f"model.in_channels={model.in_channels!r}: LesionLens models read RGB photographs (3)"
    if not _is_int(model.num_classes) or model.num_classes != len(CLASS_NAMES):
        return f"model.num_classes={model.num_classes!r}: expected {len(CLASS_NAMES)}"
    if not _finite(model.width):
        return f"model.width={model.width!r}: not a number"
    for code, value in meta.default_thresholds.items():
        if code not in {lesion.code for lesion in LESIONS}:
            return f"default_thresholds has {code!r}, not one of MA, HE, EX, SE"
        if not _finite(value) or not 0.0 <= value <= 1.0:
            return f"default_thresholds.{code}={value!r}: a threshold is a probability in 0..1"
    if meta.default_head not in ("1", "2", "3", "4", "mean"):
        return f"default_head={meta.default_head!r}: use 1, 2, 3, 4 or mean"
    if len(meta.mean) != 3 or len(meta.std) != 3 or not all(_finite(v) for v in (*meta.mean, *meta.std)):
        return f"mean={list(meta.mean)!r}, std={list(meta.std)!r}: three numbers each"
    if min(meta.std) <= 0:
        return f"std={list(meta.std)!r}: must be positive"
    for key in ("train_tile_size", "inference_tile_size"):
        size = getattr(meta, key)
        if not _is_int(size) or not 32 <= size <= 4096 or size % 32:
            return f"{key}={size!r}: a multiple of 32 in 32..4096"
    overlap = meta.inference_overlap
    if not _is_int(overlap) or not 0 <= overlap < meta.inference_tile_size // 2:
        return f"inference_overlap={overlap!r}: 0 up to half the tile size"
    return None


def read_model_file(path: str | os.PathLike[str]) -> LoadedModel:
    """Read a model file's metadata and hash (not its weights; no torch).

    Raises:
        CheckpointError: missing, not safetensors, foreign or newer format, damaged metadata.
    """
    path = Path(path)
    with opened_model_file(path) as (_, meta):
        pass
    return LoadedModel(meta=meta, path=path, sha256=file_sha256(path))


@contextmanager
def opened_model_file(path: Path, framework: str = "numpy") -> Iterator[tuple[Any, CheckpointMeta]]:
    """The file opened with safetensors (``framework``: numpy or pt) and its checked metadata;
    any failure to read it, inside the ``with`` block too, becomes one :class:`CheckpointError`."""
    if not path.is_file():
        raise CheckpointError(f"{path}: model file not found; check the path or use the built-in model")
    try:
        with safe_open(str(path), framework=framework, device="cpu") as handle:
            yield handle, read_meta(path, handle.metadata())
    except CheckpointError:
        raise
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise CheckpointError(
            f"{path}: not a readable safetensors model (damaged or truncated: {exc}); "
            "copy the model file again"
        ) from exc
