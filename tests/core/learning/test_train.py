"""End-to-end on synthetic data: synth, train a tiny model, evaluate (issue: training)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from core.cli.main import main
from core.network.checkpoint import load_checkpoint
from tests.cli_args import tiny_train_args

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def synthetic_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    assert (
        main(["synth", "--out", str(root), "-n", "4", "--test", "1", "--size", "256x192", "--seed", "5"]) == 0
    )
    return root


def _evaluate(run: Path, data: Path, *options: str) -> int:
    """``lesionlens evaluate`` of a run's best checkpoint on CPU."""
    model = str(run / "best.safetensors")
    args = ["--log-level", "WARNING", "evaluate", "--model", model, "--data", str(data), "--device", "cpu"]
    return main([*args, *options])


@pytest.mark.slow
def test_train_then_evaluate_end_to_end(synthetic_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(tiny_train_args(synthetic_data, run, epochs=4)) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["train_loss"]) < 0.8 * float(rows[0]["train_loss"])
    assert {"h1_MA", "h4_SE", "hmean_mAUPR"} <= set(rows[0])
    assert Image.open(run / "curves.png").size[0] > 400
    config = json.loads((run / "config.json").read_text())
    assert len(config["train_images"]) == 3 and len(config["val_images"]) == 1
    assert config["compute"]["device"] == "cpu" and config["compute"]["dtype"] in {"float32", "bfloat16"}
    best = load_checkpoint(run / "best.safetensors")
    assert best.meta.trained and best.meta.model.width == 0.125
    assert set(best.meta.default_thresholds) == {"MA", "HE", "EX", "SE"}
    assert best.meta.metrics["validation"]["mauprs"] >= 0

    out = tmp_path / "eval"
    assert (
        _evaluate(
            run, synthetic_data, "--split", "test", "--out", str(out), "--tile", "64", "--overlap", "16"
        )
        == 0
    )
    report = json.loads((out / "evaluation_images.json").read_text())
    assert set(report["aupr"]) == {"1", "2", "3", "4", "mean", "integrated"}
    assert 0 <= report["aupr"]["integrated"]["mAUPR"] <= 1
    assert (out / "evaluation_images.csv").read_text().count("\n") == 1 + 5 * 4
    assert any(p.name.startswith("pr_images_head") for p in out.iterdir())

    val_out = tmp_path / "eval_val"
    assert _evaluate(run, synthetic_data, "--val-of", str(run), "--out", str(val_out), "--tile", "64") == 0
    val_report = json.loads((val_out / "evaluation_images.json").read_text())
    assert val_report["images"] == config["val_images"]
    for choice in val_report["budget_thresholds"].values():  # best F1 within the false-alarm budget
        assert choice["false_alarms_total"] <= choice["budget"] == 0.001
        assert set(choice["thresholds"]) == {"MA", "HE", "EX", "SE"}
    assert (
        _evaluate(
            run,
            synthetic_data,
            "--val-of",
            str(run),
            "--out",
            str(val_out),
            "--tile",
            "64",
            "--set-default-thresholds",
            "--false-alarm-budget",
            "0.0005",
        )
        == 0
    )
    stored = load_checkpoint(run / "best.safetensors").meta
    assert "0.05%" in stored.metrics["thresholds_rule"]
    assert stored.inference_flip_tta is False and "flip_tta" in val_report and not val_report["flip_tta"]
    mirrored_args = ("--val-of", str(run), "--out", str(val_out), "--tile", "64", "--set-default-thresholds")
    assert _evaluate(run, synthetic_data, *mirrored_args, "--flip-tta") == 0
    # thresholds chosen on mirrored-tile maps: the file says so, and inference follows it by default
    assert load_checkpoint(run / "best.safetensors").meta.inference_flip_tta is True
    assert json.loads((val_out / "evaluation_images.json").read_text())["flip_tta"] is True
    assert _evaluate(run, synthetic_data, *mirrored_args, "--no-flip-tta") == 0
    assert load_checkpoint(run / "best.safetensors").meta.inference_flip_tta is False
    assert _evaluate(run, synthetic_data, "--val-of", str(run), "--false-alarm-budget", "2") == 2

    tiles_out = tmp_path / "eval_tiles"
    assert (
        _evaluate(run, synthetic_data, "--split", "test", "--protocol", "tiles", "--out", str(tiles_out)) == 0
    )
    assert json.loads((tiles_out / "evaluation_tiles.json").read_text())["protocol"] == "tiles"


@pytest.mark.slow
def test_resume_continues_after_the_last_epoch(synthetic_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    assert main(tiny_train_args(synthetic_data, run, epochs=1)) == 0
    assert main(tiny_train_args(synthetic_data, run, epochs=2)) == 0
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]


@pytest.mark.slow
def test_final_model_trains_on_every_image_without_validation(synthetic_data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    args = tiny_train_args(synthetic_data, run, epochs=2)
    args[args.index("--val-count") + 1] = "0"
    assert main(args) == 0
    config = json.loads((run / "config.json").read_text())
    assert len(config["train_images"]) == 4 and config["val_images"] == []
    assert not (run / "tiles" / "val").exists()
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2] and rows[-1]["val_loss"] == "nan"
    final, last = load_checkpoint(run / "best.safetensors"), load_checkpoint(run / "last.safetensors")
    for name, tensor in final.model.state_dict().items():
        assert torch.equal(tensor, last.model.state_dict()[name]), name
    assert final.meta.metrics["epochs_done"] == 2


