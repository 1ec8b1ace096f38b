"""Display aids, overlay lookup tables and outlines."""

from __future__ import annotations

import numpy as np
import pytest

from core.imaging.probability_maps import probability_to_level
from core.review import display
from core.review.display import DisplayAid


def test_original_is_returned_untouched(small_fundus) -> None:
    assert display.display_image(small_fundus.image, DisplayAid.ORIGINAL) is small_fundus.image


def test_green_channel_is_shown_as_grey(small_fundus) -> None:
    shown = display.display_image(small_fundus.image, DisplayAid.GREEN)
    assert shown.shape == small_fundus.image.shape and shown.dtype == np.uint8
    for channel in range(3):
        np.testing.assert_array_equal(shown[:, :, channel], small_fundus.image[:, :, 1])


def test_clahe_raises_local_contrast(small_fundus) -> None:
    shown = display.display_image(small_fundus.image, DisplayAid.CLAHE)
    assert shown.shape == small_fundus.image.shape
    inside = small_fundus.fov_mask
    grey_before = small_fundus.image.mean(axis=2)[inside]
    grey_after = shown.mean(axis=2)[inside]
    assert grey_after.std() > grey_before.std()


def test_the_shown_threshold_typed_back_names_the_same_step() -> None:
    """A trial read 0.918 off the slider (step 234 = 0.91765), typed it into predict and got
    step 235's mask; every step's text must read back as that step."""
    for level in range(256):
        shown = display.threshold_text(level / 255.0)
        assert probability_to_level(float(shown)) == level, shown
    assert display.threshold_text(234 / 255) == "0.918"


@pytest.mark.parametrize("threshold", [0.0, 0.2, 0.41, 0.5, 1.0])
def test_threshold_lut_matches_the_mask_rule(threshold: float) -> None:
    lut = display.threshold_lut((10, 20, 30), threshold, 0.5)
    levels = np.arange(256)
    coloured = lut[:, 3] > 0
    np.testing.assert_array_equal(coloured, levels >= probability_to_level(threshold))
    assert tuple(lut[255, :3]) == (10, 20, 30) and lut[255, 3] == 128


def test_comparison_layers_and_luts_give_tp_fp_fn_exactly(rng) -> None:
    probability = rng.integers(0, 256, (50, 60), dtype=np.uint8)
    truth = rng.random((50, 60)) < 0.3
    on, off = display.comparison_layers(probability, truth)
    for level in (display.MIN_THRESHOLD_LEVEL, 60, 128, 254):
        threshold = level / 255
        truth_lut, other_lut = display.comparison_luts(threshold, 1.0)
        shown_on, shown_off = truth_lut[on], other_lut[off]
        predicted = probability >= level
        colour = {
            "tp": display.TRUE_POSITIVE_COLOUR,
            "fn": display.FALSE_NEGATIVE_COLOUR,
            "fp": display.FALSE_POSITIVE_COLOUR,
        }
        np.testing.assert_array_equal(
            np.all(shown_on[:, :, :3] == colour["tp"], axis=2) & truth, predicted & truth
        )
        np.testing.assert_array_equal(
            np.all(shown_on[:, :, :3] == colour["fn"], axis=2) & truth, ~predicted & truth
        )
        np.testing.assert_array_equal(shown_off[:, :, 3] > 0, predicted & ~truth)
        assert not shown_on[~truth, 3].any()


def test_outline_is_the_inner_boundary() -> None:
    mask = np.zeros((20, 20), bool)
    mask[5:15, 5:15] = True
    ring = display.outline(mask, 1) > 0
    assert ring[5, 5:15].all() and ring[14, 5:15].all() and ring[5:15, 5].all()
    assert not ring[7:13, 7:13].any() and not ring[~mask].any()
    assert not display.outline(np.zeros((5, 5), bool)).any()


def test_threshold_outline_follows_the_threshold() -> None:
    probability = np.zeros((30, 30), np.uint8)
    probability[5:25, 5:25] = 100
    probability[10:20, 10:20] = 200
    low = display.threshold_outline(probability, 50 / 255) > 0
    high = display.threshold_outline(probability, 150 / 255) > 0
    assert low[5, 10] and not low[10, 10]
    assert high[10, 12] and not high[5, 10]


def test_outline_width_grows_with_the_photograph() -> None:
    assert display.outline_width((240, 360)) == 1
    assert display.outline_width((2848, 4288)) == 3


def test_lesion_labels_follow_priority_and_the_label_lut_colours_them() -> None:
    from core.lesions import LESIONS, Lesion

    ma, he = np.zeros((10, 10), bool), np.zeros((10, 10), bool)
    he[2:8, 2:8] = True
    ma[4:6, 4:6] = True  # inside the haemorrhage: MA has the higher priority
    labels = display.lesion_labels({Lesion.MA: ma, Lesion.HE: he})
    assert labels[5, 5] == LESIONS.index(Lesion.MA) + 1
    assert labels[2, 2] == LESIONS.index(Lesion.HE) + 1 and labels[0, 0] == 0
    lut = display.label_lut({Lesion.HE: (1, 2, 3)}, 1.0)
    assert tuple(lut[LESIONS.index(Lesion.HE) + 1]) == (1, 2, 3, 255)
    assert lut[LESIONS.index(Lesion.MA) + 1, 3] == 0, "lesions without a colour stay transparent"
    rings = display.outline_labels({Lesion.HE: he}, 1)
    assert rings[2, 5] == LESIONS.index(Lesion.HE) + 1 and rings[5, 5] == 0


def test_tint_moves_towards_white() -> None:
    assert display.tint((0, 100, 255), 0.0) == (0, 100, 255)
    assert display.tint((0, 100, 255), 1.0) == (255, 255, 255)
    assert display.tint((0, 100, 200), 0.5) == (128, 178, 228)
