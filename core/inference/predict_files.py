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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

import core
from core.errors import LesionLensError
from core.imaging.io import IMAGE_SUFFIXES, list_images, read_image, write_json, write_png
from core.imaging.preprocess import PreparedImage
from core.imaging.probability_maps import LesionProbabilities, probability_to_level
from core.inference.predictor import InferenceProgress, Predictor
from core.lesions import LESIONS, Lesion
from core.network.model_file import LoadedModel

log = logging.getLogger(__name__)

T = TypeVar("T")

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
    from core.data.datasets import DatasetError, discover

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


@dataclass
class _Loaded:
    """A photograph read and prepared on the reader thread, with its timings."""

    image: np.ndarray
    prepared: PreparedImage
    timings: dict[str, float]


def _load(path: Path, predictor: Predictor) -> _Loaded:
    tick = time.perf_counter()
    image = read_image(path)
    read = time.perf_counter() - tick
    tick = time.perf_counter()
    prepared = predictor.prepare(image)
    return _Loaded(image, prepared, {"read": read, "fov_prepare": time.perf_counter() - tick})


def predict_files(
    paths: list[Path],
    out_dir: Path,
    loaded: LoadedModel,
    predictor: Predictor,
    thresholds: dict[Lesion, float] | None = None,
    on_progress: Callable[[Path, InferenceProgress], None] | None = None,
    pipelined: bool = True,
) -> list[FileResult]:
    """Predict every file, continuing past failures; one :class:`FileResult` per file, in order.

    ``pipelined``: one thread reads and prepares the next photograph and another writes the
    previous one's maps while the network works on this one (the network's own threads
    release the GIL; so do JPEG decoding and PNG encoding). Off: one step after another.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    results: dict[int, FileResult] = {}
    todo: list[tuple[int, Path]] = []
    seen: dict[str, Path] = {}
    for index, path in enumerate(paths):
        if path.stem in seen:
            problem = f"same name as {seen[path.stem]}; outputs would overwrite each other, rename one"
            results[index] = FileResult(path, problem)
        else:
            seen[path.stem] = path
            todo.append((index, path))
    workers = 1 if pipelined else 0
    with _Stage(workers, "lesionlens-read") as reader, _Stage(workers, "lesionlens-write") as writer:
        writes: list[tuple[int, Path, Future[FileResult]]] = []
        queue = iter(todo)

        def start_next() -> tuple[int, Path, Future[_Loaded]] | None:
            following = next(queue, None)
            if following is None:
                return None
            return following[0], following[1], reader.submit(_load, following[1], predictor)

        pending = start_next()
        while pending is not None:
            index, path, current = pending
            pending = start_next()  # the reader works on the next photograph meanwhile
            try:
                item = current.result()
                tick = time.perf_counter()
                progress = (lambda p, path=path: on_progress(path, p)) if on_progress else None
                result = predictor.predict(item.image, on_progress=progress, prepared=item.prepared)
                item.timings["tiles_model_stitch"] = time.perf_counter() - tick
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the folder
                results[index] = _failure(path, exc)
                continue
            job = writer.submit(_write_one, path, out_dir, loaded, predictor, item, result, thresholds)
            writes.append((index, path, job))
        for index, path, job in writes:
            try:
                results[index] = job.result()
            except Exception as exc:  # noqa: BLE001 - reported per file
                results[index] = _failure(path, exc)
    return [results[index] for index in range(len(paths))]


def _failure(path: Path, exc: Exception) -> FileResult:
    if isinstance(exc, LesionLensError):
        return FileResult(path, str(exc))
    log.debug("unexpected failure on %s", path, exc_info=exc)
    return FileResult(path, f"{type(exc).__name__}: {exc}")


class _Stage:
    """A one-thread executor, or (``workers=0``) one that runs each job at once in the caller."""

    def __init__(self, workers: int, name: str) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=name) if workers else None

    def __enter__(self) -> _Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        if self._pool is not None:
            return self._pool.submit(fn, *args)
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)
        return future


def _write_one(
    path: Path,
    out_dir: Path,
    loaded: LoadedModel,
    predictor: Predictor,
    item: _Loaded,
    result: LesionProbabilities,
    thresholds: dict[Lesion, float] | None,
) -> FileResult:
    """PNG maps, then the sidecar (written last: its presence means the set is whole)."""
    tick = time.perf_counter()
    files = write_prediction(out_dir, path.stem, result, thresholds)
    timings = {**item.timings, "write": time.perf_counter() - tick}
    timings["total"] = sum(timings.values())
    sidecar = _safe_output(out_dir, f"{path.stem}.json")
    payload = _sidecar(path, item.image.shape, loaded, predictor, result, files, thresholds, timings)
    write_json(sidecar, payload)
    log.info("%s: done in %.2f s", path.name, timings["total"])
    return FileResult(path, None, sidecar, timings["total"])


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
            **{f"resolved_{key}": value for key, value in predictor.network.describe().items()},
            "tiles_run": result.tiles_run,
            # the model's preprocessing: the field of view is resized to this diameter (tiles
            # are cut there), the maps are mapped back to the photograph's own pixels
            "preprocess": loaded.meta.preprocess.to_dict(),
        },
        "fov": result.fov.to_dict(),
        "probability_encoding": "uint8 PNG, level / 255 = probability; 0 outside the field of view",
        # the 1/255 step each given threshold names (0.918 -> 234 / 255), as sessions and
        # exports write it, so the same threshold reads the same in every file
        "thresholds": (
            {lesion.code: probability_to_level(thresholds[lesion]) / 255 for lesion in LESIONS}
            if thresholds
            else None
        ),
        "files": files,
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
    }
