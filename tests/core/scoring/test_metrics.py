from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import auc, average_precision_score, precision_recall_curve

from core.lesions import LESIONS, Lesion
from core.scoring.metrics import PRAccumulator


def _random_case(seed: int, n_images: int = 3, shape: tuple[int, int] = (40, 50)):
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(n_images):
        truth = {lesion: rng.random(shape) < rng.uniform(0.01, 0.2) for lesion in LESIONS}
        noise = rng.normal(0, 60, (4, *shape))
        signal = np.stack([truth[lesion] for lesion in LESIONS]) * rng.uniform(40, 120)
        probs = np.clip(60 + signal + noise, 0, 255).astype(np.uint8)
        images.append((probs, truth))
    return images


@pytest.mark.parametrize("seed", range(5))
def test_pooled_scores_equal_sklearn_on_quantised_data(seed: int) -> None:
    images = _random_case(seed)
    acc = PRAccumulator()
    for probs, truth in images:
        acc.add(probs, truth)
    for index, lesion in enumerate(LESIONS):
        scores = np.concatenate([p[index].ravel() for p, _ in images]).astype(float)
        labels = np.concatenate([t[lesion].ravel() for _, t in images])
        precision, recall, thresholds = precision_recall_curve(labels, scores)
        curve = acc.curve(lesion)
        np.testing.assert_allclose(curve.precision, precision, atol=1e-12)
        np.testing.assert_allclose(curve.recall, recall, atol=1e-12)
        np.testing.assert_array_equal(curve.thresholds, thresholds)
        assert acc.aupr(lesion) == pytest.approx(auc(recall, precision), abs=1e-6)
        assert acc.average_precision(lesion) == pytest.approx(
            average_precision_score(labels, scores), abs=1e-6
        )


def test_perfect_and_useless_predictors() -> None:
    truth = np.zeros((20, 20), bool)
    truth[5:10, 5:10] = True
    perfect = PRAccumulator()
    perfect.add(np.stack([truth.astype(np.uint8) * 255] * 4), dict.fromkeys(LESIONS, truth))
    assert perfect.aupr(Lesion.MA) == pytest.approx(1.0)
    assert perfect.best_f1(Lesion.MA).f1 == pytest.approx(1.0)
    constant = PRAccumulator()
    constant.add(np.full((4, 20, 20), 128, np.uint8), dict.fromkeys(LESIONS, truth))
    prevalence = truth.mean()
    assert constant.average_precision(Lesion.HE) == pytest.approx(prevalence)


def test_absent_lesion_is_all_negative_and_nan_when_never_present() -> None:
    acc = PRAccumulator()
    probs = np.full((4, 10, 10), 200, np.uint8)
    truth = {Lesion.MA: np.ones((10, 10), bool)}  # HE, EX, SE absent from this image
    acc.add(probs, truth)
    assert acc.negatives[1].sum() == 100 and acc.positives[1].sum() == 0
    assert math.isnan(acc.aupr(Lesion.SE))
    assert acc.aupr(Lesion.MA) == pytest.approx(1.0)
    assert acc.images.tolist() == [1, 0, 0, 0]


def test_operating_point_counts() -> None:
    acc = PRAccumulator()
    probs = np.zeros((4, 1, 4), np.uint8)
    probs[0] = [[10, 100, 200, 250]]
    truth = {Lesion.MA: np.array([[False, True, False, True]])}
    acc.add(probs, truth)
    point = acc.operating_point(Lesion.MA, 100 / 255)
    assert (point.true_positives, point.false_positives, point.false_negatives) == (2, 1, 0)
    assert point.precision == pytest.approx(2 / 3) and point.recall == 1.0
    assert point.f1 == pytest.approx(0.8)


def test_merge_equals_adding_everything_to_one() -> None:
    images = _random_case(9, n_images=4)
    one, first, second = PRAccumulator(), PRAccumulator(), PRAccumulator()
    for k, (probs, truth) in enumerate(images):
        one.add(probs, truth)
        (first if k % 2 else second).add(probs, truth)
    first.merge(second)
    np.testing.assert_array_equal(one.positives, first.positives)
    np.testing.assert_array_equal(one.negatives, first.negatives)


def test_valid_mask_excludes_pixels() -> None:
    acc = PRAccumulator()
    probs = np.full((4, 4, 4), 255, np.uint8)
    valid = np.zeros((4, 4), bool)
    valid[:2] = True
    acc.add(probs, {Lesion.MA: np.ones((4, 4), bool)}, valid=valid)
    assert acc.positives[0].sum() == 8 and acc.negatives.sum() == 3 * 8


def test_eleven_point_variant_is_close_to_the_full_curve_for_good_predictions() -> None:
    images = _random_case(3)
    acc = PRAccumulator()
    for probs, truth in images:
        acc.add(probs, truth)
    for lesion in LESIONS:
        assert 0 < acc.aupr_eleven(lesion) <= 1
        assert abs(acc.aupr_eleven(lesion) - acc.aupr(lesion)) < 0.15


def test_summary_has_every_lesion_and_the_mean() -> None:
    acc = PRAccumulator()
    for probs, truth in _random_case(1):
        acc.add(probs, truth)
    summary = acc.summary()
    assert set(summary) == {"MA", "HE", "EX", "SE", "mean"}
    assert summary["mean"]["aupr"] == pytest.approx(
        np.mean([summary[c]["aupr"] for c in ("MA", "HE", "EX", "SE")])
    )


def test_threshold_near_picks_the_closest_curve_point() -> None:
    from core.lesions import LESIONS, Lesion
    from core.scoring.metrics import PRAccumulator

    probs = np.zeros((4, 10, 10), np.uint8)
    probs[0, :5] = 200  # top half: strong
    probs[0, 5:, :5] = 50  # bottom-left: weak
    truth = {Lesion.MA: np.zeros((10, 10), bool)}
    truth[Lesion.MA][:5] = True
    truth[Lesion.MA][5:, :2] = True
    scores = PRAccumulator(LESIONS)
    scores.add(probs, truth)
    curve = scores.curve(Lesion.MA)
    for index, level in enumerate(curve.thresholds):
        picked = scores.threshold_near(Lesion.MA, curve.recall[index] + 0.01, curve.precision[index] - 0.01)
        assert picked == level / 255
    assert PRAccumulator(LESIONS).threshold_near(Lesion.HE, 0.5, 0.5) is None


@pytest.mark.parametrize("seed", range(3))
def test_precise_f1_is_the_highest_threshold_on_the_flat_top_of_f1(seed: int) -> None:
    acc = PRAccumulator()
    for probs, truth in _random_case(seed):
        acc.add(probs, truth)
    for lesion in LESIONS:
        best = acc.best_f1(lesion)
        precise = acc.precise_f1(lesion, tolerance=0.05)
        assert precise.threshold >= best.threshold
        assert precise.f1 >= 0.95 * best.f1 - 1e-12
        # every higher level that occurs has an F1 below the plateau
        levels = acc.curve(lesion).thresholds
        for level in levels[levels / 255.0 > precise.threshold + 1e-9]:
            assert acc.operating_point(lesion, float(level) / 255.0).f1 < 0.95 * best.f1
        assert acc.precise_f1(lesion, tolerance=0.0).threshold == pytest.approx(best.threshold)
