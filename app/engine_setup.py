"""The review engine the app starts with: the chosen (or built-in) model and the prediction cache."""

from __future__ import annotations

from pathlib import Path

from core.assets.paths import default_model_path
from core.errors import LesionLensError
from core.inference.prediction_cache import PredictionCache
from core.review.engine import ReviewEngine


def build_engine(
    model: Path | None,
    device: str,
    cache_dir: Path | None,
    backend: str | None = None,
    flip_tta: bool | None = None,
) -> tuple[ReviewEngine | None, str | None]:
    """The engine, or None and the reason (shown in a dialog; images can still be viewed)."""
    try:
        engine = ReviewEngine(
            model or default_model_path(), PredictionCache(cache_dir), device, backend, flip_tta
        )
        return engine, None
    except LesionLensError as exc:
        return None, str(exc)
