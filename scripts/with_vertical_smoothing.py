"""Write a copy of a model file whose probability maps are filtered down each column.

Usage (repository root)::

    python scripts/with_vertical_smoothing.py IN.safetensors OUT.safetensors

Same weights, ``vertical_smoothing`` set in the model's architecture record
(``core.config.ModelConfig``): a fixed [1, 2, 1] / 4 filter after the softmax that removes the
row-to-row stripes of the stride-2 transposed convolutions (docs/training/README.md, rule 18).
The maps change, so the thresholds and validation figures of IN do not hold for OUT: they are
reset (0.5, none) and ``lesionlens evaluate --model OUT --set-default-thresholds`` is the next step.
Weights are stored as float32, as IN's are read.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import replace
from pathlib import Path

import torch

from core.errors import CheckpointError
from core.network.checkpoint import load_checkpoint, save_checkpoint
from core.network.model import UNetPlusPlus

log = logging.getLogger("with_vertical_smoothing")


def main() -> int:
    """Write OUT; 0 on success, 2 with a message when IN cannot be used or OUT is IN."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the model file to copy")
    parser.add_argument("out", type=Path, help="the smoothed model file to write")
    args = parser.parse_args()
    if args.out.resolve() == args.source.resolve():
        log.error("%s: the copy must be another file", args.out)
        return 2
    try:
        loaded = load_checkpoint(args.source)
    except CheckpointError as error:
        log.error("%s", error)
        return 2
    config = replace(loaded.meta.model, vertical_smoothing=True)
    model = UNetPlusPlus(config)
    model.load_state_dict(loaded.model.state_dict())
    meta = replace(
        loaded.meta,
        model=config,
        default_thresholds={},
        metrics={},
        notes=f"{loaded.meta.notes} Maps filtered down each column (vertical_smoothing).".strip(),
    )
    save_checkpoint(args.out, model, meta, dtype=torch.float32)
    log.info("%s: %s, smoothed; run evaluate --set-default-thresholds next", args.out, args.source)
    return 0


if __name__ == "__main__":
    sys.exit(main())
