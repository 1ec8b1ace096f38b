"""Make the built-in samples: synthetic photographs (with IDRiD-style masks beside them) and
a real normal fundus (CC0, from scikit-image; no masks).

Run from the repository root: ``python scripts/make_builtin_assets.py``. Deterministic
(fixed seeds). The built-in model comes from a training run through ``scripts/ship_model.py``.
"""

from __future__ import annotations

import logging

from core.assets.paths import NORMAL_FUNDUS_SAMPLE, resources_dir
from core.data.synthetic import encode_jpeg, synth_fundus, write_palette_tiff
from core.imaging.io import write_bytes_atomic

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


def make_normal_fundus() -> None:
    """scikit-image's normal fundus (1411 x 1411, CC0; ``SAMPLE_ATTRIBUTION``) as a JPEG sample."""
    from skimage.data import retina

    folder = resources_dir() / "samples"
    write_bytes_atomic(folder / NORMAL_FUNDUS_SAMPLE, encode_jpeg(retina(), quality=95))
    log.info("wrote %s", NORMAL_FUNDUS_SAMPLE)


def make_icon(size: int = 256) -> None:
    """The application icon: a fundus disc with an optic disc and two lesion spots (PNG, RGBA)."""
    import cv2
    import numpy as np

    from core.lesions import Lesion

    icon = np.zeros((size, size, 4), np.uint8)
    centre, radius = (size // 2, size // 2), int(size * 0.46)
    cv2.circle(icon, centre, radius, (196, 82, 30, 255), -1, lineType=cv2.LINE_AA)
    cv2.circle(
        icon, (int(size * 0.68), int(size * 0.47)), int(size * 0.1), (250, 214, 150, 255), -1, cv2.LINE_AA
    )
    cv2.circle(
        icon, (int(size * 0.36), int(size * 0.4)), int(size * 0.06), (*Lesion.EX.colour, 255), -1, cv2.LINE_AA
    )
    cv2.circle(
        icon,
        (int(size * 0.42), int(size * 0.66)),
        int(size * 0.05),
        (*Lesion.MA.colour, 255),
        -1,
        cv2.LINE_AA,
    )
    cv2.circle(icon, centre, radius, (40, 40, 40, 255), max(2, size // 40), lineType=cv2.LINE_AA)
    rgba_as_bgra = icon[:, :, [2, 1, 0, 3]]
    ok, data = cv2.imencode(".png", rgba_as_bgra)
    if not ok:
        raise ValueError("icon encoding failed")
    write_bytes_atomic(resources_dir() / "icon.png", data.tobytes())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    make_samples()
    make_normal_fundus()
    make_icon()
