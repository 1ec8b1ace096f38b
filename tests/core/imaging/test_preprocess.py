from __future__ import annotations

import numpy as np
import pytest

from core.config import PreprocessConfig
from core.data.synthetic import synth_fundus
from core.errors import ConfigError
from core.imaging.fov import detect_fov
from core.imaging.preprocess import (
    REFERENCE_RGB,
    SURROUND_MARGIN,
    normalise_illumination,
    prepare,
    prepare_masks,
    restore,
    smooth_background,
    working_scale,
)
from core.lesions import LESIONS, Lesion


def _disc(height: int, width: int, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[:height, :width]
    return (yy - height / 2) ** 2 + (xx - width / 2) ** 2 <= radius**2


def test_identity_config_keeps_the_crop_at_its_own_scale(small_fundus) -> None:
    fov = detect_fov(small_fundus.image)
    prepared = prepare(small_fundus.image, fov, PreprocessConfig())
    assert prepared.scale == 1.0 and PreprocessConfig().is_identity
    np.testing.assert_array_equal(prepared.image, fov.crop(small_fundus.image))
    np.testing.assert_array_equal(prepared.mask, fov.crop(fov.mask))


def test_fov_is_resized_to_the_target_diameter_whatever_the_camera() -> None:
    sizes = []
    for height, width in ((600, 900), (1200, 1800)):  # two cameras, the same eye
        fundus = synth_fundus(height, width, seed=3)
        fov = detect_fov(fundus.image)
        prepared = prepare(fundus.image, fov, PreprocessConfig(fov_diameter=512))
        assert max(prepared.shape) == 512
        assert working_scale(fov, PreprocessConfig(fov_diameter=512)) == pytest.approx(
            512 / max(fov.crop_shape)
        )
        sizes.append(prepared.shape)
    assert abs(sizes[0][0] - sizes[1][0]) <= 2 and abs(sizes[0][1] - sizes[1][1]) <= 2


def test_restore_maps_back_to_the_original_pixels() -> None:
    fundus = synth_fundus(600, 900, seed=4)
    fov = detect_fov(fundus.image)
    prepared = prepare(fundus.image, fov, PreprocessConfig(fov_diameter=300))
    levels = np.full((2, *prepared.shape), 200, np.uint8)
    restored = restore(levels, prepared)
    assert restored.shape == (2, 600, 900)
    assert (restored[:, ~fov.mask] == 0).all()
    inside = restored[0][fov.mask]
    assert (inside == 200).mean() > 0.99


def test_small_lesions_survive_the_downscaling() -> None:
    fundus = synth_fundus(600, 900, seed=5)
    fov = detect_fov(fundus.image)
    prepared = prepare(fundus.image, fov, PreprocessConfig(fov_diameter=300))
    masks = {lesion: np.zeros((600, 900), bool) for lesion in LESIONS}
    masks[Lesion.MA][300:302, 450:452] = True  # a 2 x 2 px microaneurysm, scale ~0.5
    shrunk = prepare_masks(masks, prepared)
    assert shrunk[Lesion.MA].sum() >= 1
    assert not shrunk[Lesion.HE].any()


def test_illumination_normalisation_removes_gain_and_colour_cast() -> None:
    mask = _disc(200, 200, 90)
    rng = np.random.default_rng(0)
    base = np.zeros((200, 200, 3), np.float32)
    base[...] = (150, 75, 18)
    base += rng.normal(0, 2, base.shape)
    ramp = np.linspace(0.6, 1.0, 200, dtype=np.float32)[None, :, None]  # uneven illumination
    spot = _disc(200, 200, 6)
    lit = base * ramp
    lit[spot] *= 1.6  # a bright lesion
    darker_cooler = np.clip(lit * (0.5, 0.6, 1.4), 0, 255).astype(np.uint8)
    reference = np.clip(lit, 0, 255).astype(np.uint8)
    for image in (reference, darker_cooler):
        image[~mask] = 0
    sigma = 200 / 8
    out_a = normalise_illumination(reference, mask, sigma).astype(np.float32)
    out_b = normalise_illumination(darker_cooler, mask, sigma).astype(np.float32)
    ring = mask & ~_disc(200, 200, 20)
    assert np.abs(out_a[ring].mean(axis=0) - REFERENCE_RGB).max() < 8  # the reference colour
    assert np.abs(out_a[ring] - out_b[ring]).mean() < 6  # the two cameras now look alike
    assert out_a[spot][:, 0].mean() > 1.3 * out_a[ring][:, 0].mean()  # lesion contrast kept
    assert (out_a[~mask] == 0).all()
    left, right = out_a[ring & (np.arange(200)[None, :] < 60)], out_a[ring & (np.arange(200)[None, :] > 140)]
    assert abs(left[:, 1].mean() - right[:, 1].mean()) < 6  # the illumination ramp is gone


def test_background_ignores_the_black_border() -> None:
    mask = _disc(160, 160, 70)
    image = np.zeros((160, 160, 3), np.uint8)
    image[mask] = (120, 60, 20)
    background = smooth_background(image, mask, sigma=20)
    assert np.abs(background[mask] - (120, 60, 20)).max() < 3  # no darkening towards the rim


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        PreprocessConfig(fov_diameter=10)
    with pytest.raises(ConfigError):
        PreprocessConfig(background_sigma=2.0)
    with pytest.raises(ConfigError, match="surround"):
        PreprocessConfig(surround="grey")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="illumination"):
        PreprocessConfig(surround="background")


