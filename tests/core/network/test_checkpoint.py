from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.config import ModelConfig
from core.errors import CheckpointError
from core.network.checkpoint import FORMAT_NAME, CheckpointMeta, load_checkpoint, save_checkpoint
from core.network.model import UNetPlusPlus


def test_round_trip_keeps_weights_and_metadata(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    meta = CheckpointMeta(
        name="t",
        model=tiny_model.config,
        trained=True,
        default_thresholds={"MA": 0.3, "HE": 0.4, "EX": 0.5, "SE": 0.6},
        metrics={"aupr": {"MA": 0.41}},
        training_data="IDRiD 40/14",
        inference_flip_tta=True,
    )
    path = save_checkpoint(tmp_path / "m.safetensors", tiny_model, meta, dtype=torch.float32)
    loaded = load_checkpoint(path)
    assert loaded.meta.inference_flip_tta and loaded.meta.uses_flip_tta()
    assert not loaded.meta.uses_flip_tta(False) and CheckpointMeta("t", tiny_model.config).uses_flip_tta(True)
    assert not CheckpointMeta("t", tiny_model.config).uses_flip_tta()  # files made before the setting
    assert loaded.meta.default_thresholds["SE"] == 0.6 and loaded.meta.metrics == {"aupr": {"MA": 0.41}}
    assert loaded.meta.created and loaded.meta.software.startswith("lesionlens")
    assert len(loaded.sha256) == 64
    for name, tensor in tiny_model.state_dict().items():
        assert torch.equal(loaded.model.state_dict()[name], tensor), name
    assert not loaded.model.training


def test_fp16_storage_halves_size_and_stays_close(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    meta = CheckpointMeta(name="t", model=tiny_model.config)
    full = save_checkpoint(tmp_path / "full.safetensors", tiny_model, meta, dtype=torch.float32)
    half = save_checkpoint(tmp_path / "half.safetensors", tiny_model, meta, dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            load_checkpoint(half).model.predict(x), tiny_model.predict(x), atol=2e-3, rtol=0
        )


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="model file not found"):
        load_checkpoint(tmp_path / "none.safetensors")


def test_not_safetensors(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="not a readable safetensors model"):
        load_checkpoint(path)


def test_truncated_file(tmp_path: Path, tiny_checkpoint: Path) -> None:
    data = tiny_checkpoint.read_bytes()
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match=r"cut\.safetensors: not a readable safetensors model"):
        load_checkpoint(path)


