"""The review app's command-line options (``lesionlens gui --help``).

The app's own parser: the engine's command line (``core.cli``) starts the app by module
name and hands it these arguments; the app never imports the command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import core
from core.config import BACKEND_HELP, BACKENDS, FLIP_TTA_HELP


def build_parser() -> argparse.ArgumentParser:
    """Options of ``lesionlens gui`` (and of ``lesionlens`` without a command)."""
    p = argparse.ArgumentParser(
        prog="lesionlens gui",
        description=f"LesionLens {core.__version__} review app. A review aid, not a diagnosis.",
    )
    p.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation headless (model, inference, window); exit 0 if fine",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    p.add_argument("paths", nargs="*", type=Path, help="images or folders (default: the bundled samples)")
    p.add_argument("--model", type=Path, default=None, help="model file (.safetensors); default: built-in")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, mps")
    p.add_argument(
        "--backend",
        default=None,
        choices=list(BACKENDS),
        help=BACKEND_HELP,
    )
    p.add_argument("--flip-tta", action=argparse.BooleanOptionalAction, default=None, help=FLIP_TTA_HELP)
    p.add_argument(
        "--ground-truth", type=Path, default=None, help="folder with the images' masks, if not beside them"
    )
    p.add_argument(
        "--cache-dir", type=Path, default=None, help="prediction cache (default: per-user cache folder)"
    )
    p.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="render the window with the first image's prediction to this PNG and exit "
        "(status 1 if any path could not be opened)",
    )
    return p
