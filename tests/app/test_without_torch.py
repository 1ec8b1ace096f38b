"""The CPU-only installer has no torch: the app, its self-test and predict must run without it.

Each test runs a fresh interpreter in which ``import torch`` fails (``sys.modules['torch'] =
None``, as if it were not installed) with an OpenVINO export of the built-in model at hand,
as the installer has one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("openvino")
ROOT = Path(__file__).resolve().parents[2]
NO_TORCH = "import sys; sys.modules['torch'] = None\n"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from core.assets.paths import default_model_path
    from core.network.checkpoint import load_checkpoint
    from core.network.openvino_export import export_openvino

    folder = tmp_path_factory.mktemp("openvino")
    export_openvino(load_checkpoint(default_model_path()), folder)
    return folder


def _run(code: str, exports: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "LESIONLENS_OPENVINO_DIR": str(exports),
        "LESIONLENS_CACHE_DIR": str(tmp_path / "cache"),
        "LESIONLENS_SETTINGS": str(tmp_path / "settings.ini"),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-c", NO_TORCH + code],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
def test_the_self_test_passes_without_torch(exports: Path, tmp_path: Path) -> None:
    sys_argv = "sys.argv = ['LesionLens', '--self-test']\n"
    done = _run(sys_argv + "from app.main import main; main()", exports, tmp_path)  # as the installer runs it
    assert done.returncode == 0, done.stdout + done.stderr
    assert "backend openvino" in done.stdout and "self-test passed" in done.stdout


def test_predict_runs_and_train_explains_without_torch(exports: Path, tmp_path: Path) -> None:
    from core.data.synthetic import synth_fundus
    from core.imaging.io import write_png

    photo = tmp_path / "photo.png"
    write_png(photo, synth_fundus(256, 384, seed=4).image)
    code = (
        "from core.cli.main import main\n"
        f"status = main(['predict', {str(photo)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "print('predict', status, 'torch' in sys.modules and sys.modules['torch'] is not None)\n"
        f"print('train', main(['train', '--data', {str(tmp_path)!r}, '--out', {str(tmp_path / 'run')!r}]))\n"
    )
    done = _run(code, exports, tmp_path)
    assert "predict 0 False" in done.stdout, done.stdout + done.stderr
    assert "train 2" in done.stdout
    assert "'train' needs torch, which the CPU-only installer leaves out" in done.stderr
    assert (tmp_path / "out" / "photo_HE.png").is_file()
