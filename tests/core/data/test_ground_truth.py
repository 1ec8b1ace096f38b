"""Finding a photograph's masks in IDRiD, DDR, plain and side-by-side layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.data.ground_truth import find_ground_truth, find_ground_truth_in, load_ground_truth
from core.data.synthetic import (
    encode_jpeg,
    synth_fundus,
    write_idrid_layout,
    write_palette_tiff,
    write_plain_layout,
)
from core.errors import ImageReadError
from core.imaging.io import write_png
from core.lesions import Lesion


def test_idrid_layout_is_found(tmp_path: Path) -> None:
    image = write_idrid_layout(tmp_path, 1, 240, 360, seed=3)[0]
    source = find_ground_truth(image)
    assert source is not None and source.origin == "idrid"
    truth = load_ground_truth(source, (240, 360))
    sample = synth_fundus(240, 360, seed=3)
    for lesion, mask in sample.masks.items():
        np.testing.assert_array_equal(truth[lesion], mask)


def test_plain_layout_is_found(tmp_path: Path) -> None:
    image = write_plain_layout(tmp_path, 1, 240, 360, seed=3)[0]
    source = find_ground_truth(image)
    assert source is not None and source.origin == "plain"
    assert load_ground_truth(source, (240, 360))[Lesion.EX].any()


def test_ddr_layout_is_found(tmp_path: Path) -> None:
    split = tmp_path / "lesion_segmentation" / "valid"
    (split / "image").mkdir(parents=True)
    image = split / "image" / "007-1.jpg"
    sample = synth_fundus(240, 360, seed=1)
    image.write_bytes(encode_jpeg(sample.image))
    write_png(split / "label" / "HE" / "007-1.tif", sample.masks[Lesion.HE].astype(np.uint8) * 255)
    source = find_ground_truth(image)
    assert source is not None and source.origin == "ddr" and set(source.files) == {Lesion.HE}
    np.testing.assert_array_equal(load_ground_truth(source, (240, 360))[Lesion.HE], sample.masks[Lesion.HE])


def test_masks_beside_the_image_are_found(tmp_path: Path) -> None:
    sample = synth_fundus(240, 360, seed=2)
    image = tmp_path / "eye.jpg"
    image.write_bytes(encode_jpeg(sample.image))
    write_palette_tiff(tmp_path / "eye_MA.tif", sample.masks[Lesion.MA])
    source = find_ground_truth(image)
    assert source is not None and source.origin == "beside" and set(source.files) == {Lesion.MA}
    truth = load_ground_truth(source, (240, 360))
    assert not truth[Lesion.HE].any()
    assert "MA" in source.describe()


def test_no_masks_gives_none(tmp_path: Path) -> None:
    image = tmp_path / "alone.jpg"
    image.write_bytes(encode_jpeg(synth_fundus(240, 360, seed=2).image))
    assert find_ground_truth(image) is None


def test_folder_chosen_by_hand(tmp_path: Path) -> None:
    sample = synth_fundus(240, 360, seed=2)
    image = tmp_path / "photos" / "eye.jpg"
    image.parent.mkdir()
    image.write_bytes(encode_jpeg(sample.image))
    masks = tmp_path / "reviewed"
    write_png(masks / "eye_HE.png", sample.masks[Lesion.HE].astype(np.uint8) * 255)
    source = find_ground_truth_in(masks, image)
    assert source.origin == "folder" and set(source.files) == {Lesion.HE}
    ddr_style = tmp_path / "ddr_style"
    write_png(ddr_style / "EX" / "eye.png", sample.masks[Lesion.EX].astype(np.uint8) * 255)
    assert set(find_ground_truth_in(ddr_style, image).files) == {Lesion.EX}
    with pytest.raises(ImageReadError, match="eye_MA.tif"):
        find_ground_truth_in(tmp_path / "photos", image)


def test_mask_of_another_size_is_refused(tmp_path: Path) -> None:
    image = tmp_path / "eye.jpg"
    image.write_bytes(encode_jpeg(synth_fundus(240, 360, seed=2).image))
    write_palette_tiff(tmp_path / "eye_EX.tif", np.ones((100, 100), bool))
    source = find_ground_truth(image)
    with pytest.raises(ImageReadError, match="eye_EX.tif.*differs"):
        load_ground_truth(source, (240, 360))
