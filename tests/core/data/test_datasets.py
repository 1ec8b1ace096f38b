from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.cli.data import split_train_val
from core.cli.main import main
from core.data.datasets import check, detect_layout, discover
from core.data.synthetic import encode_jpeg, synth_fundus, write_idrid_layout, write_plain_layout
from core.errors import DatasetError
from core.imaging.io import MaskConvention
from core.lesions import Lesion


def _write_ddr(root: Path, label_folder: str = "label") -> None:
    for split, count in (("train", 2), ("valid", 1), ("test", 1)):
        for k in range(count):
            sample = synth_fundus(96, 128, seed=k + 10 * len(split))
            stem = f"{split}_{k}"
            folder = root / "lesion_segmentation" / split
            (folder / "image").mkdir(parents=True, exist_ok=True)
            (folder / "image" / f"{stem}.jpg").write_bytes(encode_jpeg(sample.image))
            for lesion, mask in sample.masks.items():
                if mask.any():
                    (folder / label_folder / lesion.code).mkdir(parents=True, exist_ok=True)
                    Image.fromarray(mask.astype(np.uint8) * 255).save(
                        folder / label_folder / lesion.code / f"{stem}.tif"
                    )


def test_idrid_layout_is_discovered(tmp_path: Path) -> None:
    write_idrid_layout(tmp_path, count=3, height=96, width=128, seed=1, test_count=2)
    index = discover(tmp_path)
    assert index.layout == "idrid" and index.splits == ["train", "test"]
    assert [s.stem for s in index.split("train")] == ["IDRiD_01", "IDRiD_02", "IDRiD_03"]
    sample = index.split("test")[0]
    truth = synth_fundus(96, 128, seed=1 + 3)
    image, masks = sample.load()
    assert image.shape == (96, 128, 3)
    for lesion in (Lesion.MA, Lesion.SE):
        assert (sample.masks[lesion] is None) == (not truth.masks[lesion].any())
        np.testing.assert_array_equal(masks[lesion], truth.masks[lesion])
    assert discover(tmp_path / "A. Segmentation").layout == "idrid"  # the inner folder works too


@pytest.mark.parametrize("label_folder", ["label", "segmentation label"])
def test_ddr_layout_and_its_variants(tmp_path: Path, label_folder: str) -> None:
    _write_ddr(tmp_path, label_folder)
    index = discover(tmp_path)
    assert index.layout == "ddr" and index.splits == ["train", "valid", "test"]
    assert index.counts()["train"]["images"] == 2
    assert all(s.convention is MaskConvention.DDR for s in index.samples)
    _, val, note = split_train_val(index, val_count=14, seed=0)
    assert [s.split for s in val] == ["valid"] and "valid" in note


def test_plain_layout(tmp_path: Path) -> None:
    write_plain_layout(tmp_path, count=2, height=96, width=128, seed=3)
    index = discover(tmp_path)
    assert index.layout == "plain" and index.splits == ["all"] and len(index.samples) == 2


def test_unknown_layout_and_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no known dataset layout"):
        detect_layout(tmp_path)
    with pytest.raises(DatasetError, match="dataset folder not found"):
        discover(tmp_path / "nope")


def test_mask_size_mismatch_names_both_files(tmp_path: Path) -> None:
    write_idrid_layout(tmp_path, count=1, height=96, width=128, seed=2)
    index = discover(tmp_path)
    mask_path = next(p for p in index.samples[0].masks.values() if p is not None)
    Image.fromarray(np.zeros((50, 60), np.uint8)).save(mask_path)
    problems = check(index)
    assert len(problems) == 1 and str(mask_path) in problems[0] and "IDRiD_01.jpg" in problems[0]
    with pytest.raises(DatasetError, match="differs from its image"):
        index.samples[0].load()


def test_split_train_val_is_seeded_and_disjoint(tmp_path: Path) -> None:
    write_idrid_layout(tmp_path, count=6, height=64, width=96, seed=0)
    index = discover(tmp_path)
    train, val, note = split_train_val(index, val_count=2, seed=5)
    assert len(train) == 4 and len(val) == 2 and not {s.stem for s in train} & {s.stem for s in val}
    again = split_train_val(index, val_count=2, seed=5)[1]
    assert [s.stem for s in again] == [s.stem for s in val]
    assert "4 train / 2 validation" in note


def test_split_train_val_zero_trains_on_every_image(tmp_path: Path) -> None:
    write_idrid_layout(tmp_path, count=5, height=64, width=96, seed=0, test_count=1)
    train, val, note = split_train_val(discover(tmp_path), val_count=0, seed=5)
    assert len(train) == 5 and val == [] and "all 5 images, no validation" in note
    with pytest.raises(DatasetError, match="--val-count -1"):
        split_train_val(discover(tmp_path), val_count=-1, seed=5)


def test_dataset_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_idrid_layout(tmp_path, count=2, height=64, width=96, seed=0, test_count=1)
    assert main(["dataset", "check", str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "idrid layout" in out.out and "train" in out.out and "0 problems" in out.err
