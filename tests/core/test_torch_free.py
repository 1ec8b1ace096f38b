"""The map helpers, the review engine and the OpenVINO path never load torch.

The CPU installer has no torch (issue 12), and numpy-only helpers must not pay torch's
import time (issue 14). Each module is imported in a fresh interpreter.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TORCH_FREE = [
    "core.review.display",
    "core.imaging.lesion_stats",
    "core.review.navigation",
    "core.review.editable_mask",
    "core.scoring.metrics",
    "core.inference.predictor",
    "core.network.backends",
    "core.network.openvino_network",
    "core.network.model_file",
    "core.review.engine",
    "core.review.state",
    "core.review.session",
    "core.review.export",
    "core.inference.prediction_cache",
    "core.inference.predict_files",
    "core.cli.main",
]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_module_does_not_import_torch(module: str) -> None:
    code = f"import sys, {module}; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False", f"{module} loads torch"
