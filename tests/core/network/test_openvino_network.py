"""The OpenVINO backend: export once per model file, agree with torch, refuse stale exports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.assets.paths import default_model_path, is_synthetic_sample, sample_images
from core.config import InferenceConfig, TilingConfig
from core.errors import CheckpointError
from core.imaging.io import read_image
from core.inference.predictor import Predictor
from core.lesions import LESIONS
from core.network.backends import load_for_inference
from core.network.checkpoint import load_checkpoint
from core.network.openvino_export import export_openvino
from core.network.openvino_network import OpenVinoNetwork, export_name, find_export

pytest.importorskip("openvino")
ROOT = Path(__file__).resolve().parents[3]


def _config(backend: str, precision: str = "fp32", head: str = "4", tile: int = 64) -> InferenceConfig:
    return InferenceConfig(
        tiling=TilingConfig(tile, tile // 4, "smooth"),
        device="cpu",
        precision=precision,  # type: ignore[arg-type]
        head=head,  # type: ignore[arg-type]
        backend=backend,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("head", ["4", "1", "mean"])
def test_tiles_agree_with_torch_in_fp32(tiny_loaded, small_fundus, head: str) -> None:
    tiles = np.stack([small_fundus.image[0:64, 100:164], small_fundus.image[100:164, 150:214]] * 3)
    torch_probs = Predictor.from_loaded(tiny_loaded, _config("torch", head=head)).predict_tiles(tiles)
    ov_probs = Predictor.from_loaded(tiny_loaded, _config("openvino", head=head)).predict_tiles(tiles)
    assert ov_probs.shape == torch_probs.shape == (6, 4, 64, 64)
    np.testing.assert_allclose(ov_probs, torch_probs, atol=1e-4)


def test_column_smoothing_is_inside_the_export(tiny_loaded, small_fundus, tmp_path) -> None:
    from dataclasses import replace

    import torch

    from core.network.checkpoint import save_checkpoint

    config = replace(tiny_loaded.meta.model, vertical_smoothing=True)
    model = type(tiny_loaded.model)(config)
    model.load_state_dict(tiny_loaded.model.state_dict())
    path = tmp_path / "smoothed.safetensors"
    save_checkpoint(path, model, replace(tiny_loaded.meta, model=config), dtype=torch.float32)
    smoothed = load_checkpoint(path)
    tiles = np.stack([small_fundus.image[0:64, 100:164], small_fundus.image[100:164, 150:214]])
    torch_probs = Predictor.from_loaded(smoothed, _config("torch")).predict_tiles(tiles)
    ov_probs = Predictor.from_loaded(smoothed, _config("openvino")).predict_tiles(tiles)
    np.testing.assert_allclose(ov_probs, torch_probs, atol=1e-4)
    plain = Predictor.from_loaded(tiny_loaded, _config("openvino")).predict_tiles(tiles)
    assert not np.allclose(ov_probs, plain, atol=1e-4)  # the smoothing really ran in the export


def test_a_partial_last_batch_and_another_tile_size(tiny_loaded, small_fundus) -> None:
    network = Predictor.from_loaded(tiny_loaded, _config("openvino")).network
    tiles = np.stack([small_fundus.image[i : i + 96, 50:146] for i in (0, 40, 80)])
    out = network.run(tiles, "4")  # 3 tiles: the second request is padded; 96 px: compiled anew
    reference = network.run(tiles[:2], "4")
    assert out.shape == (3, 4, 96, 96)
    np.testing.assert_allclose(out[:2], reference, atol=1e-6)


def test_export_is_made_once_and_found_by_the_model_hash(tiny_loaded, tmp_path) -> None:
    xml = export_openvino(tiny_loaded, tmp_path)
    assert xml.name == f"{export_name(tiny_loaded.sha256)}.xml" and xml.with_suffix(".bin").is_file()
    assert find_export(tiny_loaded.sha256, [tmp_path]) == xml
    assert find_export("0" * 64, [tmp_path]) is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([xml.name, xml.with_suffix(".bin").name])


def test_an_export_of_another_model_under_this_name_is_refused(tiny_loaded, tmp_path) -> None:
    xml = export_openvino(tiny_loaded, tmp_path)
    other = "f" * 64
    xml.rename(tmp_path / f"{export_name(other)}.xml")
    xml.with_suffix(".bin").rename(tmp_path / f"{export_name(other)}.bin")
    assert find_export(other, [tmp_path]) is None  # its recorded hash is the tiny model's
    with pytest.raises(CheckpointError, match="not a usable OpenVINO export"):
        OpenVinoNetwork(tmp_path / f"{export_name(other)}.xml", other, _config("openvino"))


@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_cached_export_is_made_again(tiny_loaded, tmp_path, monkeypatch, damage: str) -> None:
    monkeypatch.setenv("LESIONLENS_OPENVINO_DIR", str(tmp_path))
    xml = export_openvino(tiny_loaded, tmp_path)
    if damage == "empty":
        xml.write_bytes(b"")
    else:
        xml.write_text(xml.read_text()[:500])
    assert find_export(tiny_loaded.sha256, [tmp_path]) is None
    predictor = Predictor.from_loaded(tiny_loaded, _config("openvino"))
    assert predictor.network.describe()["backend"] == "openvino"
    assert find_export(tiny_loaded.sha256, [tmp_path]) == xml


def test_the_shipped_model_agrees_with_torch_on_a_photograph() -> None:
    """The issue's bar: Dice >= 0.99 per lesion against torch fp32, at the default thresholds and 0.5."""
    loaded = load_checkpoint(default_model_path())
    meta = loaded.meta
    image = read_image(next(p for p in sample_images() if is_synthetic_sample(p)))  # marks every lesion
    configs = {
        name: InferenceConfig(
            tiling=TilingConfig(meta.inference_tile_size, meta.inference_overlap, "smooth"),
            device="cpu",
            precision=precision,  # type: ignore[arg-type]
            head=meta.default_head,
            backend=backend,  # type: ignore[arg-type]
        )
        for name, backend, precision in (("torch", "torch", "fp32"), ("openvino", "openvino", "auto"))
    }
    maps = {name: Predictor.from_loaded(loaded, config).predict(image) for name, config in configs.items()}
    compared = set()
    for lesion, default in meta.thresholds().items():
        # the defaults are strict (few false alarms) and may mark little of the synthetic sample;
        # a mid threshold then gives the comparison enough pixels
        for threshold in (default, 0.5):
            reference, ours = maps["torch"].mask(lesion, threshold), maps["openvino"].mask(lesion, threshold)
            if reference.sum() <= 500:
                continue
            dice = 2 * (reference & ours).sum() / (reference.sum() + ours.sum())
            assert dice >= 0.99, f"{lesion.code} at {threshold:.3f}: Dice {dice:.4f} against torch fp32"
            compared.add(lesion)
    assert compared == set(LESIONS), f"too little of the sample marked to compare {set(LESIONS) - compared}"