@pytest.mark.slow
def test_predict_outputs_evaluate_against_ground_truth(
    synthetic_data: Path, tiny_checkpoint: Path, tmp_path: Path
) -> None:
    test_images = synthetic_data / "A. Segmentation" / "1. Original Images" / "b. Testing Set"
    pred = tmp_path / "pred"
    assert (
        main(
            [
                "--log-level",
                "WARNING",
                "predict",
                str(test_images),
                "--out",
                str(pred),
                "--model",
                str(tiny_checkpoint),
                "--device",
                "cpu",
                "--tile",
                "64",
            ]
        )
        == 0
    )
    out = tmp_path / "eval"
    assert (
        main(
            [
                "evaluate",
                "--pred",
                str(pred),
                "--gt",
                str(synthetic_data),
                "--split",
                "test",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "pred" in json.loads((out / "evaluation_images.json").read_text())["aupr"]


@pytest.mark.slow
def test_distributed_training_with_two_processes(synthetic_data: Path, tmp_path: Path) -> None:
    """torchrun, gloo backend, two CPU processes: both train on their shard, rank 0 saves."""
    run = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "core",
        *tiny_train_args(synthetic_data, run, epochs=2),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = list(csv.DictReader((run / "log.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert load_checkpoint(run / "best.safetensors").meta.trained


@pytest.mark.slow
def test_robust_preset_trains_and_its_model_repeats_the_preprocessing(
    synthetic_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "robust"
    args = tiny_train_args(synthetic_data, run, epochs=1)
    args[args.index("paper")] = "robust"
    args += ["--fov-diameter", "256", "--tile", "64", "--stride", "64", "--max-steps", "3"]
    assert main(args) == 0
    best = load_checkpoint(run / "best.safetensors")
    assert best.meta.preprocess.fov_diameter == 256 and best.meta.preprocess.illumination
    assert (
        best.meta.metrics["validation"]["images"]
        == json.loads((run / "config.json").read_text())["val_images"]
    )
    assert best.meta.default_head == best.meta.metrics["validation"]["head"]
    cache = json.loads((run / "tiles" / "train" / "cache.json").read_text())
    assert cache["config"]["edge_negatives"] and cache["config"]["preprocess"]["fov_diameter"] == 256

    import core.learning.robustness

    # scikit-image's healthy eye is replaced by a small synthetic fundus (speed)
    from core.data.synthetic import synth_fundus

    monkeypatch.setattr(
        core.learning.robustness, "healthy_eye_image", lambda: synth_fundus(300, 300, seed=1).image
    )
    out = tmp_path / "checks"
    common = ["--log-level", "WARNING", "check", "--model", str(run / "best.safetensors")]
    assert main([*common, "--data", str(synthetic_data), "--val-of", str(run), "--out", str(out)]) == 0
    result = json.loads((out / "checks.json").read_text())
    assert set(result["original"]) == {"1", "2", "3", "4", "mean"}
    assert 0 <= result["simulated_camera"][result["head"]]["mAUPR"] <= 1
    assert 0 <= result["border_false_alarms"]["any"] <= 1 and 0 <= result["healthy_eye"]["any"] <= 1
    largest = result["healthy_eye_largest_region_px"]
    assert set(largest) == {"MA", "HE", "EX", "SE", "any"}
    assert all(largest[c] <= largest["any"] for c in ("MA", "HE", "EX", "SE"))
    assert (largest["any"] > 0) == (result["healthy_eye"]["any"] > 0)
    darker, darker_largest = result["healthy_eye_camera"], result["healthy_eye_camera_largest_region_px"]
    assert set(darker) == set(darker_largest) == {"MA", "HE", "EX", "SE", "any"}
    assert all(0 <= darker[c] <= darker["any"] <= 1 for c in ("MA", "HE", "EX", "SE"))
    assert (darker_largest["any"] > 0) == (darker["any"] > 0)
    text = (out / "checks.md").read_text()
    assert "Simulated camera / original" in text and "largest connected flagged region" in text
    assert "Healthy eye through the simulated camera" in text


def test_a_training_can_start_from_a_model_file(tiny_checkpoint: Path) -> None:
    """``--init-weights``: fine-tuning starts from the file's weights; another width is refused."""
    from core.config import ModelConfig
    from core.errors import LesionLensError
    from core.learning.train import _start_from_model_file
    from core.network.checkpoint import load_checkpoint
    from core.network.model import UNetPlusPlus

    saved = load_checkpoint(tiny_checkpoint).model.state_dict()
    model = UNetPlusPlus(ModelConfig(width=0.125))
    assert not torch.equal(model.state_dict()["x_0_0.0.weight"], saved["x_0_0.0.weight"])
    _start_from_model_file(model, str(tiny_checkpoint), 0.125)
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key
    with pytest.raises(LesionLensError, match="pass --width"):
        _start_from_model_file(UNetPlusPlus(ModelConfig(width=0.25)), str(tiny_checkpoint), 0.25)
