"""Make the built-in assets: the untrained default model and the synthetic sample images.

Run from the repository root: ``python scripts/make_builtin_assets.py``. Deterministic
(fixed seeds), so re-running reproduces the committed files' content.
"""

from __future__ import annotations

import logging

import torch

from core.checkpoint import CheckpointMeta, save_checkpoint
from core.config import ModelConfig
from core.io import write_bytes_atomic
from core.model import UNetPlusPlus
from core.paths import default_model_path, resources_dir
from core.synthetic import encode_jpeg, synth_fundus, write_palette_tiff

log = logging.getLogger("make_builtin_assets")


def make_default_model() -> None:
    """Randomly initialised width-0.25 UNet++ (seed 0), saved in fp16."""
    torch.manual_seed(0)
    model = UNetPlusPlus(ModelConfig(width=0.25)).eval()
    meta = CheckpointMeta(
        name="untrained-w0.25",
        model=model.config,
        trained=False,
        training_data="none: random initialisation (torch.manual_seed(0))",
        notes=(
            "Placeholder until a trained model ships: random weights, so its maps carry no "
            "meaning. Not for diagnosis."
        ),
        created="2026-11-26T00:00:00+00:00",
    )
    save_checkpoint(default_model_path(), model, meta)


def make_samples(count: int = 2) -> None:
    """Synthetic 4288x2848 photographs with IDRiD-style masks beside them."""
    folder = resources_dir() / "samples"
    for index in range(count):
        stem = f"synthetic_{index + 1:02d}"
        sample = synth_fundus(2848, 4288, seed=1000 + index)
        write_bytes_atomic(folder / f"{stem}.jpg", encode_jpeg(sample.image, quality=90))
        for lesion, mask in sample.masks.items():
            if mask.any():
                write_palette_tiff(folder / f"{stem}_{lesion.code}.tif", mask)
        log.info("wrote %s", stem)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    make_default_model()
    make_samples()
