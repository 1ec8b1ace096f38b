"""The OpenVINO inference backend for CPUs (numpy only: no torch at run time).

It runs the graph written by :mod:`core.network.openvino_export` (uint8 tiles in, every head's lesion
probabilities out). Exports are looked up by the model file's sha256: first in the user's
export cache (``$LESIONLENS_OPENVINO_DIR``, else ``openvino/`` beside the prediction cache),
then among the exports bundled with the application (``resources/models/openvino``).
On this project's 2-core AVX512-BF16 VM OpenVINO runs the slim model about 1.4x faster than
torch (bf16 both; ``docs/benchmarks.md``).
"""

from __future__ import annotations

import logging
import os
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np

from core.config import NUM_HEADS, InferenceConfig
from core.errors import CheckpointError
from core.lesions import LESIONS
from core.network.tile_network import select_heads

log = logging.getLogger(__name__)

#: Bump when the exported graph changes (inputs, outputs, what it computes).
EXPORT_VERSION = 2
RT_INFO_KEY = "lesionlens"
#: ``auto`` is fp32: bf16 moved the masks of real photographs at the default thresholds by up
#: to 2 % Dice against torch fp32 (fp32: <= 0.6 %), see docs/performance.md.
_PRECISION_HINTS = {"auto": "f32", "fp32": "f32", "bf16": "bf16", "fp16": "f16"}
#: Tiles per inference request when the batch size is automatic (2 x 256^2 px: in cache).
AUTO_REQUEST_PIXELS = 2**17


def import_openvino() -> Any:
    """The ``openvino`` module, imported with its usage telemetry off.

    ``import openvino`` sends a usage event to Google Analytics unless a consent file on the
    machine says no (OpenVINO 2024+, ``openvino.tools.ovc``); a clinic's computer must not call
    out. Blocking the optional ``openvino_telemetry`` module makes OpenVINO fall back to its
    built-in no-op stub. Every LesionLens import of OpenVINO goes through here.
    """
    if "openvino" not in sys.modules:
        sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]
    import openvino

    return openvino


def openvino_available() -> bool:
    """Whether the ``openvino`` package is installed."""
    return find_spec("openvino") is not None


def export_name(model_sha256: str) -> str:
    """File stem of a model's export: its hash and the export version."""
    return f"{model_sha256[:32]}-v{EXPORT_VERSION}"


def default_export_dir() -> Path:
    """Where exports are cached: ``$LESIONLENS_OPENVINO_DIR``, else ``openvino`` beside
    ``$LESIONLENS_CACHE_DIR``'s predictions, else ``~/.cache/lesionlens/openvino``."""
    explicit = os.environ.get("LESIONLENS_OPENVINO_DIR")
    if explicit:
        return Path(explicit)
    predictions = os.environ.get("LESIONLENS_CACHE_DIR")
    if predictions:
        return Path(predictions) / "openvino"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lesionlens" / "openvino"


def bundled_export_dir() -> Path:
    """Exports shipped with the application (made when the installer is built)."""
    from core.assets.paths import resources_dir

    return resources_dir() / "models" / "openvino"


def _read_checked(xml: Path, model_sha256: str) -> Any | None:
    """The OpenVINO model in ``xml`` if it is whole and made from ``model_sha256``, else None."""
    ov = import_openvino()
    try:
        graph = ov.Core().read_model(xml)
        recorded = graph.get_rt_info([RT_INFO_KEY, "model_sha256"]).astype(str)
        version = graph.get_rt_info([RT_INFO_KEY, "export_version"]).astype(str)
    except Exception as exc:  # noqa: BLE001 - OpenVINO raises RuntimeError and more; all mean damaged
        log.warning("ignoring the OpenVINO export %s: %s", xml, exc)
        return None
    if recorded != model_sha256 or version != str(EXPORT_VERSION):
        log.warning("ignoring the OpenVINO export %s: made from another model file or export version", xml)
        return None
    return graph


