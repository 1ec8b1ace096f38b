"""The ``export`` command: a review session's reviewed masks as files."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.export import FORMATS

log = logging.getLogger("lesionlens")


def add_export(sub: argparse._SubParsersAction) -> None:
    """Register ``export``."""
    p = sub.add_parser("export", help="export the reviewed masks of a review session")
    p.add_argument(
        "session", type=Path, help="folder of the reviewed photographs (or its .lesionlens/session.json)"
    )
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    p.add_argument("--format", default="tif", choices=FORMATS, help="mask files: tif (IDRiD's) or png")
    p.add_argument("--overwrite", action="store_true", help="replace files of an earlier export")
    p.add_argument("--all", action="store_true", help="also photographs whose review has not started")
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="model for lesions never adopted (default: the session's, else built-in)",
    )
    p.add_argument("--device", default="auto")


def run_export(args: argparse.Namespace) -> int:
    """Export; prints one line per file written."""
    from core.paths import default_model_path
    from core.prediction_cache import PredictionCache
    from core.review import ReviewEngine
    from core.review_export import export_session, find_session

    session = find_session(args.session)
    model = args.model
    if model is None:
        recorded = Path(session.model.get("path", ""))
        model = recorded if recorded.is_file() else default_model_path()
    engine = ReviewEngine(model, PredictionCache(), device=args.device)
    written = export_session(session, args.out, engine, args.format, args.overwrite, args.all)
    for path in written:
        print(path)  # noqa: T201 - the command's output
    log.info("exported %d files to %s", len(written), args.out)
    return 0
