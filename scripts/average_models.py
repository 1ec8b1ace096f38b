"""Write the uniform weight average of model files (a "model soup") as a new model file.

Usage (repository root)::

    python scripts/average_models.py OUT.safetensors MODEL_A.safetensors MODEL_B.safetensors [...]

The members must be fine-tunes of one model (same architecture, same start). The output has
thresholds of 0.5 and no validation figures: run ``lesionlens evaluate --model OUT
--set-default-thresholds`` next. Weights are stored as float32 so that the average is not
rounded before it is scored.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch

from core.errors import CheckpointError
from core.learning.weight_averaging import average_models
from core.network.checkpoint import save_checkpoint

log = logging.getLogger("average_models")


def main() -> int:
    """Average the members into OUT; 0 on success, 2 with a message when they cannot be averaged."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the averaged model file to write")
    parser.add_argument("members", type=Path, nargs="+", help="two or more model files")
    args = parser.parse_args()
    if any(args.out.resolve() == member.resolve() for member in args.members):
        log.error("%s is one of the members: choose another output file", args.out)
        return 2
    try:
        soup = average_models(args.members)
    except CheckpointError as error:
        log.error("%s", error)
        return 2
    save_checkpoint(args.out, soup.model, soup.meta, dtype=torch.float32)
    log.info("%s: %s", args.out, soup.meta.notes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
