from __future__ import annotations

import pytest

from core.lesions import CLASS_NAMES, LESIONS, NUM_CLASSES, PAINT_ORDER, Lesion, TrainingClass


def test_six_classes_in_documented_order() -> None:
    assert NUM_CLASSES == 6
    assert CLASS_NAMES == ("BACKGROUND", "FUNDUS", "MA", "HE", "EX", "SE")
    assert [TrainingClass.for_lesion(lesion) for lesion in LESIONS] == [2, 3, 4, 5]


def test_priority_puts_microaneurysms_on_top() -> None:
    assert PAINT_ORDER[-1] is Lesion.MA
    assert PAINT_ORDER == (Lesion.HE, Lesion.EX, Lesion.SE, Lesion.MA)
    assert len({lesion.priority for lesion in LESIONS}) == 4


def test_from_code_is_case_insensitive_and_rejects_unknown() -> None:
    assert Lesion.from_code(" ex ") is Lesion.EX
    with pytest.raises(ValueError, match="unknown lesion code 'OD'"):
        Lesion.from_code("OD")


def test_colours_are_distinct_rgb_triplets() -> None:
    colours = {lesion.colour for lesion in LESIONS}
    assert len(colours) == 4
    assert all(len(c) == 3 and all(0 <= v <= 255 for v in c) for c in colours)
