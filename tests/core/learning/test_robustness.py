from __future__ import annotations

import numpy as np

from core.data.synthetic import synth_fundus
from core.imaging.fov import detect_fov
from core.learning.robustness import (
    SIMULATED_WIDTH,
    BorderFalseAlarms,
    healthy_eye_through_camera,
    rim_mask,
    simulate_camera,
)
from core.lesions import LESIONS, Lesion


def test_simulated_camera_is_smaller_and_darker() -> None:
    fundus = synth_fundus(600, 900, seed=1)
    other = simulate_camera(fundus.image, width=450)
    assert other.shape == (300, 450, 3) and other.dtype == np.uint8
    fov = detect_fov(fundus.image)
    small_fov = detect_fov(other)
    original_mean = fundus.image[fov.mask].astype(float).mean(axis=0)
    other_mean = other[small_fov.mask].astype(float).mean(axis=0)
    assert other_mean.mean() < 0.75 * original_mean.mean()
    assert SIMULATED_WIDTH == 2196


def test_healthy_eye_through_the_camera_keeps_its_size_and_is_darker() -> None:
    image = synth_fundus(400, 400, seed=2).image
    darker = healthy_eye_through_camera(image)
    assert darker.shape == image.shape and darker.dtype == np.uint8
    inside = detect_fov(image).mask
    before, after = image[inside].astype(float).mean(axis=0), darker[inside].astype(float).mean(axis=0)
    assert after.mean() < 0.75 * before.mean()


def test_rim_is_the_outer_band_of_the_field_of_view() -> None:
    fundus = synth_fundus(400, 600, seed=2)
    fov = detect_fov(fundus.image)
    rim = rim_mask(fov, fraction=0.05)
    assert rim.shape == fov.mask.shape and not (rim & ~fov.mask).any()
    radius = max(fov.crop_shape) / 2
    y0, x0, y1, x1 = fov.box
    centre = ((y0 + y1) // 2, (x0 + x1) // 2)
    assert not rim[centre]
    share = rim.sum() / fov.mask.sum()
    assert 0.03 < share < 0.2  # a thin band (about 2 x 5 % of the area of a disc)
    row = rim[centre[0]]
    assert row[x0] and row[x0 + int(0.04 * radius)] and not row[x0 + int(0.07 * radius)]


def test_border_false_alarms_count_flagged_rim_pixels_without_truth() -> None:
    fundus = synth_fundus(400, 600, seed=3)
    fov = detect_fov(fundus.image)
    rim = rim_mask(fov)
    probs = np.zeros((len(LESIONS), 400, 600), np.uint8)
    probs[LESIONS.index(Lesion.HE)][rim] = 255  # the whole rim flagged as haemorrhage
    masks = {lesion: np.zeros((400, 600), bool) for lesion in LESIONS}
    ys, xs = np.nonzero(rim)
    masks[Lesion.HE][ys[:10], xs[:10]] = True  # ten of them are real
    counter = BorderFalseAlarms()
    counter.add(probs, masks, fov, dict.fromkeys(LESIONS, 128))
    shares = counter.shares()
    assert counter.rim_pixels == rim.sum()
    assert shares["HE"] == (rim.sum() - 10) / rim.sum() and shares["any"] == shares["HE"]
    assert shares["MA"] == shares["EX"] == shares["SE"] == 0
    # inside the rim nothing was flagged; then one inside pixel is
    inside = fov.mask & ~rim
    assert counter.inside_pixels == inside.sum() and counter.inside_shares()["any"] == 0
    ys, xs = np.nonzero(inside)
    probs[LESIONS.index(Lesion.EX)][ys[0], xs[0]] = 255
    again = BorderFalseAlarms()
    again.add(probs, masks, fov, dict.fromkeys(LESIONS, 128))
    assert again.inside_shares()["EX"] == again.inside_shares()["any"] == 1 / inside.sum()
    assert again.shares() == shares
