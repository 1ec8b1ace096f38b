"""The on-disk prediction cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import InferenceConfig, TilingConfig
from core.imaging.fov import detect_fov
from core.imaging.probability_maps import LesionProbabilities
from core.inference.prediction_cache import PredictionCache, cache_key, file_digest


def _prediction(small_fundus, rng) -> LesionProbabilities:
    fov = detect_fov(small_fundus.image)
    probs = rng.integers(0, 256, (4, *small_fundus.image.shape[:2]), dtype=np.uint8) * fov.mask
    return LesionProbabilities(probs.astype(np.uint8), fov, tiles_run=7)


def test_round_trip_is_exact(tmp_path: Path, small_fundus, rng) -> None:
    cache = PredictionCache(tmp_path / "cache")
    prediction = _prediction(small_fundus, rng)
    assert cache.load("abc") is None
    cache.store("abc", prediction)
    loaded = cache.load("abc")
    assert loaded is not None
    np.testing.assert_array_equal(loaded.probs, prediction.probs)
    np.testing.assert_array_equal(loaded.fov.mask, prediction.fov.mask)
    assert loaded.fov.box == prediction.fov.box and loaded.tiles_run == 7
    assert not list((tmp_path / "cache").glob(".*tmp*")), "no temporary file left behind"


def test_damaged_entry_is_discarded(tmp_path: Path, small_fundus, rng) -> None:
    cache = PredictionCache(tmp_path)
    path = cache.store("k", _prediction(small_fundus, rng))
    path.write_bytes(path.read_bytes()[:100])
    assert cache.load("k") is None
    assert not path.exists()


def test_key_depends_on_image_model_and_settings(tmp_path: Path) -> None:
    base = InferenceConfig()
    key = cache_key("img", "model", base)
    assert key == cache_key("img", "model", InferenceConfig())
    assert key != cache_key("img2", "model", base)
    assert key != cache_key("img", "model2", base)
    assert key != cache_key("img", "model", InferenceConfig(head="3"))
    assert key != cache_key("img", "model", InferenceConfig(tiling=TilingConfig(tile_size=256, overlap=16)))
    assert key == cache_key("img", "model", InferenceConfig(batch_size=3)), "batch size does not change maps"
    assert key != cache_key("img", "model", InferenceConfig(flip_tta=True))
    assert key != cache_key("img", "model", InferenceConfig(backend="openvino"))
    one, two = tmp_path / "a.bin", tmp_path / "b.bin"
    one.write_bytes(b"same")
    two.write_bytes(b"same")
    assert file_digest(one) == file_digest(two)


def test_oldest_entries_are_pruned(tmp_path: Path, small_fundus, rng) -> None:
    import os

    cache = PredictionCache(tmp_path)
    first = cache.store("first", _prediction(small_fundus, rng))
    size = first.stat().st_size
    os.utime(first, (1, 1))
    cache.limit_bytes = int(size * 2.5)
    cache.store("second", _prediction(small_fundus, rng))
    cache.store("third", _prediction(small_fundus, rng))
    assert not first.exists()
    assert cache.path("second").exists() and cache.path("third").exists()


def test_default_folder_follows_the_environment(tmp_path: Path, monkeypatch) -> None:
    from core.inference.prediction_cache import default_cache_dir

    monkeypatch.setenv("LESIONLENS_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.delenv("LESIONLENS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lesionlens" / "predictions"


def test_a_zero_byte_entry_is_dropped_and_recomputed(tmp_path: Path, small_fundus, rng) -> None:
    """Issue 13, defect 10: an empty entry once blocked its photograph for good."""
    cache = PredictionCache(tmp_path)
    cache.folder.mkdir(exist_ok=True)
    cache.path("k").write_bytes(b"")
    assert cache.load("k") is None and not cache.path("k").exists()
    cache.store("k", _prediction(small_fundus, rng))
    assert cache.load("k") is not None


def test_an_entry_of_another_image_size_is_not_used(tmp_path: Path, small_fundus, rng) -> None:
    cache = PredictionCache(tmp_path)
    cache.store("k", _prediction(small_fundus, rng))
    height, width = small_fundus.image.shape[:2]
    assert cache.load("k", expected_shape=(height, width)) is not None
    assert cache.load("k", expected_shape=(height + 1, width)) is None
    assert not cache.path("k").exists()


def test_pruning_deletes_only_the_caches_own_entries(tmp_path: Path, small_fundus, rng) -> None:
    """Issue 13, defect 11: LESIONLENS_CACHE_DIR may point at a folder with other files."""
    import os

    theirs = [tmp_path / "results.npz", tmp_path / "0123456789abcdef0123456789abcdef01234567.npz"]
    for path in theirs:
        path.write_bytes(b"x" * 10_000)
        os.utime(path, (1, 1))
    cache = PredictionCache(tmp_path, limit_bytes=1)
    cache.store("first", _prediction(small_fundus, rng))
    cache.store("second", _prediction(small_fundus, rng))
    assert all(path.exists() for path in theirs)
    assert not cache.path("first").exists()
