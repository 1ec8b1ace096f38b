"""The review engine: open, predict, cache and score one photograph."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.data.ground_truth import find_ground_truth
from core.data.synthetic import write_idrid_layout
from core.errors import ImageReadError
from core.inference.prediction_cache import PredictionCache
from core.inference.predictor import InferenceProgress, model_tiling, run_to_end
from core.lesions import LESIONS, Lesion
from core.network.checkpoint import save_checkpoint, torch_model
from core.network.openvino_network import openvino_available
from core.review.engine import ReviewEngine, combine, open_without_model, score, with_truth
from core.scoring.metrics import PRAccumulator


@pytest.fixture
def engine(tiny_checkpoint: Path, tmp_path: Path) -> ReviewEngine:
    return ReviewEngine(tiny_checkpoint, PredictionCache(tmp_path / "cache"), device="cpu")


@pytest.fixture
def idrid_image(tmp_path: Path) -> Path:
    return write_idrid_layout(tmp_path / "data", 1, 240, 360, seed=5)[0]


def _run(generator):
    steps = []
    while True:
        try:
            steps.append(next(generator))
        except StopIteration as stop:
            return stop.value, steps


def test_predict_then_reopen_from_cache(engine: ReviewEngine, idrid_image: Path) -> None:
    opened = engine.open(idrid_image)
    assert opened.prediction is None and opened.truth is not None and opened.scores is None
    assert opened.truth_source is not None and opened.truth_source.origin == "idrid"
    analysed, steps = _run(engine.iter_predict(opened))
    assert all(isinstance(s, InferenceProgress) for s in steps) and steps[-1].done == steps[-1].total
    assert analysed.prediction is not None and not analysed.from_cache
    assert analysed.prediction.probs.shape == (4, 240, 360)
    assert analysed.scores is not None and analysed.scores.has_positives(Lesion.EX)
    again = engine.open(idrid_image)
    assert again.from_cache
    np.testing.assert_array_equal(again.prediction.probs, analysed.prediction.probs)
    np.testing.assert_array_equal(again.scores.positives, analysed.scores.positives)
    cached, steps = _run(engine.iter_analyse(idrid_image))
    assert cached.from_cache and steps == []


def test_changing_the_model_misses_the_cache(engine: ReviewEngine, idrid_image: Path, tmp_path: Path) -> None:
    _run(engine.iter_analyse(idrid_image))
    other = ReviewEngine(engine.loaded.path, engine.cache, device="cpu")
    other.loaded = type(engine.loaded)(engine.loaded.model, engine.loaded.meta, engine.loaded.path, "0" * 64)
    assert other.open(idrid_image).prediction is None


def test_mirrored_tiles_are_their_own_cache_entry_and_recorded(
    engine: ReviewEngine, idrid_image: Path
) -> None:
    plain, _ = _run(engine.iter_analyse(idrid_image))
    mirrored_engine = ReviewEngine(engine.loaded.path, engine.cache, device="cpu", flip_tta=True)
    assert mirrored_engine.open(idrid_image).prediction is None  # not the plain maps from the cache
    mirrored, _ = _run(mirrored_engine.iter_analyse(idrid_image))
    assert not np.array_equal(mirrored.prediction.probs, plain.prediction.probs)
    assert mirrored_engine.open(idrid_image).from_cache
    assert mirrored_engine.provenance()["flip_tta"] is True and engine.provenance()["flip_tta"] is False
    assert mirrored_engine.provenance()["sha256"] == engine.loaded.sha256


def test_the_provenance_says_which_backend_device_and_number_format_made_the_maps(
    tiny_checkpoint: Path, tmp_path: Path
) -> None:
    cache = PredictionCache(tmp_path / "cache")
    plain = ReviewEngine(tiny_checkpoint, cache, device="cpu", backend="torch").provenance()
    assert (plain["backend"], plain["device"], plain["precision"]) == ("torch", "cpu", "float32")
    if openvino_available():
        other = ReviewEngine(tiny_checkpoint, cache, device="cpu", backend="openvino").provenance()
        assert (other["backend"], other["device"], other["precision"]) == ("openvino", "cpu", "float32")


def test_a_model_whose_thresholds_were_chosen_on_mirrored_tiles_predicts_so_by_default(
    engine: ReviewEngine, tmp_path: Path
) -> None:
    meta = replace(engine.loaded.meta, inference_flip_tta=True)
    path = tmp_path / "mirrored.safetensors"
    save_checkpoint(path, torch_model(engine.loaded), meta)
    assert ReviewEngine(path, engine.cache, device="cpu").config.flip_tta is True
    assert ReviewEngine(path, engine.cache, device="cpu", flip_tta=False).config.flip_tta is False
    assert engine.config.flip_tta is False  # a file without the setting: plain tiles


def test_scores_are_the_field_of_view_histograms(engine: ReviewEngine, idrid_image: Path) -> None:
    analysed, _ = _run(engine.iter_analyse(idrid_image))
    expected = PRAccumulator(LESIONS)
    expected.add(analysed.prediction.probs, analysed.truth, valid=analysed.prediction.fov.mask)
    np.testing.assert_array_equal(analysed.scores.negatives, expected.negatives)
    pooled = combine([analysed.scores, analysed.scores])
    np.testing.assert_array_equal(pooled.positives, 2 * expected.positives)


def test_truth_can_be_removed_and_given(engine: ReviewEngine, idrid_image: Path) -> None:
    analysed, _ = _run(engine.iter_analyse(idrid_image))
    without = with_truth(analysed, None)
    assert without.truth is None and without.scores is None
    back = with_truth(without, find_ground_truth(idrid_image))
    np.testing.assert_array_equal(back.scores.positives, score(analysed.prediction, analysed.truth).positives)


def test_the_app_shows_the_maps_predict_writes(
    engine: ReviewEngine, idrid_image: Path, tmp_path: Path
) -> None:
    """The review window and ``lesionlens predict`` gave different maps for one photograph (the
    app blended tiles uniformly, predict smoothly): both now use ``model_tiling``."""
    from core.cli.main import main
    from core.imaging.io import read_image

    assert engine.config.tiling == model_tiling(engine.loaded.meta)
    assert engine.config.tiling.blending == "smooth"
    shown = run_to_end(engine.iter_predict(engine.open(idrid_image), store=False)).prediction
    out = tmp_path / "predicted"
    model = ["--model", str(engine.loaded.path), "--device", "cpu", "--backend", engine.config.backend]
    assert main(["--log-level", "WARNING", "predict", str(idrid_image), "--out", str(out), *model]) == 0
    for lesion in LESIONS:
        written = read_image(out / f"{idrid_image.stem}_{lesion.code}.png", min_side=1)[..., 0]
        np.testing.assert_array_equal(shown[lesion], written)


def test_default_thresholds_come_from_the_model(engine: ReviewEngine) -> None:
    assert engine.default_thresholds == dict.fromkeys(LESIONS, 0.5)


def test_bad_image_names_the_file(engine: ReviewEngine, tmp_path: Path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with pytest.raises(ImageReadError, match="broken.jpg"):
        engine.open(bad)
    with pytest.raises(ImageReadError, match="broken.jpg"):
        open_without_model(bad)


def test_without_model(idrid_image: Path) -> None:
    opened = open_without_model(idrid_image)
    assert opened.prediction is None and opened.truth is not None


def test_a_read_only_cache_does_not_lose_the_prediction(
    tiny_checkpoint: Path, idrid_image: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = ReviewEngine(tiny_checkpoint, PredictionCache(tmp_path / "cache"), device="cpu")

    def refuse(*_args, **_kwargs):
        raise PermissionError("read-only")

    monkeypatch.setattr(engine.cache, "store", refuse)
    analysed, _ = _run(engine.iter_analyse(idrid_image))
    assert analysed.prediction is not None
