"""Inference in the shown review window against ``lesionlens predict``, same photograph, same model.

Run (a real X server is closer to a doctor's screen than Qt's offscreen platform):

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python bench/bench_gui_inference.py

or ``.venv/bin/python bench/bench_gui_inference.py`` (offscreen). A 4288x2848 synthetic
photograph (or ``--image``) is predicted by the command line's code path (read, predict,
write the maps) and by the window (open, predict in the worker thread with the progress
bar running, show the overlays), alternately, each from an empty prediction cache, after
one warm-up of each. Writes ``bench/results/gui_inference.json`` and the "GUI inference"
section of ``docs/benchmarks.md``; the ratio window / command line is the figure to watch
(target <= 1.15).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch  # noqa: E402 - before Qt, as the app does

from bench.doc_sections import write_section  # noqa: E402
from bench.machine import cpu_name  # noqa: E402
from core.paths import default_model_path  # noqa: E402

log = logging.getLogger("bench")


def _photo(folder: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    from core.synthetic import encode_jpeg, synth_fundus

    path = folder / "photo_4288x2848.jpg"
    path.write_bytes(encode_jpeg(synth_fundus(2848, 4288, seed=7).image))
    return path


def command_line_seconds(photo: Path, out: Path) -> float:
    """What ``lesionlens predict PHOTO --out OUT`` does after start-up: read, predict, write."""
    from core.checkpoint import load_checkpoint
    from core.config import InferenceConfig, TilingConfig
    from core.inference import Predictor
    from core.predict_files import predict_files

    started = time.perf_counter()
    loaded = load_checkpoint(default_model_path())
    meta = loaded.meta
    config = InferenceConfig(
        tiling=TilingConfig(tile_size=meta.inference_tile_size, overlap=meta.inference_overlap),
        head=meta.default_head,
    )
    results = predict_files([photo], out, loaded, Predictor.from_loaded(loaded, config), None)
    assert not results[0].error, results[0].error
    return time.perf_counter() - started


def window_seconds(app, photo: Path, folder: Path) -> float:  # type: ignore[no-untyped-def]
    """Open the photograph in the shown window; seconds until its overlays are on screen."""
    from PySide6.QtCore import QSettings

    from app.controller import Controller
    from app.settings import AppSettings
    from core.prediction_cache import PredictionCache
    from core.review import ReviewEngine

    started = time.perf_counter()
    engine = ReviewEngine(default_model_path(), PredictionCache(folder / "cache"))
    settings = AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    controller = Controller(engine, settings)
    controller.window.resize(1720, 1000)
    controller.window.show()
    done: list[float] = []
    controller.displayed.connect(
        lambda _path, has_prediction: done.append(time.perf_counter()) if has_prediction else None
    )
    controller.open_paths([photo])
    while not done:
        app.processEvents()
        time.sleep(0.002)
    app.processEvents()  # the overlays' first paint
    seconds = done[0] - started
    controller.shutdown()
    controller.window.close()
    controller.window.deleteLater()
    app.processEvents()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    platform_name = app.platformName()
    command_line: list[float] = []
    window: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        photo = _photo(Path(tmp), args.image)
        for run in range(args.repeats + 1):  # run 0 warms both up and is not counted
            folder = Path(tmp) / f"run{run}"
            folder.mkdir()
            order = ("cli", "gui") if run % 2 == 0 else ("gui", "cli")
            for kind in order:
                if kind == "cli":
                    seconds = command_line_seconds(photo, folder / "out")
                    (command_line if run else []).append(seconds)
                else:
                    seconds = window_seconds(app, photo, folder)
                    (window if run else []).append(seconds)
                log.warning("run %d %s %.2f s", run, kind, seconds)
    cli_median, gui_median = statistics.median(command_line), statistics.median(window)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{cpu_name()}, {os.cpu_count()} cores, {platform.system()}",
        "qt_platform": platform_name,
        "photograph": "4288x2848" if args.image is None else str(args.image),
        "torch_threads": torch.get_num_threads(),
        "command_line_s": command_line,
        "window_s": window,
        "command_line_median_s": cli_median,
        "window_median_s": gui_median,
        "ratio_window_to_command_line": gui_median / cli_median,
    }
    out = ROOT / "bench" / "results" / "gui_inference.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    write_section(
        "gui_inference",
        f"""## GUI inference against the command line

`{" ".join(["python", "bench/bench_gui_inference.py", *sys.argv[1:]])}` (Qt platform
`{platform_name}`), {result["date"]}, {result["machine"]}, torch threads
{result["torch_threads"]}, the built-in model, one {result["photograph"]} photograph, each run
from an empty prediction cache, {args.repeats} runs each after a warm-up, alternating order.
Command line = what `lesionlens predict` does after start-up (read, predict, write the maps);
window = open in the shown window until the overlays are displayed (worker thread, progress
bar).

| | median | runs |
|---|---|---|
| command line | {cli_median:.2f} s | {", ".join(f"{s:.2f}" for s in command_line)} |
| review window | {gui_median:.2f} s | {", ".join(f"{s:.2f}" for s in window)} |
| **window / command line** | **{gui_median / cli_median:.2f}x** | target <= 1.15x |
""",
    )
    print(json.dumps(result, indent=2))  # noqa: T201 - the benchmark's output


if __name__ == "__main__":
    main()
