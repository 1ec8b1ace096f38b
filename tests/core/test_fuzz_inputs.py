"""Untrusted files never raise anything but one clear LesionLensError naming the file (issue 13).

Property tests over the three files LesionLens reads from places others can change: a review
``session.json``, a model file's metadata and a prediction-cache entry. Each input gives either
a valid result or a ``LesionLensError`` whose message names the file; any other exception
fails the test.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.config import ModelConfig
from core.errors import LesionLensError
from core.inference.prediction_cache import PredictionCache
from core.network.checkpoint import FORMAT_NAME, CheckpointMeta
from core.network.model_file import read_model_file
from core.review.session import SESSION_FORMAT, ReviewSession

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _valid_session() -> dict:
    return {
        "format": SESSION_FORMAT,
        "reviewer": "r",
        "model": {"name": "m"},
        "thresholds": {"MA": 0.5},
        "created": "2026-12-02T00:00:00+00:00",
        "images": {
            "a.jpg": {
                "digest": "0",
                "status": "in progress",
                "comment": "",
                "lesions": {"EX": {"status": "reviewed", "adopted_threshold": 0.4, "edited_pixels": 3}},
            }
        },
    }


def _paths(document: object) -> list[list]:
    """Every key path of a JSON document (to replace one value)."""
    found: list[list] = [[]]
    if isinstance(document, dict):
        for key, value in document.items():
            found += [[key, *rest] for rest in _paths(value)]
    return found


def _replaced(document: dict, path: list, value: object) -> dict:
    copy = json.loads(json.dumps(document))
    if not path:
        return value  # type: ignore[return-value]
    node = copy
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copy


def _check_session_text(text: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        session_dir = Path(folder) / ".lesionlens"
        session_dir.mkdir()
        file = session_dir / "session.json"
        file.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
        try:
            session = ReviewSession.open(Path(folder))
        except LesionLensError as exc:
            assert str(file) in str(exc)
            return
        for review in session.images.values():  # what was accepted is usable as it is
            assert isinstance(review.comment, str) and "\x00" not in review.name
            for item in review.lesions.values():
                assert item.adopted_threshold is None or 0.0 <= item.adopted_threshold <= 1.0
        assert all(0.0 <= value <= 1.0 for value in session.thresholds.values())


@FUZZ
@given(index=st.integers(min_value=0), value=json_values)
def test_any_value_anywhere_in_a_session(index: int, value: object) -> None:
    document = _valid_session()
    paths = _paths(document)
    _check_session_text(json.dumps(_replaced(document, paths[index % len(paths)], value)))


@FUZZ
@given(data=st.binary(max_size=400))
def test_any_bytes_as_a_session(data: bytes) -> None:
    _check_session_text(data)


def _model_file(folder: Path, meta: object) -> Path:
    from safetensors.numpy import save

    path = folder / "model.safetensors"
    header = {"format": FORMAT_NAME, "format_version": "1", "lesionlens": json.dumps(meta)}
    path.write_bytes(save({"x_0_0.0.weight": np.zeros((2, 3, 3, 3), np.float32)}, metadata=header))
    return path


@FUZZ
@given(index=st.integers(min_value=0), value=json_values)
def test_any_value_anywhere_in_model_metadata(index: int, value: object) -> None:
    meta = CheckpointMeta(name="m", model=ModelConfig(width=0.125)).to_dict()
    paths = _paths(meta)
    with tempfile.TemporaryDirectory() as folder:
        path = _model_file(Path(folder), _replaced(meta, paths[index % len(paths)], value))
        try:
            loaded = read_model_file(path)
        except LesionLensError as exc:
            assert str(path) in str(exc)
            return
        meta_read = loaded.meta
        assert meta_read.model.in_channels == 3 and 0 < meta_read.model.width <= 4
        assert all(0 <= v <= 1 and math.isfinite(v) for v in meta_read.default_thresholds.values())


@FUZZ
@given(data=st.binary(max_size=600))
def test_any_bytes_as_a_model_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.safetensors"
        path.write_bytes(data)
        try:
            read_model_file(path)
        except LesionLensError as exc:
            assert str(path) in str(exc)


def _cache_entry(meta: object, shape: tuple[int, int] = (40, 50)) -> bytes:
    from core.imaging.io import encode_png

    arrays = {
        f"probs_{code}": np.frombuffer(encode_png(np.zeros(shape, np.uint8)), np.uint8)
        for code in ["MA", "HE", "EX", "SE"]
    }
    arrays["fov"] = np.frombuffer(encode_png(np.full(shape, 255, np.uint8)), np.uint8)
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@FUZZ
@given(index=st.integers(min_value=0), value=json_values, data=st.binary(max_size=300), raw=st.booleans())
def test_any_cache_entry_is_used_whole_or_recomputed(
    index: int, value: object, data: bytes, raw: bool
) -> None:
    meta = {"format": 3, "shape": [40, 50], "box": [0, 0, 40, 50], "tiles_run": 1}
    paths = _paths(meta)
    with tempfile.TemporaryDirectory() as folder:
        cache = PredictionCache(folder)
        cache.path("k").write_bytes(
            data if raw else _cache_entry(_replaced(meta, paths[index % len(paths)], value))
        )
        loaded = cache.load("k", expected_shape=(40, 50))
        if loaded is not None:
            assert loaded.probs.shape == (4, 40, 50) and loaded.fov.mask.shape == (40, 50)
        else:
            assert not cache.path("k").exists()