def find_export(model_sha256: str, folders: list[Path] | None = None) -> Path | None:
    """The ``.xml`` of a usable export of the model with this hash, or None."""
    for folder in folders if folders is not None else [default_export_dir(), bundled_export_dir()]:
        xml = folder / f"{export_name(model_sha256)}.xml"
        whole = xml.is_file() and xml.with_suffix(".bin").is_file()
        if whole and _read_checked(xml, model_sha256) is not None:
            return xml
    return None


class OpenVinoNetwork:
    """A UNet++ export run by OpenVINO on the CPU (a :class:`core.network.tile_network.TileNetwork`).

    Args:
        xml: the export (from :func:`find_export`).
        model_sha256: the model file it must have been made from.
        config: batch size (tiles per request) and precision; device must be auto or cpu.
    """

    name = "openvino"

    def __init__(self, xml: Path, model_sha256: str, config: InferenceConfig) -> None:
        ov = import_openvino()
        graph = _read_checked(xml, model_sha256)
        if graph is None:
            raise CheckpointError(
                f"{xml}: not a usable OpenVINO export of this model; delete it to re-export"
            )
        self._ov = ov
        self._core = ov.Core()
        self._graph = graph
        self.xml = xml
        tile = config.tiling.tile_size
        self.request_batch = config.batch_size or max(1, AUTO_REQUEST_PIXELS // (tile * tile))
        self._properties: dict[str, str] = {"PERFORMANCE_HINT": "THROUGHPUT"}
        hint = _PRECISION_HINTS.get(config.precision)
        if hint:
            self._properties["INFERENCE_PRECISION_HINT"] = hint
        self._compiled: dict[tuple[int, int], Any] = {}
        self._requests: dict[tuple[int, int], list[Any]] = {}
        self._requests_for(tile, tile)  # compile now: errors surface here, not mid-photograph

    def _requests_for(self, height: int, width: int) -> list[Any]:
        """Parallel inference requests of the graph compiled for request_batch x height x width."""
        key = (height, width)
        if key not in self._requests:
            graph = self._graph.clone()
            graph.reshape([self.request_batch, height, width, 3])
            compiled = self._core.compile_model(graph, "CPU", self._properties)
            count = max(1, int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
            self._compiled[key] = compiled
            self._requests[key] = [compiled.create_infer_request() for _ in range(count)]
        return self._requests[key]

    @property
    def batch_size(self) -> int:
        """Tiles worth handing over at once: one request's batch for every parallel request."""
        return self.request_batch * len(next(iter(self._requests.values())))

    def describe(self) -> dict[str, Any]:
        """Backend, device, precision, batch per request and parallel requests."""
        compiled = next(iter(self._compiled.values()))
        return {
            "backend": self.name,
            "device": "cpu",
            "dtype": compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name(),
            "channels_last": True,
            "batch_size": self.batch_size,
            "requests": len(next(iter(self._requests.values()))),
            "openvino": self._ov.__version__.split("-")[0],
            "export": self.xml.name,
        }

    def run(self, tiles: np.ndarray, head: str) -> np.ndarray:
        """B x T x T x 3 uint8 -> B x C x T x T float32 (the requests run in parallel)."""
        if tiles.ndim != 4 or tiles.shape[3] != 3 or tiles.dtype != np.uint8:
            raise ValueError(f"expected B x T x T x 3 uint8 tiles, got {tiles.shape} {tiles.dtype}")
        count, height, width = tiles.shape[:3]
        step = self.request_batch
        padded = -(-count // step) * step
        if padded != count:  # the compiled shape is static: fill the last request with blanks
            tiles = np.concatenate([tiles, np.zeros((padded - count, height, width, 3), np.uint8)])
        requests = self._requests_for(height, width)
        heads = np.empty((NUM_HEADS, padded, len(LESIONS), height, width), np.float32)
        starts = list(range(0, padded, step))
        # no Python callbacks on OpenVINO's threads: start a round of requests, then collect it
        for first in range(0, len(starts), len(requests)):
            round_starts = starts[first : first + len(requests)]
            for request, start in zip(requests, round_starts, strict=False):
                request.start_async({0: tiles[start : start + step]})
            for request, start in zip(requests, round_starts, strict=False):
                request.wait()
                heads[:, start : start + step] = request.get_output_tensor(0).data
        return select_heads(heads[:, :count], head)
