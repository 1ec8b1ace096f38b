"""The review app's start: ``lesionlens``, ``lesionlens gui [PATH...]``, ``python -m app``.

``lesionlens`` alone opens the app on the bundled samples with the bundled model;
``lesionlens gui [PATH...]`` opens files or folders. The console script is the engine's
(``core.cli.main.launch``), which starts this module by name for the app and runs every
other command itself. torch, where installed, is imported before Qt (DLL order on
Windows); the CPU-only installer has no torch and runs the network with OpenVINO.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from importlib.util import find_spec
from pathlib import Path

if find_spec("torch") is not None:
    import torch  # noqa: F401 - before Qt, see the module docstring

from app.arguments import build_parser
from app.engine_setup import build_engine
from core.assets.paths import resources_dir, sample_images

log = logging.getLogger("lesionlens")

SCREENSHOT_SIZE = (1720, 1000)


def _install_exception_hook() -> None:
    """Uncaught errors in Qt slots go to the log and a dialog, never kill the window."""

    def hook(kind, value, tb) -> None:  # type: ignore[no-untyped-def]
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        from PySide6.QtWidgets import QApplication

        from app.dialogs import show_error

        if QApplication.instance() is not None:
            show_error(
                None, "Unexpected error", f"{value!r}\n\nThe session continues; details are in the log."
            )

    sys.excepthook = hook


def run_gui(args: argparse.Namespace) -> int:
    """Open the review window; with ``--screenshot``, render it to a PNG and exit."""
    from PySide6.QtWidgets import QApplication

    from app.controller import Controller
    from app.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LesionLens")
    app.setOrganizationName("LesionLens")
    icon = resources_dir() / "icon.png"
    if icon.is_file():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    _install_exception_hook()
    engine, problem = build_engine(args.model, args.device, args.cache_dir, args.backend, args.flip_tta)
    controller = Controller(engine, AppSettings(), auto_run=True)
    controller.truth_folder = args.ground_truth
    paths = list(args.paths) or sample_images()
    if args.screenshot:
        return _screenshot(app, controller, paths, args.screenshot, problem)
    controller.window.show()
    if problem:
        controller.show_error("The model could not be loaded", problem)
    controller.open_paths(paths)
    return app.exec()


def _screenshot(app, controller, paths: list[Path], out: Path, problem: str | None) -> int:  # type: ignore[no-untyped-def]
    """Show the first photograph with its prediction, save the window as PNG, exit.

    Returns 0 when written; 1 when an input could not be opened (each named on stderr; the
    first photograph that opens is still rendered) or the photograph failed; 2 without a model.
    """
    from core.inference.predict_files import expand_inputs

    if problem:
        log.error("%s", problem)
        return 2
    files, unopened = expand_inputs(paths)
    for bad in unopened:
        log.error("cannot open %s: %s; check the path", bad.path, bad.error)
    if not files:
        return 1
    window = controller.window
    window.resize(*SCREENSHOT_SIZE)
    window.show()
    outcome: dict[str, int] = {}

    def on_displayed(_path: Path, has_prediction: bool) -> None:
        if has_prediction and "code" not in outcome:
            app.processEvents()
            controller.view.fit()
            app.processEvents()
            controller.save_screenshot(out)
            log.info("wrote %s", out)
            outcome["code"] = 0
            app.quit()

    def on_error(message: str) -> None:
        log.error("%s", message)
        outcome["code"] = 1
        app.quit()

    controller.displayed.connect(on_displayed)
    controller.error.connect(on_error)
    controller.open_paths(files[:1])
    if "code" not in outcome:
        app.exec()
    controller.shutdown()
    return 1 if unopened else outcome.get("code", 1)


def _leave(code: int) -> int:
    """End the process without the interpreter's teardown of Qt objects.

    Everything is saved by then (settings, review sessions, screenshots, output flushed);
    the interpreter's own teardown of PySide6/pyqtgraph objects crashed intermittently
    with SIGSEGV after all work was done (seen in CI after a passing self-test).
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None, as_process: bool | None = None) -> int:
    """Open the app (``lesionlens``, ``lesionlens gui ...``, ``python -m app``) or run its self-test.

    As a process (``argv`` None, or ``as_process`` from ``core.cli.main.launch``) the window and
    the self-test end the process directly (:func:`_leave`); called with ``argv`` (tests),
    it returns the status.
    """
    if as_process is None:
        as_process = argv is None
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.self_test:
        from app.selftest import run_self_test

        code = run_self_test()
        return _leave(code) if as_process else code
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    code = run_gui(args)
    return _leave(code) if as_process else code


if __name__ == "__main__":
    sys.exit(main())