def test_with_an_export_at_hand_inference_never_imports_torch(tmp_path) -> None:
    """What the CPU-only installer relies on: header + export, numpy and OpenVINO only."""
    export_openvino(load_checkpoint(default_model_path()), tmp_path)
    script = (
        "import sys, json, numpy as np\n"
        "from core.network.backends import load_for_inference\n"
        "from core.inference.predictor import Predictor\n"
        "from core.config import InferenceConfig\n"
        "from core.assets.paths import default_model_path\n"
        "from core.data.synthetic import synth_fundus\n"
        "loaded = load_for_inference(default_model_path(), 'cpu', 'auto')\n"
        "p = Predictor.from_loaded(loaded, InferenceConfig(device='cpu'))\n"
        "out = p.predict(synth_fundus(256, 320, seed=1).image)\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'backend': p.network.name,"
        " 'shape': list(out.probs.shape)}))\n"
    )
    env = {**os.environ, "LESIONLENS_OPENVINO_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {"torch": False, "backend": "openvino", "shape": [4, 256, 320]}


def test_load_for_inference_loads_the_weights_when_torch_runs(tiny_checkpoint) -> None:
    assert load_for_inference(tiny_checkpoint, "cpu", "torch").model is not None


def test_openvino_is_imported_with_its_telemetry_off() -> None:
    """``import openvino`` alone would send a usage event unless a consent file says no."""
    script = (
        "import sys\n"
        "from core.network.openvino_network import import_openvino\n"
        "ov = import_openvino()\n"
        "from openvino.tools.ovc import telemetry_utils\n"
        "print(sys.modules.get('openvino_telemetry'), telemetry_utils.tm.__name__)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == ["None", "openvino.tools.ovc.telemetry_stub"], done.stderr
