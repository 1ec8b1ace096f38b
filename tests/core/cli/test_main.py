from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli.main import main, parse_thresholds
from core.data.synthetic import encode_jpeg, synth_fundus
from core.imaging.io import read_image
from core.lesions import Lesion

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for index in range(2):
        (folder / f"eye_{index}.jpg").write_bytes(encode_jpeg(synth_fundus(160, 224, seed=index).image))
    return folder


def _predict(args: list[str], model: Path) -> int:
    return main(
        [
            "--log-level",
            "WARNING",
            "predict",
            *args,
            "--model",
            str(model),
            "--device",
            "cpu",
            "--precision",
            "fp32",
            "--tile",
            "64",
            "--overlap",
            "8",
        ]
    )


def test_predict_writes_four_maps_and_a_sidecar(photos: Path, tmp_path: Path, tiny_checkpoint: Path) -> None:
    out = tmp_path / "out"
    assert _predict([str(photos), "--out", str(out)], tiny_checkpoint) == 0
    for stem in ("eye_0", "eye_1"):
        for code in ("MA", "HE", "EX", "SE"):
            prob = np.asarray(Image.open(out / f"{stem}_{code}.png"))
            assert prob.shape == (160, 224) and prob.dtype == np.uint8
        sidecar = json.loads((out / f"{stem}.json").read_text())
        assert sidecar["model"]["name"] == "tiny-test" and len(sidecar["model"]["sha256"]) == 64
        assert sidecar["inference"]["tiling"]["tile_size"] == 64
        assert sidecar["inference"]["preprocess"] == {  # the tiny model's: the photograph's own scale
            "fov_diameter": None,
            "illumination": False,
            "background_sigma": 0.0625,
            "surround": "black",
        }
        assert sidecar["fov"]["image_width"] == 224 and len(sidecar["fov"]["box_yxyx"]) == 4
        assert sidecar["timings_s"]["total"] > 0 and "not a diagnosis" in sidecar["disclaimer"]
        assert sidecar["thresholds"] is None and "masks" not in sidecar["files"]
    assert not any(p.name.startswith(".") for p in out.iterdir())  # no temporary leftovers


def test_masks_at_given_thresholds(photos: Path, tmp_path: Path, tiny_checkpoint: Path) -> None:
    out = tmp_path / "out"
    image = photos / "eye_0.jpg"
    assert (
        _predict([str(image), "--out", str(out), "--masks", "--thresholds", "MA=0.1,SE=0.9"], tiny_checkpoint)
        == 0
    )
    sidecar = json.loads((out / "eye_0.json").read_text())
    # each threshold as the 1/255 step it names, as sessions and exports write it
    assert sidecar["thresholds"] == {"MA": 26 / 255, "HE": 128 / 255, "EX": 128 / 255, "SE": 230 / 255}
    prob = np.asarray(Image.open(out / "eye_0_MA.png"))
    mask = np.asarray(Image.open(out / "masks" / "eye_0_MA.png"))
    assert set(np.unique(mask)) <= {0, 255}
    np.testing.assert_array_equal(mask == 255, prob >= 26)  # the step nearest 0.1 * 255 = 25.5


def test_failed_files_are_reported_and_the_rest_processed(
    photos: Path, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (photos / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really")
    black = photos / "black.png"
    Image.fromarray(np.zeros((128, 128, 3), np.uint8)).save(black)
    out = tmp_path / "out"
    status = _predict([str(photos), str(tmp_path / "missing.jpg"), "--out", str(out)], tiny_checkpoint)
    assert status == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and "broken.jpg: not a readable image" in err
    failed = [line for line in err.splitlines() if line.startswith("FAILED")]
    paths = [line.removeprefix("FAILED ").split(": ")[0] for line in failed]
    assert all(line.count(path) == 1 for line, path in zip(failed, paths, strict=True)), failed  # once
    assert "black.png: no field of view" in err
    assert "missing.jpg: no such file or folder" in err
    assert (out / "eye_0.json").exists() and (out / "eye_1.json").exists()
    assert not (out / "broken.json").exists() and not (out / "broken_MA.png").exists()


def test_same_stem_twice_is_refused_not_overwritten(
    photos: Path, tmp_path: Path, tiny_checkpoint: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "eye_0.jpg").write_bytes((photos / "eye_1.jpg").read_bytes())
    status = _predict(
        [str(photos / "eye_0.jpg"), str(other / "eye_0.jpg"), "--out", str(tmp_path / "o")], tiny_checkpoint
    )
    assert status == 1 and "same name as" in capsys.readouterr().err


def test_bad_model_is_a_clear_error(photos: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nonsense")
    assert _predict([str(photos), "--out", str(tmp_path / "o")], bad) == 2
    assert "bad.safetensors: not a readable safetensors model" in capsys.readouterr().err


def test_parse_thresholds() -> None:
    assert parse_thresholds("ma=0.25, EX=1") == {Lesion.MA: 0.25, Lesion.EX: 1.0}
    for bad in ("MA", "XX=0.5", "MA=2", "MA=abc"):
        with pytest.raises(Exception, match="MA|XX"):
            parse_thresholds(bad)


def test_synth_command(tmp_path: Path) -> None:
    assert main(["synth", "--out", str(tmp_path), "-n", "2", "--size", "200x150", "--seed", "3"]) == 0
    image = tmp_path / "A. Segmentation" / "1. Original Images" / "a. Training Set" / "IDRiD_02.jpg"
    assert read_image(image).shape == (150, 200, 3)


def test_info_describes_the_builtin_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["trained"] is True and info["model"]["width"] == 0.25


@pytest.mark.slow
def test_python_m_core_is_the_console_script(tmp_path: Path) -> None:
    """``python -m core`` = ``lesionlens``: its help lists the engine commands and the app."""
    proc = subprocess.run(
        [sys.executable, "-m", "core", "--help"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0
    assert "predict" in proc.stdout and "gui" in proc.stdout


def test_the_engine_parser_alone_points_to_the_app(capsys: pytest.CaptureFixture[str]) -> None:
    """``main`` (the engine's commands only) without a command prints its help and names the app."""
    assert main([]) == 0
    out = capsys.readouterr()
    assert "predict" in out.out and "lesionlens gui" in out.err


def test_predict_is_sharded_across_torchrun_ranks(
    photos: Path, tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    written = []
    for rank in (0, 1):
        monkeypatch.setenv("RANK", str(rank))
        monkeypatch.setenv("WORLD_SIZE", "2")
        assert _predict([str(photos), "--out", str(out)], tiny_checkpoint) == 0
        written.append(sorted(p.name for p in out.glob("*.json")))
    assert written == [["eye_0.json"], ["eye_0.json", "eye_1.json"]]  # rank 0 took eye_0, rank 1 eye_1


def test_a_rank_without_files_succeeds(
    photos: Path, tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RANK", "2")
    monkeypatch.setenv("WORLD_SIZE", "3")  # two photographs, three ranks: rank 2 has none
    assert _predict([str(photos), "--out", str(tmp_path / "out")], tiny_checkpoint) == 0
