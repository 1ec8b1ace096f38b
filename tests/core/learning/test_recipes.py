from __future__ import annotations

import pytest

from core.cli.data import train_config_from_args
from core.cli.main import build_parser
from core.errors import ConfigError
from core.learning.recipes import DEFAULT_PRESET, PRESETS, build_config


def test_paper_preset_is_the_method_as_written() -> None:
    paper = PRESETS["paper"]
    assert paper.tiles.tile_size == 64 and paper.tiles.keep_empty_fraction == 0.0
    assert paper.tiles.preprocess.is_identity and paper.loss == "ce"
    assert not paper.tiles.edge_negatives and paper.tiles.bright_negatives == 0.0


def test_robust_preset_is_the_default_and_differs_from_the_paper() -> None:
    robust = PRESETS[DEFAULT_PRESET]
    assert DEFAULT_PRESET == "robust"
    assert robust.tiles.preprocess.fov_diameter and robust.tiles.preprocess.illumination
    assert robust.tiles.edge_negatives and robust.loss == "ce+dice" and robust.tiles.bright_negatives > 0


def test_overrides_replace_single_values_and_keep_the_rest() -> None:
    config = build_config("robust", {"epochs": 3, "lr": None}, {"tile_size": 64, "stride": 32})
    assert config.epochs == 3 and config.lr == PRESETS["robust"].lr
    assert config.tiles.tile_size == 64 and config.tiles.stride == 32
    assert build_config("robust", {}, {"tile_size": 128}).tiles.stride == 128
    assert config.tiles.edge_negatives
    with pytest.raises(ValueError, match="preset"):
        build_config("nope", {}, {})


def test_command_line_builds_the_same_configs() -> None:
    parser = build_parser()
    args = parser.parse_args(["train", "--data", "d", "--out", "o", "--epochs", "5"])
    config = train_config_from_args(args)
    assert config.preset == "robust" and config.tiles == PRESETS["robust"].tiles and config.epochs == 5
    args = parser.parse_args(
        [
            "train",
            "--data",
            "d",
            "--out",
            "o",
            "--preset",
            "paper",
            "--fov-diameter",
            "1024",
            "--illumination",
        ]
    )
    config = train_config_from_args(args)
    assert config.tiles.tile_size == 64 and config.tiles.preprocess.fov_diameter == 1024
    assert config.tiles.preprocess.illumination and config.loss == "ce"
    args = parser.parse_args(["train", "--data", "d", "--out", "o", "--fov-diameter", "native"])
    assert train_config_from_args(args).tiles.preprocess.fov_diameter is None
    args = parser.parse_args(["train", "--data", "d", "--out", "o", "--fov-diameter", "big"])
    with pytest.raises(ConfigError, match="fov-diameter"):
        train_config_from_args(args)


def test_camera_share_and_dark_negatives_come_from_the_command_line() -> None:
    args = build_parser().parse_args(
        ["train", "--data", "d", "--out", "o", "--camera-share", "0.3", "--dark-negatives", "0.2"]
    )
    tiles = train_config_from_args(args).tiles
    assert tiles.camera_share == 0.3 and tiles.dark_negatives == 0.2
    assert tiles.edge_negatives == PRESETS["robust"].tiles.edge_negatives  # the rest of the preset kept


def test_surround_comes_from_the_command_line_and_needs_illumination() -> None:
    parser = build_parser()
    assert PRESETS["robust"].tiles.preprocess.surround == "background"
    assert PRESETS["paper"].tiles.preprocess.surround == "black"
    args = parser.parse_args(["train", "--data", "d", "--out", "o", "--surround", "black"])
    preprocess = train_config_from_args(args).tiles.preprocess
    assert preprocess.surround == "black" and preprocess.fov_diameter == 1536
    args = parser.parse_args(["train", "--data", "d", "--out", "o", "--no-illumination"])
    # the preset's background colour needs the illumination normalisation: black without it
    assert train_config_from_args(args).tiles.preprocess.surround == "black"
    args = parser.parse_args(
        ["train", "--data", "d", "--out", "o", "--surround", "background", "--no-illumination"]
    )
    with pytest.raises(ConfigError, match="illumination"):
        train_config_from_args(args)
