"""Shared fixtures: tiny models and small synthetic photographs made on the fly."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# OpenVINO exports made by the tests go to one scratch folder per run, never the user's cache.
os.environ.setdefault("LESIONLENS_OPENVINO_DIR", tempfile.mkdtemp(prefix="lesionlens-openvino-"))

from core.config import ModelConfig
from core.data.synthetic import SyntheticFundus, synth_fundus
from core.network.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from core.network.model import UNetPlusPlus

# No usage telemetry when tests import OpenVINO directly (core.network.openvino_network.import_openvino).
sys.modules.setdefault("openvino_telemetry", None)  # type: ignore[arg-type]

IDRID_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "IDRiD"


@pytest.fixture(scope="session")
def tiny_model() -> UNetPlusPlus:
    """Width-0.125 UNet++ (seeded), eval mode."""
    torch.manual_seed(0)
    return UNetPlusPlus(ModelConfig(width=0.125)).eval()


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory: pytest.TempPathFactory, tiny_model: UNetPlusPlus) -> Path:
    """The tiny model saved as a LesionLens checkpoint."""
    path = tmp_path_factory.mktemp("models") / "tiny.safetensors"
    meta = CheckpointMeta(
        name="tiny-test", model=tiny_model.config, inference_tile_size=64, inference_overlap=16
    )
    save_checkpoint(path, tiny_model, meta, dtype=torch.float32)
    return path


@pytest.fixture(scope="session")
def tiny_loaded(tiny_checkpoint: Path):
    """The tiny checkpoint loaded back."""
    return load_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="session")
def small_fundus() -> SyntheticFundus:
    """A 240 x 360 synthetic photograph with lesions."""
    return synth_fundus(240, 360, seed=7)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
