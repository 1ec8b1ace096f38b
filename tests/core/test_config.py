from __future__ import annotations

import pytest

from core.config import FovConfig, InferenceConfig, ModelConfig, TilingConfig
from core.errors import ConfigError


@pytest.mark.parametrize("tile", [0, 16, 48, 100, -32])
def test_tile_size_must_be_multiple_of_32(tile: int) -> None:
    with pytest.raises(ConfigError, match="multiple of 32"):
        TilingConfig(tile_size=tile)


@pytest.mark.parametrize("overlap", [-1, 64, 65])
def test_overlap_must_be_below_tile(overlap: int) -> None:
    with pytest.raises(ConfigError, match="overlap"):
        TilingConfig(tile_size=64, overlap=overlap)


def test_round_trip_through_dict() -> None:
    config = InferenceConfig(tiling=TilingConfig(128, 16, "uniform"), batch_size=3, head="mean")
    assert InferenceConfig.from_dict(config.to_dict()) == config
    assert ModelConfig.from_dict(ModelConfig(width=0.5).to_dict()) == ModelConfig(width=0.5)


def test_unknown_keys_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="unknown keys \\['colour'\\]"):
        FovConfig.from_dict({"colour": 1})


def test_model_width_scales_stage_channels() -> None:
    assert ModelConfig(width=1.0).stage_channels == (64, 128, 256, 512, 512)
    assert ModelConfig(width=0.25).stage_channels == (16, 32, 64, 128, 128)
    with pytest.raises(ConfigError):
        ModelConfig(width=0)


def test_inference_rejects_bad_values() -> None:
    with pytest.raises(ConfigError):
        InferenceConfig(batch_size=0)
    with pytest.raises(ConfigError):
        InferenceConfig(head="5")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        InferenceConfig(precision="int8")  # type: ignore[arg-type]
