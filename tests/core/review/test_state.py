"""The review state owns thresholds, layers and masks of the photograph on screen."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from core.imaging.fov import detect_fov
from core.imaging.lesion_stats import mask_stats
from core.imaging.probability_maps import LesionProbabilities
from core.lesions import LESIONS, Lesion
from core.review.engine import ImageAnalysis
from core.review.session import ReviewSession, ReviewStatus
from core.review.state import Change, Layer, ReviewState


@pytest.fixture
def analysis(tmp_path: Path) -> ImageAnalysis:
    rng = np.random.default_rng(5)
    image = np.zeros((60, 80, 3), np.uint8)
    image[5:55, 10:70] = 120  # the field of view
    probs = rng.integers(0, 256, (len(LESIONS), 60, 80), dtype=np.uint8)
    prediction = LesionProbabilities(probs, detect_fov(image))
    truth = {lesion: probs[i] > 200 for i, lesion in enumerate(LESIONS)}
    return ImageAnalysis(tmp_path / "a.jpg", image, "digest", prediction, truth=truth)


@pytest.fixture
def state() -> ReviewState:
    layers = {lesion: Layer(True, lesion.colour, 0.6) for lesion in LESIONS}
    return ReviewState(dict.fromkeys(LESIONS, 0.5), layers)


def test_thresholds_belong_to_the_folder_session(tmp_path: Path, state: ReviewState, analysis) -> None:
    events: list[tuple[Change, Lesion | None]] = []
    state.subscribe(lambda change, lesion: events.append((change, lesion)))
    first = ReviewSession(tmp_path, location=tmp_path / "one")
    state.show(first, analysis)
    state.set_threshold(Lesion.HE, 0.3)
    assert first.thresholds[Lesion.HE] == 0.3 and (Change.THRESHOLD, Lesion.HE) in events
    other = ReviewSession(tmp_path / "b", location=tmp_path / "two")
    state.show(other, analysis)
    assert state.thresholds[Lesion.HE] == 0.5, "another folder starts at the model's defaults"
    state.show(first, analysis)
    assert state.thresholds[Lesion.HE] == 0.3
    with pytest.raises(ValueError):
        state.set_threshold(Lesion.MA, math.nan)
    state.set_threshold(Lesion.MA, -3)
    assert 0 < state.thresholds[Lesion.MA] < 0.01, "clamped to the slider's range, never a full mask"


def test_an_adopted_mask_is_what_is_counted_and_scored(tmp_path: Path, state: ReviewState, analysis) -> None:
    state.show(ReviewSession(tmp_path, location=tmp_path / "s"), analysis)
    mask = state.adopt(Lesion.EX)
    mask.fill_polygon([(5, 5), (5, 30), (30, 30), (30, 5)])
    state.mask_edited(Lesion.EX)
    fov_pixels = int(np.count_nonzero(analysis.prediction.fov.mask))
    assert state.stats(Lesion.EX) == mask_stats(mask.mask(), fov_pixels)
    state.set_threshold(Lesion.EX, 0.9)
    assert state.stats(Lesion.EX) == mask_stats(mask.mask(), fov_pixels), "the threshold no longer drives it"
    assert (state.shown_mask(Lesion.EX) == mask.mask()).all()
    point = state.edited_point(Lesion.EX)
    truth = analysis.truth[Lesion.EX] & analysis.prediction.fov.mask
    shown = mask.mask() & analysis.prediction.fov.mask
    assert point.true_positives == np.count_nonzero(shown & truth)
    assert point.false_positives == np.count_nonzero(shown & ~truth)
    assert state.edited_point(Lesion.MA) is None
    assert (state.shown_mask(Lesion.MA) == analysis.prediction.mask(Lesion.MA, 0.5)).all()


def test_mark_reviewed_adopts_unopened_lesions_as_shown(tmp_path: Path, state: ReviewState, analysis) -> None:
    state.show(ReviewSession(tmp_path, location=tmp_path / "s"), analysis)
    state.adopt(Lesion.EX)
    state.set_threshold(Lesion.MA, 0.7)
    assert state.unopened_lesions() == [Lesion.MA, Lesion.HE, Lesion.SE]
    assert state.mark_reviewed() == [Lesion.MA, Lesion.HE, Lesion.SE]
    review = state.review
    assert review.status is ReviewStatus.REVIEWED
    assert (
        review.lesions[Lesion.MA].accepted_with_photograph
        and not review.lesions[Lesion.EX].accepted_with_photograph
    )
    assert (state.mask(Lesion.MA).mask() == analysis.prediction.mask(Lesion.MA, 0.7)).all()
    assert review.lesions[Lesion.MA].adopted_threshold == 0.7


def test_nothing_is_recorded_without_a_photograph(state: ReviewState) -> None:
    state.show(None, None)
    assert state.review is None and state.adopt(Lesion.EX) is None
    assert not state.set_comment("lost?") and not state.set_image_status(ReviewStatus.FLAGGED)
    state.set_all_visible(False)
    assert not state.any_visible


def test_prefilled_lesions_count_as_not_looked_at(tmp_path: Path, state: ReviewState, analysis) -> None:
    state.show(ReviewSession(tmp_path, location=tmp_path / "s"), analysis)
    for lesion in LESIONS:
        state.adopt(lesion)
        state.review.lesions[lesion].prefilled = True  # as ``lesionlens review --prefill`` leaves them
    state.mask(Lesion.EX).fill_polygon([(5, 5), (5, 20), (20, 20), (20, 5)])
    state.mask_edited(Lesion.EX)  # a person edited EX
    assert state.unopened_lesions() == [Lesion.MA, Lesion.HE, Lesion.SE]
    assert state.mark_reviewed() == []  # nothing newly adopted...
    review = state.review
    assert all(
        review.lesions[lesion].accepted_with_photograph for lesion in (Lesion.MA, Lesion.HE, Lesion.SE)
    )
    assert not review.lesions[Lesion.EX].accepted_with_photograph  # ...but recorded as accepted unopened
    assert not any(item.prefilled for item in review.lesions.values())
