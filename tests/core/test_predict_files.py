"""Which files a list of paths opens (the command line and the app share it)."""

from __future__ import annotations

from pathlib import Path

from core.predict_files import expand_inputs
from core.synthetic import write_idrid_layout


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
