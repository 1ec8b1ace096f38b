from __future__ import annotations

import numpy as np
import pytest

from core.learning.camera_variation import CameraVariation, jpeg_roundtrip, vary_camera


def _fundus_like(rng: np.random.Generator) -> np.ndarray:
    image = np.zeros((240, 320, 3), np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = 170, 90, 30
    noise = rng.integers(-20, 20, image.shape)
    return np.clip(image + noise, 0, 255).astype(np.uint8)


def _fixed_camera(
    width_scale: float,
    jpeg_quality: int,
    gain: float = 1.0,
    gamma: float = 1.0,
    red_gain: float = 1.0,
    blue_gain: float = 1.0,
) -> CameraVariation:
    """A camera whose every setting is one value (no blur)."""
    return CameraVariation(
        width_scale=(width_scale, width_scale),
        gain=(gain, gain),
        gamma=(gamma, gamma),
        red_gain=(red_gain, red_gain),
        blue_gain=(blue_gain, blue_gain),
        blur_sigma=(0.0, 0.0),
        jpeg_quality=(jpeg_quality, jpeg_quality),
    )


def test_the_copy_keeps_the_photographs_size_and_type(rng: np.random.Generator) -> None:
    image = _fundus_like(rng)
    varied = vary_camera(image, np.random.default_rng(3))
    assert varied.shape == image.shape and varied.dtype == np.uint8
    assert not np.array_equal(varied, image)


def test_the_same_seed_draws_the_same_camera(rng: np.random.Generator) -> None:
    image = _fundus_like(rng)
    first = vary_camera(image, np.random.default_rng(5))
    np.testing.assert_array_equal(first, vary_camera(image, np.random.default_rng(5)))
    assert not np.array_equal(first, vary_camera(image, np.random.default_rng(6)))


def test_a_fixed_dark_cool_camera_darkens_and_shifts_the_colour(rng: np.random.Generator) -> None:
    image = _fundus_like(rng)
    camera = _fixed_camera(width_scale=0.5, gain=0.6, gamma=1.2, red_gain=0.9, blue_gain=1.2, jpeg_quality=90)
    varied = vary_camera(image, np.random.default_rng(0), camera).astype(float)
    red, green = image[..., 0].astype(float).mean(), image[..., 1].astype(float).mean()
    assert varied[..., 1].mean() == pytest.approx(255 * 0.6 * (green / 255) ** 1.2, rel=0.05)
    assert varied[..., 0].mean() == pytest.approx(255 * 0.54 * (red / 255) ** 1.2, rel=0.05)
    blue = image[..., 2].astype(float).mean()
    assert varied[..., 2].mean() == pytest.approx(255 * 0.72 * (blue / 255) ** 1.2, rel=0.08)


def test_a_smaller_sensor_loses_fine_detail(rng: np.random.Generator) -> None:
    image = _fundus_like(rng)
    image[100:102, 100:102] = (90, 10, 10)  # a 2-px dark dot, like a microaneurysm
    small = _fixed_camera(width_scale=0.25, jpeg_quality=95)
    varied = vary_camera(image, np.random.default_rng(0), small)
    assert varied[100:102, 100:102, 1].mean() > 40  # the dot's contrast is mostly gone


def test_jpeg_roundtrip_loses_noise_but_keeps_the_image(rng: np.random.Generator) -> None:
    image = _fundus_like(rng)
    low = jpeg_roundtrip(image, 30)
    assert low.shape == image.shape and low.dtype == np.uint8
    assert 0 < np.abs(low.astype(int) - image).mean() < 15
    assert (
        np.abs(jpeg_roundtrip(image, 95).astype(int) - image).mean() < np.abs(low.astype(int) - image).mean()
    )
