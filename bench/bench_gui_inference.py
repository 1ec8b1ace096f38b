"""Inference in the shown review window against ``lesionlens predict``, same photograph, same model.

Run (a real X server is closer to a doctor's screen than Qt's offscreen platform):

    xvfb-run -a -s "-screen 0 1920x1080x24" env QT_QPA_PLATFORM=xcb \
        .venv/bin/python bench/bench_gui_inference.py

or ``.venv/bin/python bench/bench_gui_inference.py`` (offscreen). A 4288x2848 synthetic
photograph (or ``--image``) is predicted by the command line's code path (read, predict,
write the maps) and by the open window (open, predict in its inference thread with the
progress bar running, show the overlays and counts), alternately, every run a copy of the
photograph that misses the prediction cache, after one warm-up run of each. Writes
``bench/results/gui_inference.json`` and the "GUI inference"
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
from core.assets.paths import default_model_path  # noqa: E402

log = logging.getLogger("bench")


def _photo(folder: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    from core.data.synthetic import encode_jpeg, synth_fundus

    path = folder / "photo_4288x2848.jpg"
    path.write_bytes(encode_jpeg(synth_fundus(2848, 4288, seed=7).image))
    return path


def _copies(photo: Path, folder: Path, count: int) -> list[Path]:
    """The same pixels under different bytes (a JPEG comment segment after the start marker,
    which decoders skip), so every run misses the prediction cache."""
    data = photo.read_bytes()
    if data[:2] != b"\xff\xd8":
        raise ValueError(f"{photo}: copies need a JPEG photograph")
    paths = []
    for index in range(count):
        path = folder / f"{photo.stem}_{index}{photo.suffix}"
        comment = f"copy {index}".encode()
        segment = b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
        path.write_bytes(data[:2] + segment + data[2:])
        paths.append(path)
    return paths


class CommandLine:
    """What ``lesionlens predict`` does per photograph once started: read, predict, write."""

    def __init__(self, out: Path) -> None:
        from core.config import InferenceConfig, TilingConfig
        from core.inference.predictor import Predictor
        from core.network.checkpoint import load_checkpoint

        self.out = out
        self.loaded = load_checkpoint(default_model_path())
        meta = self.loaded.meta
        config = InferenceConfig(
            tiling=TilingConfig(meta.inference_tile_size, meta.inference_overlap, "smooth"),
            head=meta.default_head,
        )
        self.predictor = Predictor.from_loaded(self.loaded, config)

    def seconds(self, photo: Path) -> float:
        from core.inference.predict_files import predict_files

        started = time.perf_counter()
        results = predict_files([photo], self.out, self.loaded, self.predictor, None)
        assert not results[0].error, results[0].error
        return time.perf_counter() - started


class Window:
    """The review window, open and shown (a doctor's session): seconds from opening a
    photograph until its overlays are displayed."""

    def __init__(self, app, folder: Path) -> None:  # type: ignore[no-untyped-def]
        from PySide6.QtCore import QSettings

        from app.controller import Controller
        from app.settings import AppSettings
        from core.inference.prediction_cache import PredictionCache
        from core.review.engine import ReviewEngine

        self.app = app
        engine = ReviewEngine(default_model_path(), PredictionCache(folder / "cache"))
        settings = AppSettings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        self.controller = Controller(engine, settings)
        self.controller.window.resize(1720, 1000)
        self.controller.window.show()
        self.done: list[float] = []
        self.controller.displayed.connect(
            lambda _path, has_prediction: self.done.append(time.perf_counter()) if has_prediction else None
        )
        while self.controller.queue.runner.busy:  # the window's warm-up at start
            app.processEvents()
            time.sleep(0.01)

    def seconds(self, photo: Path) -> float:
        self.done.clear()
        started = time.perf_counter()
        self.controller.open_paths([photo], select=True)
        while not self.done:
            self.app.processEvents()
            time.sleep(0.002)
        self.app.processEvents()  # the overlays' first paint
        return self.done[0] - started

    def close(self) -> None:
        self.controller.shutdown()
        self.controller.window.close()


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
        folder = Path(tmp)
        photo = _photo(folder, args.image)
        copies = _copies(photo, folder, 2 * (args.repeats + 1))
        cli, gui = CommandLine(folder / "out"), Window(app, folder)
        for run in range(args.repeats + 1):  # run 0 warms both up and is not counted
            order = ("cli", "gui") if run % 2 == 0 else ("gui", "cli")
            for kind in order:
                path = copies.pop()
                seconds = cli.seconds(path) if kind == "cli" else gui.seconds(path)
                if run:
                    (command_line if kind == "cli" else window).append(seconds)
                log.warning("run %d %s %.2f s", run, kind, seconds)
        gui.close()
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
missing the prediction cache, {args.repeats} runs each after a warm-up run, alternating order.
Command line = what `lesionlens predict` does per photograph once started (read, predict,
write the maps); window = the shown review window, from opening the photograph until its
overlays, counts and PR curves are displayed (inference thread, progress bar, plus the
heads' disagreement map the command line does not compute).

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
