"""The ``export`` and ``review`` commands: a review session's masks as files; prefilling a folder."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from core.config import BACKENDS, FLIP_TTA_HELP
from core.review.export import FORMATS

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
    p.add_argument("--backend", default=None, choices=list(BACKENDS), help="default: $LESIONLENS_BACKEND")


def run_export(args: argparse.Namespace) -> int:
    """Export; prints one line per file written."""
    from core.assets.paths import default_model_path
    from core.inference.prediction_cache import PredictionCache
    from core.review.engine import ReviewEngine
    from core.review.session_export import export_session, find_session

    session = find_session(args.session)
    model = args.model
    if model is None:
        recorded = Path(session.model.get("path", ""))
        model = recorded if recorded.is_file() else default_model_path()
    engine = ReviewEngine(
        model,
        PredictionCache(),
        device=args.device,
        backend=args.backend,
        flip_tta=bool(session.model.get("flip_tta", False)),  # the session's own setting
    )
    written = export_session(session, args.out, engine, args.format, args.overwrite, args.all)
    for path in written:
        print(path)  # noqa: T201 - the command's output
    log.info("exported %d files to %s", len(written), args.out)
    return 0


def add_review(sub: argparse._SubParsersAction) -> None:
    """Register ``review``."""
    p = sub.add_parser(
        "review",
        help="a folder's review session: --prefill predicts every photograph and adopts every lesion",
    )
    p.add_argument("folder", type=Path, help="folder of the photographs")
    p.add_argument(
        "--prefill",
        action="store_true",
        help="run the model on every photograph and write the session with every lesion adopted at the "
        "session's thresholds (resumable: run it again to continue)",
    )
    p.add_argument("--model", type=Path, default=None, help="model file; default: the built-in model")
    p.add_argument("--device", default="auto")
    p.add_argument("--backend", default=None, choices=list(BACKENDS), help="default: $LESIONLENS_BACKEND")
    p.add_argument("--flip-tta", action=argparse.BooleanOptionalAction, default=None, help=FLIP_TTA_HELP)


def run_review(args: argparse.Namespace) -> int:
    """Prefill (``--prefill``) or print a one-line-per-photograph summary of the folder's session."""
    from tqdm import tqdm

    from core.assets.paths import default_model_path
    from core.errors import LesionLensError
    from core.inference.prediction_cache import PredictionCache
    from core.review.engine import ReviewEngine
    from core.review.prefill import prefill_folder
    from core.review.session import ReviewSession

    if not args.folder.is_dir():
        raise LesionLensError(f"{args.folder}: not a folder; give the folder of the photographs")
    if not args.prefill:
        session = ReviewSession.open(args.folder)
        for name, review in sorted(session.images.items()):
            lesions = ", ".join(
                f"{k.code} {'prefilled' if v.prefilled else v.status.value}"
                for k, v in review.lesions.items()
            )
            print(f"{name}: {review.status.value} ({lesions})")  # noqa: T201 - the command's output
        return 0
    model = args.model or default_model_path()
    engine = ReviewEngine(
        model, PredictionCache(), device=args.device, backend=args.backend, flip_tta=args.flip_tta
    )
    with tqdm(unit="photo", desc="prefill", disable=None) as bar:

        def on_image(index: int, count: int, path: Path) -> None:
            bar.total = count
            bar.n = index
            bar.set_postfix_str(path.name)

        report = prefill_folder(args.folder, engine, on_image=on_image)
        bar.n = bar.total or 0
        bar.refresh()
    log.info(
        "prefilled %d photographs, %d were already done, %d failed",
        len(report.prefilled),
        len(report.already_done),
        len(report.failed),
    )
    for name, message in report.failed.items():
        log.error("%s: %s", name, message)
    return 1 if report.failed else 0
