"""Which inference backend runs the network, and building it.

``auto`` picks torch where a GPU (CUDA or Apple MPS) is present and OpenVINO on CPU-only
machines when it is installed (faster there, ``docs/benchmarks.md``), else torch.
``--backend`` on the command line, or ``LESIONLENS_BACKEND`` in the environment (read by the
command line and the app), forces one. Training always uses torch.
"""

from __future__ import annotations

import logging
import os
from importlib.util import find_spec
from pathlib import Path

from core.config import BACKENDS, Backend, InferenceConfig, backend_choice
from core.errors import CheckpointError, ConfigError, LesionLensError
from core.network.model_file import LoadedModel, read_model_file
from core.network.openvino_network import OpenVinoNetwork, default_export_dir, find_export, openvino_available
from core.network.tile_network import TileNetwork

log = logging.getLogger(__name__)

BACKEND_ENV = "LESIONLENS_BACKEND"


def backend_setting() -> Backend:
    """The user's backend setting: ``$LESIONLENS_BACKEND`` or ``auto``."""
    value = os.environ.get(BACKEND_ENV, "auto").strip().lower() or "auto"
    if value not in BACKENDS:
        raise ConfigError(f"{BACKEND_ENV}={value!r}: use one of {', '.join(BACKENDS)}")
    return backend_choice(value)


def chosen_backend(value: str | None) -> Backend:
    """A backend given on the command line (or None: the user's setting)."""
    return backend_choice(value) if value else backend_setting()


def torch_available() -> bool:
    """Whether torch is installed (the CPU-only installer leaves it out)."""
    return find_spec("torch") is not None


def _gpu_available() -> bool:
    """Whether torch's own ``auto`` device would be a GPU (CUDA or Apple MPS)."""
    if not torch_available():
        return False
    from core.network.torch_network import resolve_device

    return resolve_device("auto").type != "cpu"


def resolve_backend(config: InferenceConfig) -> Backend:
    """``"torch"`` or ``"openvino"`` for this configuration on this machine.

    Raises:
        LesionLensError: the forced backend is not installed or cannot use the device.
    """
    on_cpu = config.device in ("auto", "cpu")
    if config.backend == "openvino":
        if not openvino_available():
            raise LesionLensError(
                "backend 'openvino' requested but OpenVINO is not installed; "
                "pip install openvino or use --backend torch"
            )
        if not on_cpu:
            raise LesionLensError(
                f"the OpenVINO backend runs on the CPU; device {config.device!r} needs --backend torch"
            )
        return "openvino"
    if config.backend == "torch" or not on_cpu:
        if not torch_available():
            raise LesionLensError(
                "backend 'torch' requested but this LesionLens has no torch (the CPU-only build); "
                "use --backend openvino"
            )
        return "torch"
    if config.device == "auto" and _gpu_available():
        return "torch"
    return "openvino" if openvino_available() else "torch"


_OPENVINO_PRECISION = {"auto": "float32", "fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def compute_settings(config: InferenceConfig) -> dict[str, str]:
    """The backend, device and number format that will make the maps, resolved for this machine.

    For provenance records (sessions, exports): the backends and precisions make slightly
    different maps. Does not import torch for OpenVINO.

    Returns:
        ``{"backend": "openvino", "device": "cpu", "precision": "float32"}`` and the like.

    Raises:
        LesionLensError: the forced backend is not installed or cannot use the device.
    """
    backend = resolve_backend(config)
    if backend == "openvino":
        return {"backend": backend, "device": "cpu", "precision": _OPENVINO_PRECISION[config.precision]}
    from core.network.torch_network import resolve_device, resolve_precision

    device = resolve_device(config.device)
    dtype = resolve_precision(config.precision, device)
    return {"backend": backend, "device": device.type, "precision": str(dtype).removeprefix("torch.")}


def load_for_inference(
    path: str | os.PathLike[str], device: str = "auto", backend: str = "auto"
) -> LoadedModel:
    """The model file, with its torch weights loaded only when the backend needs them.

    With OpenVINO and an export of this very file (cached or bundled), torch is not imported.

    Raises:
        CheckpointError: the file cannot be used.
        LesionLensError: the backend cannot run here.
    """
    header = read_model_file(path)
    config = InferenceConfig(device=device, backend=backend_choice(backend))
    if resolve_backend(config) == "openvino" and find_export(header.sha256) is not None:
        return header
    from core.network.checkpoint import load_checkpoint

    return load_checkpoint(path)


def make_network(loaded: LoadedModel, config: InferenceConfig) -> TileNetwork:
    """The backend's network for ``loaded`` (exporting it to OpenVINO the first time)."""
    if resolve_backend(config) == "torch":
        from core.network.checkpoint import torch_model
        from core.network.torch_network import TorchNetwork

        return TorchNetwork(torch_model(loaded), loaded.meta.mean, loaded.meta.std, config)
    xml = find_export(loaded.sha256) or _export(loaded)
    return OpenVinoNetwork(xml, loaded.sha256, config)


def _export(loaded: LoadedModel) -> Path:
    if not torch_available():
        raise CheckpointError(
            f"{loaded.path}: this model has no OpenVINO export here and this LesionLens has no "
            "torch to make one; use the built-in model, or LesionLens installed with pip (README, Set-up)"
        )
    from core.network.openvino_export import export_openvino

    folder = default_export_dir()
    log.info("first use of %s with OpenVINO: exporting it once to %s", loaded.path.name, folder)
    try:
        return export_openvino(loaded, folder)
    except OSError as exc:
        raise CheckpointError(
            f"could not write the OpenVINO export of {loaded.path.name} to {folder} ({exc}); "
            "set LESIONLENS_OPENVINO_DIR to a writable folder or use --backend torch"
        ) from exc
