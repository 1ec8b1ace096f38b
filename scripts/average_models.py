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
from pathlib import Path

import torch

from core.learning.weight_averaging import average_models
from core.network.checkpoint import save_checkpoint

log = logging.getLogger("average_models")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("members", type=Path, nargs="+")
    args = parser.parse_args()
    soup = average_models(args.members)
    save_checkpoint(args.out, soup.model, soup.meta, dtype=torch.float32)
    log.info("%s: %s", args.out, soup.meta.notes)


if __name__ == "__main__":
    main()
