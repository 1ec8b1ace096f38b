"""Where bundled assets live, from a source checkout, an installed wheel or a
PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

from core.imaging.io import list_images

DEFAULT_MODEL_NAME = "lesionlens-idrid-w025-robust.safetensors"


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


def is_bundled_sample(path: Path) -> bool:
    """Whether ``path`` is one of the bundled sample photographs (synthetic drawings)."""
    folder = resources_dir() / "samples"
    try:
        return Path(path).resolve().parent == folder.resolve()
    except OSError:
        return False
