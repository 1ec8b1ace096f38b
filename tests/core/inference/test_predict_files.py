"""Which files a list of paths opens (the command line and the app share it)."""

from __future__ import annotations

from pathlib import Path

from core.data.synthetic import write_idrid_layout
from core.inference.predict_files import expand_inputs


def test_a_dataset_root_opens_its_photographs(tmp_path: Path) -> None:
    photos = write_idrid_layout(tmp_path / "IDRiD", 2, 120, 180, seed=3)
    files, problems = expand_inputs([tmp_path / "IDRiD"])
    assert problems == [] and sorted(files) == sorted(photos)


def test_an_empty_folder_and_a_missing_path_are_problems(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    files, problems = expand_inputs([tmp_path / "empty", tmp_path / "missing.jpg"])
    assert files == [] and [p.error for p in problems] == [
        "no images (.jpg, .jpeg, .png, .tif, .tiff, .bmp) in this folder",
        "no such file or folder",
    ]


def _folder_run(tmp_path: Path, tiny_loaded, pipelined: bool, seen: list[str] | None = None):
    from core.config import InferenceConfig, TilingConfig
    from core.data.synthetic import synth_fundus
    from core.imaging.io import write_png
    from core.inference.predict_files import predict_files
    from core.inference.predictor import Predictor

    inputs = tmp_path / "in"
    inputs.mkdir(exist_ok=True)
    paths = []
    for seed in range(3):
        paths.append(inputs / f"photo{seed}.png")
        write_png(paths[-1], synth_fundus(160, 224, seed=seed).image)
    broken = inputs / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    duplicate = tmp_path / "photo1.png"
    duplicate.write_bytes(paths[1].read_bytes())
    order = [paths[0], broken, paths[1], duplicate, paths[2]]
    config = InferenceConfig(tiling=TilingConfig(64, 16), device="cpu", precision="fp32", backend="torch")
    predictor = Predictor.from_loaded(tiny_loaded, config)
    out = tmp_path / ("pipelined" if pipelined else "sequential")
    progress = (lambda path, p: seen.append(path.name)) if seen is not None else None
    return predict_files(order, out, tiny_loaded, predictor, None, progress, pipelined=pipelined), out


def test_the_pipelined_folder_run_writes_what_the_sequential_one_does(tmp_path: Path, tiny_loaded) -> None:
    seen: list[str] = []
    pipelined, out_a = _folder_run(tmp_path, tiny_loaded, True, seen)
    sequential, out_b = _folder_run(tmp_path, tiny_loaded, False)
    assert [r.path.name for r in pipelined] == [
        "photo0.png",
        "broken.jpg",
        "photo1.png",
        "photo1.png",
        "photo2.png",
    ]
    assert [r.error is None for r in pipelined] == [True, False, True, False, True]
    assert "broken.jpg" in pipelined[1].error and "same name" in pipelined[3].error
    assert [r.error for r in pipelined] == [r.error for r in sequential]
    pngs = sorted(p.name for p in out_a.glob("*.png"))
    assert len(pngs) == 12 and pngs == sorted(p.name for p in out_b.glob("*.png"))
    for name in pngs:
        assert (out_a / name).read_bytes() == (out_b / name).read_bytes()
    assert seen[0] == "photo0.png" and seen[-1] == "photo2.png"  # progress in the input order