def _surround_config() -> PreprocessConfig:
    return PreprocessConfig(fov_diameter=300, illumination=True, surround="background")


def test_background_surround_hides_the_black_border_and_the_image_edge() -> None:
    fundus = synth_fundus(600, 900, seed=6)
    fov = detect_fov(fundus.image)
    plain = prepare(fundus.image, fov, PreprocessConfig(fov_diameter=300, illumination=True))
    surrounded = prepare(fundus.image, fov, _surround_config())
    margin = surrounded.margin
    assert margin == SURROUND_MARGIN and plain.margin == 0
    height, width = plain.shape
    assert surrounded.shape == (height + 2 * margin, width + 2 * margin)
    np.testing.assert_array_equal(surrounded.mask[margin:-margin, margin:-margin], plain.mask)
    assert not surrounded.mask[:margin].any() and not surrounded.mask[:, -margin:].any()
    colour = np.asarray(REFERENCE_RGB).round()
    outside = surrounded.image[~surrounded.mask].astype(np.float32)
    assert np.abs(outside - colour).max() == 0  # no black anywhere round the retina
    assert (plain.image[~plain.mask] == 0).all()
    centre = (slice(height // 2 - 20, height // 2 + 20), slice(width // 2 - 20, width // 2 + 20))
    inner = surrounded.image[margin:-margin, margin:-margin]
    np.testing.assert_array_equal(inner[centre], plain.image[centre])  # the retina itself is unchanged


def test_background_surround_fills_black_notches_inside_the_hull() -> None:
    fundus = synth_fundus(600, 900, seed=7)
    image = fundus.image.copy()
    fov = detect_fov(image)
    rows, cols = np.nonzero(fov.mask)
    top = int(rows.min())
    column = int(cols[rows == top].mean())
    image[top : top + 12, column - 10 : column + 10] = 0  # a notch in the camera's mask, at the rim
    prepared = prepare(image, fov, _surround_config())
    notch = prepared.mask & (prepared.image.astype(np.int16).sum(axis=2) < 60)
    assert not notch.any()


def test_restore_and_masks_drop_the_surround_margin() -> None:
    fundus = synth_fundus(600, 900, seed=8)
    fov = detect_fov(fundus.image)
    prepared = prepare(fundus.image, fov, _surround_config())
    levels = np.zeros((1, *prepared.shape), np.uint8)
    levels[0][prepared.mask] = 200
    levels[0][~prepared.mask] = 99  # what the network says on the fill
    restored = restore(levels, prepared)
    assert restored.shape == (1, 600, 900)
    assert (restored[0][fov.mask] == 200).mean() > 0.99  # the margin is cut off, not resized in
    assert (restored[0][~fov.mask] == 0).all()
    masks = {lesion: np.zeros((600, 900), bool) for lesion in LESIONS}
    masks[Lesion.HE][300:310, 450:460] = True
    shrunk = prepare_masks(masks, prepared)
    assert shrunk[Lesion.HE].shape == prepared.shape
    ys, xs = np.nonzero(shrunk[Lesion.HE])
    scale, margin = prepared.scale, prepared.margin
    y0, x0 = fov.box[:2]
    assert abs(ys.mean() - ((305 - y0) * scale + margin)) < 2
    assert abs(xs.mean() - ((455 - x0) * scale + margin)) < 2
