from __future__ import annotations

import numpy as np
import pytest

from core.data.synthetic import synth_fundus
from core.errors import FovNotFoundError
from core.imaging.fov import detect_fov
from core.imaging.io import read_image
from tests.conftest import IDRID_ROOT


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("clip", [True, False])
def test_detects_synthetic_disc(clip: bool) -> None:
    sample = synth_fundus(400, 600, seed=3, clip_fov=clip)
    fov = detect_fov(sample.image)
    assert _iou(fov.mask, sample.fov_mask) > 0.98
    rows = np.flatnonzero(sample.fov_mask.any(axis=1))
    cols = np.flatnonzero(sample.fov_mask.any(axis=0))
    expected = (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1)
    assert np.abs(np.subtract(fov.box, expected)).max() <= 3
    if clip:  # the disc is taller than the image: the box spans the full height
        assert fov.box[0] == 0 and fov.box[2] == 400


def test_crop_uncrop_round_trip_exactly(small_fundus) -> None:
    fov = detect_fov(small_fundus.image)
    cropped = fov.crop(small_fundus.image)
    assert cropped.shape[:2] == fov.crop_shape
    restored = fov.uncrop(cropped)
    y0, x0, y1, x1 = fov.box
    np.testing.assert_array_equal(restored[y0:y1, x0:x1], small_fundus.image[y0:y1, x0:x1])
    outside = np.ones(fov.image_shape, bool)
    outside[y0:y1, x0:x1] = False
    assert not restored[outside].any()
    maps = np.stack([small_fundus.image[..., 0]] * 4)
    back = fov.uncrop_channels_first(fov.crop_channels_first(maps))
    np.testing.assert_array_equal(back[:, y0:y1, x0:x1], maps[:, y0:y1, x0:x1])


def test_mask_lies_inside_box(small_fundus) -> None:
    fov = detect_fov(small_fundus.image)
    y0, x0, y1, x1 = fov.box
    assert fov.mask.sum() == fov.mask[y0:y1, x0:x1].sum()


def test_dark_lesion_inside_disc_stays_in_field_of_view() -> None:
    sample = synth_fundus(300, 450, seed=5, clip_fov=False)
    image = sample.image.copy()
    image[130:170, 200:250] = 0  # a black blot inside the disc (e.g. a large haemorrhage)
    assert detect_fov(image).mask[150, 225]


@pytest.mark.parametrize("value", [0, 3, 128, 255])
def test_uniform_or_black_image_is_refused(value: int) -> None:
    with pytest.raises(FovNotFoundError, match="no field of view"):
        detect_fov(np.full((200, 300, 3), value, np.uint8))


def test_image_without_dark_border_is_all_field_of_view(rng: np.random.Generator) -> None:
    image = rng.integers(90, 220, (200, 300, 3), dtype=np.uint8)
    fov = detect_fov(image)
    assert fov.box == (0, 0, 200, 300) and fov.mask.all()


def test_tiny_bright_speck_is_not_a_field_of_view() -> None:
    image = np.zeros((400, 400, 3), np.uint8)
    image[10:14, 10:14] = 200
    with pytest.raises(FovNotFoundError, match="covers only"):
        detect_fov(image)


@pytest.mark.idrid
@pytest.mark.slow
def test_real_idrid_photograph() -> None:
    path = IDRID_ROOT / "A. Segmentation" / "1. Original Images" / "a. Training Set" / "IDRiD_06.jpg"
    if not path.exists():
        pytest.skip("IDRiD data not available")
    image = read_image(path)
    fov = detect_fov(image)
    y0, x0, y1, x1 = fov.box
    assert (y0, y1) == (0, 2848)  # IDRiD discs are clipped at top and bottom
    assert 200 < x0 < 400 and 3600 < x1 < 3800
    assert 0.65 < fov.mask.mean() < 0.72
    assert fov.mask[1424, 2144] and not fov.mask[10, 10]


def test_a_dark_periphery_stays_in_the_field_of_view() -> None:
    """A darker camera's vignetted rim (red about 20-30 of 255, IDRiD's about 70) is retina: the
    field of view must not shrink (the simulated-camera check's copy of IDRiD_12 lost its rim, and
    the model then saw it at another scale)."""
    sample = synth_fundus(400, 600, seed=3, clip_fov=False)
    ys, xs = np.nonzero(sample.fov_mask)
    cy, cx = ys.mean(), xs.mean()
    radius = np.hypot(ys - cy, xs - cx).max()
    yy, xx = np.mgrid[0:400, 0:600]
    r = np.hypot(yy - cy, xx - cx) / radius
    vignette = np.clip(1.0 - 0.65 * np.clip((r - 0.6) / 0.4, 0, 1), 0.35, 1.0)  # rim at about a third
    dark = 0.6 * (sample.image.astype(np.float32) / 255.0) ** 1.2 * vignette[..., None]  # darker camera
    image = np.clip(dark * 255.0 + 0.5, 0, 255).astype(np.uint8)
    assert np.percentile(image[sample.fov_mask].max(axis=1), 1) < 25  # the rim is dark indeed
    assert _iou(detect_fov(image).mask, sample.fov_mask) > 0.98
