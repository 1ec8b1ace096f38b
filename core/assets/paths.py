"""Where bundled assets live, from a source checkout, an installed wheel or a
PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from core.imaging.io import list_images

DEFAULT_MODEL_NAME = "lesionlens-idrid-w025-robust.safetensors"
#: The bundled samples drawn by ``core.data.synthetic`` (the others are photographs).
SYNTHETIC_PREFIX = "synthetic_"
#: The bundled photograph: a normal fundus, CC0 (``core.assets.notices.SAMPLE_ATTRIBUTION``).
NORMAL_FUNDUS_SAMPLE = "normal_fundus_cc0.jpg"


def resources_dir() -> Path:
    """The ``resources/`` folder (models, sample images)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"  # core/assets/paths.py


def default_model_path() -> Path:
    """The built-in model file."""
    return resources_dir() / "models" / DEFAULT_MODEL_NAME


def sample_images() -> list[Path]:
    """The bundled sample photographs, sorted by name."""
    folder = resources_dir() / "samples"
    return list_images(folder) if folder.is_dir() else []


def is_synthetic_sample(path: Path) -> bool:
    """Whether ``path`` is one of the bundled synthetic drawings (``synthetic_*``), not a photograph."""
    folder = resources_dir() / "samples"
    try:
        resolved = Path(path).resolve()
        return resolved.parent == folder.resolve() and resolved.name.startswith(SYNTHETIC_PREFIX)
    except OSError:
        return False
