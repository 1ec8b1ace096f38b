"""Entry point of the ``lesionlens`` console script: the review app, or an engine command.

``lesionlens`` alone opens the app on the bundled samples with the bundled model;
``lesionlens gui [PATH...]`` opens files or folders; every other command is the engine's
command line (``core.cli``). torch, where installed, is imported before Qt (DLL order on
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

from core import cli
from core.errors import LesionLensError
from core.paths import default_model_path, resources_dir, sample_images
from core.prediction_cache import PredictionCache
from core.review import ReviewEngine

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


def build_engine(
    model: Path | None, device: str, cache_dir: Path | None, backend: str | None = None
) -> tuple[ReviewEngine | None, str | None]:
    """The engine, or None and the reason (shown in a dialog; images can still be viewed)."""
    try:
        engine = ReviewEngine(model or default_model_path(), PredictionCache(cache_dir), device, backend)
        return engine, None
    except LesionLensError as exc:
        return None, str(exc)


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
    engine, problem = build_engine(args.model, args.device, args.cache_dir, args.backend)
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
    """Show the first photograph with its prediction, save the window as PNG, exit."""
    if problem:
        log.error("%s", problem)
        return 2
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
    controller.open_paths(paths[:1])
    if "code" not in outcome:
        app.exec()
    controller.shutdown()
    return outcome.get("code", 1)


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


def main(argv: list[str] | None = None) -> int:
    """``lesionlens [gui ...]`` opens the app; any other command runs ``core.cli``.

    Called by the console script (``argv`` None), the window and the self-test end the
    process directly (:func:`_leave`); called with ``argv`` (tests), it returns the status.
    """
    as_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--self-test"]:
        from app.selftest import run_self_test

        code = run_self_test()
        return _leave(code) if as_process else code
    parser = cli.build_parser()
    args = parser.parse_args(argv)
    if args.command not in (None, "gui"):
        return cli.main(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        args = parser.parse_args([*argv, "gui"])
    code = run_gui(args)
    return _leave(code) if as_process else code


if __name__ == "__main__":
    sys.exit(main())
