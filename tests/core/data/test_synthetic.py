from __future__ import annotations

from pathlib import Path

import numpy as np

from core.data.datasets import IDRID_LESION_FOLDERS
from core.data.synthetic import synth_fundus, write_idrid_layout, write_plain_layout
from core.imaging.io import read_image, read_mask
from core.lesions import LESIONS, Lesion


def test_same_seed_same_image_other_seed_other_image() -> None:
    a, b, c = synth_fundus(120, 180, seed=1), synth_fundus(120, 180, seed=1), synth_fundus(120, 180, seed=2)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)


def test_masks_are_exact_and_inside_the_field_of_view() -> None:
    sample = synth_fundus(600, 900, seed=11)
    assert sample.image.shape == (600, 900, 3) and sample.image.dtype == np.uint8
    for lesion in LESIONS:
        mask = sample.masks[lesion]
        assert mask.shape == (600, 900) and mask.dtype == bool
        assert not (mask & ~sample.fov_mask).any()
    assert not sample.image[~sample.fov_mask].max(initial=0) > 8  # black border


def test_lesions_have_their_characteristic_look() -> None:
    """Exudates are brighter and yellower than the fundus, haemorrhages darker."""
    for seed in range(6):
        sample = synth_fundus(700, 1000, seed=seed)
        image = sample.image.astype(float)
        fundus = sample.fov_mask & ~np.any(np.stack(list(sample.masks.values())), axis=0)
        ref = image[fundus].mean(axis=0)
        if sample.masks[Lesion.EX].sum() > 50:
            ex = image[sample.masks[Lesion.EX]].mean(axis=0)
            assert ex[1] > ref[1] + 40  # much more green: yellow
        if sample.masks[Lesion.HE].sum() > 50:
            assert image[sample.masks[Lesion.HE]].mean() < ref.mean() - 15
        if sample.masks[Lesion.MA].any():
            assert sample.masks[Lesion.MA].sum() < 0.002 * sample.fov_mask.sum()  # tiny


def test_idrid_layout_reads_back(tmp_path: Path) -> None:
    images = write_idrid_layout(tmp_path, count=2, height=200, width=300, seed=4, test_count=1)
    assert [p.parent.name for p in images] == ["a. Training Set", "a. Training Set", "b. Testing Set"]
    assert images[0].name == "IDRiD_01.jpg"
    for index, image_path in enumerate(images):
        truth = synth_fundus(200, 300, seed=4 + index)
        split = image_path.parent.name
        assert read_image(image_path).shape == (200, 300, 3)
        for lesion in LESIONS:
            mask_path = (
                tmp_path
                / "A. Segmentation"
                / "2. All Segmentation Groundtruths"
                / split
                / IDRID_LESION_FOLDERS[lesion]
                / f"{image_path.stem}_{lesion.code}.tif"
            )
            if truth.masks[lesion].any():
                np.testing.assert_array_equal(read_mask(mask_path), truth.masks[lesion])
            else:
                assert not mask_path.exists()  # IDRiD: absent lesion, no file


def test_plain_layout(tmp_path: Path) -> None:
    write_plain_layout(tmp_path, count=1, height=128, width=160, seed=9)
    assert (tmp_path / "images" / "synth_001.jpg").exists()
    truth = synth_fundus(128, 160, seed=9)
    for lesion in LESIONS:
        path = tmp_path / "masks" / lesion.code / "synth_001.png"
        assert path.exists() == bool(truth.masks[lesion].any())
