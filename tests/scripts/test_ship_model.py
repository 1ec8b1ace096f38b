"""scripts/ship_model.py: a trained run becomes the built-in model file and its card."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest
from safetensors import safe_open

import core.assets.paths
from core.cli.main import main
from core.network.checkpoint import load_checkpoint
from core.scoring.metrics import PRECISE_RULE
from tests.cli_args import tiny_train_args

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ship_model.py"
NAME = "lesionlens-test-ship"


@pytest.fixture(scope="module")
def evaluated_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A one-epoch tiny run on synthetic photographs and its validation evaluation JSON."""
    root = tmp_path_factory.mktemp("ship")
    data, run, evaluation = root / "data", root / "run", root / "eval"
    assert main(["synth", "--out", str(data), "-n", "3", "--size", "256x192", "--seed", "3"]) == 0
    assert main(tiny_train_args(data, run, epochs=1)) == 0
    args = ["--log-level", "WARNING", "evaluate", "--model", str(run / "best.safetensors"), "--data"]
    assert main([*args, str(data), "--val-of", str(run), "--out", str(evaluation), "--tile", "64"]) == 0
    return run, evaluation / "evaluation_images.json"


def _ship(monkeypatch: pytest.MonkeyPatch, resources: Path, *args: str) -> None:
    monkeypatch.setattr(core.assets.paths, "resources_dir", lambda: resources)
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
    runpy.run_path(str(SCRIPT), run_name="__main__")


def test_the_shipped_file_holds_the_best_heads_plateau_thresholds_and_a_card(
    evaluated_run: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, evaluation_json = evaluated_run
    evaluation = json.loads(evaluation_json.read_text())
    heads = {h: v["mAUPR"] for h, v in evaluation["aupr"].items() if h in ("1", "2", "3", "4", "mean")}
    best = max(heads, key=lambda h: heads[h])
    plateau = {"MA": 0.6, "HE": 0.7, "EX": 0.8, "SE": 0.9}  # set apart from best F1's thresholds
    for code, value in plateau.items():
        evaluation["heads"][best][code].update(precise_threshold=value, best_threshold=value / 2)
    edited = tmp_path / "evaluation.json"
    edited.write_text(json.dumps(evaluation))
    args = (str(run), "--name", NAME, "--evaluation", str(edited), "--hardware", "a test VM")
    _ship(monkeypatch, tmp_path, *args)

    shipped = tmp_path / "models" / f"{NAME}.safetensors"
    meta = load_checkpoint(shipped).meta
    assert meta.name == NAME and meta.default_head == best
    assert meta.default_thresholds == plateau
    assert meta.metrics["thresholds_rule"] == PRECISE_RULE
    assert meta.metrics["validation"]["mAUPR"] == heads[best]
    assert "not for diagnosis" in meta.notes and "CC BY 4.0" in meta.training_data
    with safe_open(str(shipped), framework="pt") as weights:  # fp16: half the size of the run's file
        floats = {str(weights.get_tensor(k).dtype) for k in weights.keys() if "num_batches" not in k}  # noqa: SIM118
    assert floats == {"torch.float16"}

    card = (tmp_path / "models" / f"{NAME}.md").read_text()
    assert card.startswith(f"# Model card: {NAME}")
    assert "**A review aid, not for diagnosis.**" in card and "a test VM" in card
    assert f"| inference head | {best} (best validation mAUPR) |" in card
    assert "(not run yet)" in card  # no checks given: the card says so rather than inventing them


def test_checks_of_other_thresholds_are_refused(
    evaluated_run: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, evaluation_json = evaluated_run
    stale = tmp_path / "checks.json"
    stale.write_text(json.dumps({"head": "4", "thresholds": {"MA": 0.5}, "flip_tta": False}))
    with pytest.raises(SystemExit, match="check the shipped file again"):
        _ship(
            monkeypatch,
            tmp_path,
            *(str(run), "--name", NAME, "--evaluation", str(evaluation_json), "--hardware", "x"),
            *("--checks", str(stale)),
        )
    assert not (tmp_path / "models").exists()  # nothing written


def test_an_averaged_models_card_says_what_its_weights_are(
    evaluated_run: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run, evaluation_json = evaluated_run
    note = "uniform average of the last epochs of three fine-tunes"
    args = (str(run), "--name", NAME, "--evaluation", str(evaluation_json), "--hardware", "x")
    _ship(monkeypatch, tmp_path, *args, "--weights", str(run / "best.safetensors"), "--weights-note", note)
    card = (tmp_path / "models" / f"{NAME}.md").read_text()
    assert f"| checkpoint | {note} |" in card and "the last epoch, a fixed choice" not in card
    with pytest.raises(SystemExit, match="give both"):
        _ship(monkeypatch, tmp_path / "other", *args, "--weights-note", note)