def test_foreign_safetensors(tmp_path: Path) -> None:
    save_file({"w": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(CheckpointError, match="without LesionLens metadata"):
        load_checkpoint(tmp_path / "other.safetensors")


def test_pickle_is_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "executed"

    class Exploit:
        def __reduce__(self):
            return (Path.touch, (marker,))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


def _with_header(tmp_path: Path, model: UNetPlusPlus, header: dict[str, str]) -> Path:
    path = tmp_path / "h.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=header)
    return path


def test_newer_format_version(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    meta = json.dumps(CheckpointMeta(name="t", model=tiny_model.config).to_dict())
    path = _with_header(
        tmp_path, tiny_model, {"format": FORMAT_NAME, "format_version": "99", "lesionlens": meta}
    )
    with pytest.raises(CheckpointError, match="newer than this LesionLens supports"):
        load_checkpoint(path)


def test_damaged_metadata(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    path = _with_header(
        tmp_path, tiny_model, {"format": FORMAT_NAME, "format_version": "1", "lesionlens": "{"}
    )
    with pytest.raises(CheckpointError, match="damaged LesionLens metadata"):
        load_checkpoint(path)


def test_other_task_classes(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    meta = CheckpointMeta(name="t", model=tiny_model.config, classes=("A", "B", "C", "D", "E", "F")).to_dict()
    header = {"format": FORMAT_NAME, "format_version": "1", "lesionlens": json.dumps(meta)}
    with pytest.raises(CheckpointError, match="trained for another task"):
        load_checkpoint(_with_header(tmp_path, tiny_model, header))


def test_weights_that_do_not_fit_the_declared_width(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    meta = CheckpointMeta(name="t", model=ModelConfig(width=0.25)).to_dict()
    header = {"format": FORMAT_NAME, "format_version": "1", "lesionlens": json.dumps(meta)}
    with pytest.raises(CheckpointError, match="weights do not fit a width-0.25 UNet"):
        load_checkpoint(_with_header(tmp_path, tiny_model, header))


def test_builtin_model_is_trained_with_card_and_thresholds() -> None:
    from core.assets.paths import default_model_path

    loaded = load_checkpoint(default_model_path())
    assert loaded.meta.trained is True and loaded.meta.model.width == 0.25
    assert "not for diagnosis" in loaded.meta.notes.lower()
    assert "CC BY 4.0" in loaded.meta.training_data
    assert all(0.0 < t < 1.0 for t in loaded.meta.default_thresholds.values())
    assert loaded.meta.default_head in ("1", "2", "3", "4", "mean")
    card = default_model_path().with_suffix(".md").read_text()
    assert "CC BY 4.0" in card and "not for diagnosis" in card and "Validation AUPR" in card


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"model": {"width": 0.125, "in_channels": 1e9, "num_classes": 6}}, "in_channels=1000000000.0"),
        ({"model": {"width": 0.125, "in_channels": 3, "num_classes": 7}}, "num_classes=7"),
        ({"default_thresholds": {"EX": "abc"}}, "default_thresholds.EX='abc'"),
        ({"default_thresholds": {"EX": -1}}, "default_thresholds.EX=-1"),
        ({"default_head": "5"}, "default_head='5'"),
        ({"std": [0.2, 0.0, 0.2]}, "must be positive"),
        ({"inference_tile_size": 100}, "inference_tile_size=100"),
        ({"inference_overlap": 64}, "inference_overlap=64"),
        ({"inference_flip_tta": "yes"}, "inference_flip_tta='yes'"),
    ],
)
def test_model_metadata_out_of_range_is_refused_before_anything_is_built(
    tmp_path: Path, tiny_model: UNetPlusPlus, change: dict, says: str
) -> None:
    """Issue 13, defect 9."""
    from core.network.model_file import read_model_file

    meta = {**CheckpointMeta(name="t", model=tiny_model.config, inference_tile_size=64).to_dict(), **change}
    header = {"format": FORMAT_NAME, "format_version": "1", "lesionlens": json.dumps(meta)}
    path = _with_header(tmp_path, tiny_model, header)
    for reader in (load_checkpoint, read_model_file):
        with pytest.raises(CheckpointError, match=re.escape(says)):
            reader(path)


def test_nan_weights_are_refused(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    import copy

    import torch

    broken = copy.deepcopy(tiny_model)
    with torch.no_grad():
        next(broken.parameters())[0].fill_(float("nan"))
    path = tmp_path / "nan.safetensors"
    save_checkpoint(path, broken, CheckpointMeta(name="nan", model=broken.config), dtype=torch.float32)
    with pytest.raises(CheckpointError, match="NaN or infinite"):
        load_checkpoint(path)


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_non_finite_outputs_never_become_an_all_clear(
    tiny_model: UNetPlusPlus, small_fundus, backend: str
) -> None:
    import copy

    import torch

    from core.config import InferenceConfig, TilingConfig
    from core.errors import LesionLensError
    from core.inference.predictor import Predictor
    from core.network.model_file import LoadedModel

    broken = copy.deepcopy(tiny_model)
    with torch.no_grad():
        broken.heads[3].bias.fill_(float("nan"))
    meta = CheckpointMeta(name="nan-head", model=broken.config)
    config = InferenceConfig(tiling=TilingConfig(64, 16), device="cpu", precision="fp32", backend=backend)
    loaded = LoadedModel(meta=meta, path=Path("nan-head.safetensors"), sha256="9" * 64, model=broken)
    with pytest.raises(LesionLensError, match="non-finite probabilities"):
        Predictor.from_loaded(loaded, config).predict(small_fundus.image)


def test_a_declared_width_far_from_the_weights_is_refused_before_building(
    tmp_path: Path, tiny_model: UNetPlusPlus
) -> None:
    """Width 4 would allocate a 16x network (gigabytes) only to find the weights do not fit."""
    meta = CheckpointMeta(name="t", model=ModelConfig(width=4.0)).to_dict()
    header = {"format": FORMAT_NAME, "format_version": "1", "lesionlens": json.dumps(meta)}
    with pytest.raises(CheckpointError, match=r"width-4.0 UNet\+\+ \(first convolution \(8, 3, 3, 3\)\)"):
        load_checkpoint(_with_header(tmp_path, tiny_model, header))
