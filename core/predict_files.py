"""Predict a list of image files into an output folder (the ``predict`` command's engine).

Per image ``<stem>``: ``<stem>_MA.png`` .. ``<stem>_SE.png`` (8-bit probabilities,
0..255), optional binary masks ``masks/<stem>_MA.png`` (lesion = 255), and the sidecar
``<stem>.json`` written last (model, configuration, field of view, timings).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

import core
from core.checkpoint import LoadedModel
from core.errors import LesionLensError
from core.inference import InferenceProgress, LesionProbabilities, Predictor, probability_to_level
from core.io import IMAGE_SUFFIXES, list_images, read_image, write_json, write_png
from core.lesions import LESIONS, Lesion

log = logging.getLogger(__name__)

DISCLAIMER = "LesionLens is a review aid for trained readers, not a diagnosis."


@dataclass(frozen=True)
class FileResult:
    """Outcome of one input: ``error`` is None on success."""

    path: Path
    error: str | None = None
    sidecar: Path | None = None
    seconds: float = 0.0


def expand_inputs(inputs: Iterable[str | os.PathLike[str]]) -> tuple[list[Path], list[FileResult]]:
    """Files as given, the images directly inside given folders, and the photographs of a
    dataset root (IDRiD, DDR, plain layouts) given as a folder; problems as results."""
    files: list[Path] = []
    problems: list[FileResult] = []
    for raw in inputs:
        path = Path(raw)
        if path.is_dir():
            found = list_images(path) or _dataset_images(path)
            if not found:
                problems.append(FileResult(path, f"no images ({', '.join(IMAGE_SUFFIXES)}) in this folder"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(FileResult(path, "no such file or folder"))
    return files, problems


def _dataset_images(root: Path) -> list[Path]:
    """The photographs of a dataset folder (every split, sorted), or [] if it is none."""
    from core.datasets import DatasetError, discover

    try:
        index = discover(root)
    except DatasetError:
        return []
    return sorted({sample.image for sample in index.samples})


def _safe_output(out_dir: Path, name: str) -> Path:
    """``out_dir / name``, refusing any name that would land outside ``out_dir``."""
    target = (out_dir / name).resolve()
    if target.parent != out_dir.resolve():
        raise LesionLensError(f"refusing to write {name!r} outside the output folder {out_dir}")
    return target


def write_prediction(
    out_dir: Path,
    stem: str,
    result: LesionProbabilities,
    thresholds: dict[Lesion, float] | None,
) -> dict[str, Any]:
    """Write the probability PNGs (and masks if ``thresholds``); return the file names."""
    files: dict[str, Any] = {"probabilities": {}}
    jobs: list[tuple[Path, np.ndarray]] = []
    for lesion in LESIONS:
        name = f"{stem}_{lesion.code}.png"
        jobs.append((_safe_output(out_dir, name), result[lesion]))
        files["probabilities"][lesion.code] = name
    if thresholds is not None:
        files["masks"] = {}
        for lesion in LESIONS:
            name = f"{stem}_{lesion.code}.png"
            level = probability_to_level(thresholds[lesion])
            jobs.append(
                (_safe_output(out_dir / "masks", name), (result[lesion] >= level).astype(np.uint8) * 255)
            )
            files["masks"][lesion.code] = f"masks/{name}"
    # PNG encoding releases the GIL: the maps are encoded in parallel.
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        list(pool.map(lambda job: write_png(job[0], job[1], compression=1), jobs))
    return files


def predict_files(
    paths: list[Path],
    out_dir: Path,
    loaded: LoadedModel,
    predictor: Predictor,
    thresholds: dict[Lesion, float] | None = None,
    on_progress: Callable[[Path, InferenceProgress], None] | None = None,
) -> list[FileResult]:
    """Predict every file, continuing past failures; one :class:`FileResult` per file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    results: list[FileResult] = []
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            results.append(
                FileResult(
                    path, f"same name as {seen[path.stem]}; outputs would overwrite each other, rename one"
                )
            )
            continue
        seen[path.stem] = path
        start = time.perf_counter()
        try:
            sidecar = _predict_one(path, out_dir, loaded, predictor, thresholds, on_progress)
        except LesionLensError as exc:
            results.append(FileResult(path, str(exc)))
            continue
        except Exception as exc:
            log.debug("unexpected failure on %s", path, exc_info=True)
            results.append(FileResult(path, f"{type(exc).__name__}: {exc}"))
            continue
        results.append(FileResult(path, None, sidecar, time.perf_counter() - start))
    return results


def _predict_one(
    path: Path,
    out_dir: Path,
    loaded: LoadedModel,
    predictor: Predictor,
    thresholds: dict[Lesion, float] | None,
    on_progress: Callable[[Path, InferenceProgress], None] | None,
) -> Path:
    timings: dict[str, float] = {}
    tick = time.perf_counter()
    image = read_image(path)
    timings["read"] = time.perf_counter() - tick
    tick = time.perf_counter()
    result = predictor.predict(image, on_progress=(lambda p: on_progress(path, p)) if on_progress else None)
    timings["fov_tiles_model_stitch"] = time.perf_counter() - tick
    tick = time.perf_counter()
    files = write_prediction(out_dir, path.stem, result, thresholds)
    timings["write"] = time.perf_counter() - tick
    timings["total"] = sum(timings.values())
    sidecar = _safe_output(out_dir, f"{path.stem}.json")
    write_json(sidecar, _sidecar(path, image.shape, loaded, predictor, result, files, thresholds, timings))
    log.info("%s: done in %.2f s", path.name, timings["total"])
    return sidecar


def _sidecar(
    path: Path,
    shape: tuple[int, ...],
    loaded: LoadedModel,
    predictor: Predictor,
    result: LesionProbabilities,
    files: dict[str, Any],
    thresholds: dict[Lesion, float] | None,
    timings: dict[str, float],
) -> dict[str, Any]:
    model = loaded.provenance()
    if not loaded.meta.trained:
        model["warning"] = "untrained model (random weights): these maps carry no clinical meaning"
    return {
        "lesionlens": core.__version__,
        "disclaimer": DISCLAIMER,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "image": {"file": path.name, "path": str(path.resolve()), "height": shape[0], "width": shape[1]},
        "model": model,
        "inference": {
            **predictor.config.to_dict(),
            "resolved_device": str(predictor.device),
            "resolved_dtype": str(predictor.dtype).replace("torch.", ""),
            "resolved_channels_last": predictor.channels_last,
            "resolved_batch_size": predictor.batch_size,
            "tiles_run": result.tiles_run,
        },
        "fov": result.fov.to_dict(),
        "probability_encoding": "uint8 PNG, level / 255 = probability; 0 outside the field of view",
        "thresholds": {lesion.code: thresholds[lesion] for lesion in LESIONS} if thresholds else None,
        "files": files,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
