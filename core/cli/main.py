"""The ``lesionlens`` command line.

``lesionlens`` alone (or ``gui``) opens the review app, see ``app.main``;
``predict`` writes probability maps for images or folders; ``synth`` writes a synthetic
dataset; ``info`` describes a model file.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import core
from core.assets.paths import default_model_path
from core.config import BACKEND_HELP, BACKENDS, FLIP_TTA_HELP, InferenceConfig, head_choice
from core.errors import LesionLensError
from core.inference.predict_files import DISCLAIMER, FileResult, expand_inputs, predict_files
from core.inference.predictor import InferenceProgress, Predictor, model_tiling
from core.lesions import Lesion
from core.network.backends import chosen_backend, load_for_inference
from core.network.model_file import read_model_file

log = logging.getLogger("lesionlens")


def parse_thresholds(text: str) -> dict[Lesion, float]:
    """``"MA=0.4,EX=0.6"`` -> {Lesion.MA: 0.4, Lesion.EX: 0.6}; values in 0..1."""
    thresholds: dict[Lesion, float] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        code, sep, value = item.partition("=")
        if not sep:
            raise argparse.ArgumentTypeError(f"{item!r}: write LESION=VALUE, e.g. MA=0.5")
        try:
            lesion = Lesion.from_code(code)
            number = float(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{item!r}: {exc}") from None
        if not 0.0 <= number <= 1.0:
            raise argparse.ArgumentTypeError(f"{item!r}: thresholds are probabilities in 0..1")
        thresholds[lesion] = number
    return thresholds


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write WIDTHxHEIGHT, e.g. 4288x2848") from None
    if width < 64 or height < 64:
        raise argparse.ArgumentTypeError(f"{text!r}: at least 64x64")
    return width, height


def _add_predict(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predict", help="write lesion probability maps for images or folders")
    p.add_argument("inputs", nargs="+", help="image files or folders of images")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if needed)")
    p.add_argument("--model", type=Path, default=None, help="model file (.safetensors); default: built-in")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:1, mps")
    p.add_argument(
        "--backend",
        default=None,
        choices=list(BACKENDS),
        help=BACKEND_HELP,
    )
    p.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument(
        "--tile", type=int, default=None, help="inference tile size, multiple of 32 (default: model's)"
    )
    p.add_argument("--overlap", type=int, default=None, help="tile overlap in pixels (default: model's)")
    p.add_argument("--blending", default="smooth", choices=["smooth", "uniform"])
    p.add_argument("--batch", type=int, default=None, help="tiles per forward pass (default: automatic)")
    p.add_argument(
        "--head",
        default=None,
        choices=["1", "2", "3", "4", "mean"],
        help="deep-supervision output (default: the model's)",
    )
    p.add_argument("--flip-tta", action=argparse.BooleanOptionalAction, default=None, help=FLIP_TTA_HELP)
    p.add_argument("--masks", action="store_true", help="also write binary masks at the thresholds")
    p.add_argument(
        "--thresholds", type=parse_thresholds, default={}, help="e.g. MA=0.5,HE=0.5 (default: the model's)"
    )


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="write a synthetic dataset with exact masks")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("-n", "--count", type=int, default=4, help="training images (default 4)")
    p.add_argument("--test", type=int, default=0, help="testing images (IDRiD layout only)")
    p.add_argument("--size", type=_size, default=(4288, 2848), help="WIDTHxHEIGHT (default 4288x2848)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--layout", choices=["idrid", "plain"], default="idrid")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    parser = argparse.ArgumentParser(
        prog="lesionlens",
        description=f"LesionLens {core.__version__}: diabetic-retinopathy lesion segmentation. {DISCLAIMER}",
    )
    parser.add_argument("--version", action="version", version=f"lesionlens {core.__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation headless (model, inference, window); exit 0 if fine",
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    sub = parser.add_subparsers(dest="command")
    _add_predict(sub)
    _add_synth(sub)
    from core.cli.data import add_commands

    add_commands(sub)
    info = sub.add_parser("info", help="describe a model file")
    info.add_argument("model", type=Path, nargs="?", default=None)
    _add_gui(sub)
    from core.cli.checks import add_check
    from core.cli.review import add_export, add_review

    add_check(sub)
    add_export(sub)
    add_review(sub)
    return parser


def _add_gui(sub: argparse._SubParsersAction) -> None:
    """The review app's place in the help; its options are the app's own (``lesionlens gui --help``)."""
    sub.add_parser(
        "gui",
        help="open the review app (the default without a command; 'lesionlens gui --help' lists its options)",
    )


def _progress_bar() -> Callable[[Path, InferenceProgress], None]:
    from tqdm import tqdm

    state: dict[str, object] = {}

    def update(path: Path, progress: InferenceProgress) -> None:
        bar = state.get("bar")
        if state.get("path") != path:
            if bar is not None:
                bar.close()  # type: ignore[attr-defined]
            bar = tqdm(total=progress.total, desc=path.name, unit="tile", leave=False, disable=None)
            state.update(bar=bar, path=path)
        bar.n = progress.done  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]
        if progress.done >= progress.total:
            bar.close()  # type: ignore[attr-defined]
            state.clear()

    return update


def run_predict(args: argparse.Namespace) -> int:
    """The ``predict`` command; returns the exit status."""
    backend = chosen_backend(args.backend)
    loaded = load_for_inference(args.model or default_model_path(), args.device, backend)
    meta = loaded.meta
    tiling = model_tiling(meta, args.tile, args.overlap, args.blending)
    config = InferenceConfig(
        tiling=tiling,
        batch_size=args.batch,
        device=args.device,
        precision=args.precision,
        head=head_choice(args.head or meta.default_head),
        flip_tta=meta.uses_flip_tta(args.flip_tta),
        backend=backend,
    )
    thresholds = None
    if args.masks or args.thresholds:
        thresholds = meta.thresholds()
        thresholds.update(args.thresholds)
    if not meta.trained:
        log.warning("model %s is UNTRAINED (random weights): its maps carry no clinical meaning", meta.name)
    files, problems = expand_inputs(args.inputs)
    rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:  # under torchrun: every rank takes its share of the files
        files, problems = files[rank::world], (problems if rank == 0 else [])
        log.info("rank %d of %d: %d files", rank, world, len(files))
    predictor = Predictor.from_loaded(loaded, config)
    results = problems + predict_files(files, args.out, loaded, predictor, thresholds, _progress_bar())
    return _report(results, args.out, allow_empty=world > 1)


def _report(results: list[FileResult], out_dir: Path, allow_empty: bool = False) -> int:
    """Print one line per file; exit status 1 if any failed or (unless sharded) none was given."""
    failed = [r for r in results if r.error]
    for result in results:
        if result.error:
            # most errors name the file already: "FAILED x.jpg: x.jpg: not a readable image" read twice
            reason = result.error.removeprefix(f"{result.path}: ")
            print(f"FAILED {result.path}: {reason}", file=sys.stderr)
        else:
            print(f"ok     {result.path} -> {result.sidecar} ({result.seconds:.1f} s)")
    print(f"{len(results) - len(failed)} of {len(results)} images written to {out_dir}", file=sys.stderr)
    return 1 if failed or (not results and not allow_empty) else 0


def run_synth(args: argparse.Namespace) -> int:
    """The ``synth`` command."""
    from core.data.synthetic import write_idrid_layout, write_plain_layout

    width, height = args.size
    if args.layout == "idrid":
        paths = write_idrid_layout(args.out, args.count, height, width, args.seed, args.test)
    else:
        paths = write_plain_layout(args.out, args.count, height, width, args.seed)
    print(f"wrote {len(paths)} synthetic images under {args.out}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    """The ``info`` command: the model's metadata as JSON."""
    loaded = read_model_file(args.model or default_model_path())
    print(json.dumps({"path": str(loaded.path), "sha256": loaded.sha256, **loaded.meta.to_dict()}, indent=2))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lesionlens`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    from core.cli.checks import run_check
    from core.cli.data import run_dataset, run_evaluate, run_train
    from core.cli.review import run_export, run_review

    commands = {
        "predict": run_predict,
        "synth": run_synth,
        "info": run_info,
        "dataset": run_dataset,
        "train": run_train,
        "evaluate": run_evaluate,
        "export": run_export,
        "review": run_review,
        "check": run_check,
    }
    if args.command in (None, "gui"):
        parser.print_help()
        print("\nthe review app opens with 'lesionlens' or 'lesionlens gui' (python -m app)", file=sys.stderr)
        return 0 if args.command is None else 2
    try:
        return commands[args.command](args)
    except LesionLensError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        if exc.name != "torch":
            raise
        print(
            f"error: '{args.command}' needs torch, which the CPU-only installer leaves out; "
            "install LesionLens with pip (README, Set-up) to train, evaluate or check models",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())


def app_arguments(argv: list[str]) -> list[str] | None:
    """The review app's arguments when ``argv`` asks for the app, else None.

    The app is asked for by no command at all, by ``gui`` (its options follow) or by
    ``--self-test``; a ``--log-level LEVEL`` in front is passed on.
    """
    front: list[str] = []
    rest = list(argv)
    while rest[:1] == ["--log-level"] and len(rest) >= 2:
        front, rest = [*front, *rest[:2]], rest[2:]
    if not rest:
        return front
    if rest[0] == "gui":
        return [*front, *rest[1:]]
    if rest[0] == "--self-test":
        return [*front, *rest]
    return None


def launch(argv: list[str] | None = None) -> int:
    """Entry point of the ``lesionlens`` console script (and the desktop bundle).

    The review app is started by module name (``app.main``): the engine never imports Qt,
    the app never imports the command line. Every other command runs :func:`main`.
    """
    as_process = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    for_app = app_arguments(argv)
    if for_app is None:
        return main(argv)
    app_main = importlib.import_module("app.main")
    code: int = app_main.main(for_app, as_process=as_process)
    return code
