"""On-disk cache of predictions, one file per (photograph content, model, inference settings).

Reopening a photograph that was already predicted is then a file read, not a network
pass. Entries are ``.npz`` containers (no pickle) of PNG-compressed uint8 maps, written
atomically; the oldest entries are pruned when the cache grows past its size limit.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from pathlib import Path

import cv2
import numpy as np

from core.config import InferenceConfig
from core.imaging.fov import FovCrop
from core.imaging.io import encode_png, write_bytes_atomic
from core.imaging.probability_maps import LesionProbabilities
from core.lesions import LESIONS

log = logging.getLogger(__name__)

CACHE_FORMAT = 4  # 4: the field of view keeps a dark periphery (core.imaging.fov)
#: Every entry's file name starts with this: pruning never touches another file.
ENTRY_PREFIX = "llpred-"
DEFAULT_LIMIT_BYTES = 2 * 1024**3


def default_cache_dir() -> Path:
    """``$LESIONLENS_CACHE_DIR``, else ``$XDG_CACHE_HOME/lesionlens/predictions`` (``~/.cache``)."""
    explicit = os.environ.get("LESIONLENS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lesionlens" / "predictions"


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(image_digest: str, model_sha256: str, config: InferenceConfig) -> str:
    """Key of one prediction: the photograph's bytes, the model file and the settings that change the maps."""
    tiling = config.tiling
    settings = (
        f"{tiling.tile_size}/{tiling.overlap}/{tiling.blending}/{tiling.skip_outside_fov}/{config.head}"
        f"/{config.precision}/{config.backend}/{'flip' if config.flip_tta else 'plain'}"
    )
    text = f"v{CACHE_FORMAT}|{image_digest}|{model_sha256}|{settings}"
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def _decode(buffer: np.ndarray, name: str) -> np.ndarray:
    array = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
    if array is None:
        raise ValueError(f"cannot decode {name}")
    return array


class PredictionCache:
    """Predictions on disk under ``folder`` (created when first written).

    Args:
        folder: cache folder; ``default_cache_dir()`` when None.
        limit_bytes: total size above which the least recently used entries are deleted.
    """

    def __init__(self, folder: str | os.PathLike[str] | None = None, limit_bytes: int = DEFAULT_LIMIT_BYTES):
        self.folder = Path(folder) if folder is not None else default_cache_dir()
        self.limit_bytes = limit_bytes

    def path(self, key: str) -> Path:
        """File of one entry."""
        return self.folder / f"{ENTRY_PREFIX}{key}.npz"

    def load(self, key: str, expected_shape: tuple[int, int] | None = None) -> LesionProbabilities | None:
        """The cached prediction, or None when absent, unreadable or (with ``expected_shape``,
        the photograph's H x W) of another size; such an entry is deleted, to be recomputed."""
        path = self.path(key)
        if not path.is_file() or path.is_symlink():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(bytes(data["meta"]).decode())
                maps = [_decode(data[f"probs_{lesion.code}"], lesion.code) for lesion in LESIONS]
                fov_mask = _decode(data["fov"], "fov") > 0
                spread = _decode(data["spread"], "spread") if "spread" in data.files else None
            shape = tuple(meta["shape"])
            if meta.get("format") != CACHE_FORMAT or any(m.shape != shape for m in [*maps, fov_mask]):
                raise ValueError("format or shape mismatch")
            if expected_shape is not None and shape != tuple(expected_shape):
                raise ValueError(f"made for an image of {shape}, this one is {tuple(expected_shape)}")
            fov = FovCrop(image_shape=shape, box=tuple(meta["box"]), mask=fov_mask)
            os.utime(path)  # recently used: pruned last
            return LesionProbabilities(np.stack(maps), fov, int(meta.get("tiles_run", 0)), spread=spread)
        except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, cv2.error) as exc:
            log.warning("discarding damaged cache entry %s: %s", path, exc)
            path.unlink(missing_ok=True)
            return None

    def store(self, key: str, prediction: LesionProbabilities) -> Path:
        """Write one entry atomically and prune the cache; returns its path."""
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": CACHE_FORMAT,
            "shape": list(prediction.probs.shape[1:]),
            "box": list(prediction.fov.box),
            "tiles_run": prediction.tiles_run,
        }
        arrays = {
            f"probs_{lesion.code}": np.frombuffer(encode_png(prediction[lesion], compression=1), np.uint8)
            for lesion in LESIONS
        }
        arrays["fov"] = np.frombuffer(encode_png(prediction.fov.mask.astype(np.uint8) * 255, 1), np.uint8)
        if prediction.spread is not None:
            arrays["spread"] = np.frombuffer(encode_png(prediction.spread, compression=1), np.uint8)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as its bool option
        path = self.path(key)
        write_bytes_atomic(path, buffer.getvalue())
        self.prune()
        return path

    def prune(self) -> None:
        """Delete least recently used entries until the cache is within its limit; only files
        this cache wrote (``llpred-*.npz``), whatever else shares the folder."""
        entries = sorted(
            (p for p in self.folder.glob(f"{ENTRY_PREFIX}*.npz") if p.is_file() and not p.is_symlink()),
            key=lambda p: p.stat().st_mtime,
        )
        total = sum(p.stat().st_size for p in entries)
        while entries and total > self.limit_bytes:
            oldest = entries.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)
