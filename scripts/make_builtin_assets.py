"""Make the built-in synthetic sample images (with IDRiD-style masks beside them).

Run from the repository root: ``python scripts/make_builtin_assets.py``. Deterministic
(fixed seeds). The built-in model comes from a training run through ``scripts/ship_model.py``.
"""

from __future__ import annotations

import logging

from core.io import write_bytes_atomic
from core.paths import resources_dir
from core.synthetic import encode_jpeg, synth_fundus, write_palette_tiff

log = logging.getLogger("make_builtin_assets")


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
    make_samples()
