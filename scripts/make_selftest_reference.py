"""Make the self-test's reference result (``resources/selftest/``).

Run from the repository root after changing the built-in model:
``python scripts/make_selftest_reference.py``. Writes a 1024 x 1536 lossless crop of
``resources/samples/synthetic_02.jpg`` (it holds all four lesions), the built-in model's
masks on it at the default thresholds (fp32, CPU), and ``reference.json``.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.assets.paths import resources_dir
from core.imaging.io import read_image, write_json, write_png
from core.inference.selftest import IMAGE_NAME, predict_reference_image, selftest_dir
from core.lesions import LESIONS

CROP = (900, 1200, 1924, 2736)  # y0, x0, y1, x1 in synthetic_02.jpg

log = logging.getLogger("make_selftest_reference")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    y0, x0, y1, x1 = CROP
    image = read_image(resources_dir() / "samples" / "synthetic_02.jpg")[y0:y1, x0:x1]
    folder = selftest_dir()
    write_png(folder / IMAGE_NAME, image, compression=6)
    prediction, thresholds, sha256, _ = predict_reference_image()
    pixels = {}
    for lesion in LESIONS:
        mask = prediction.mask(lesion, thresholds[lesion.code])
        write_png(folder / f"reference_{lesion.code}.png", mask.astype("uint8") * 255, compression=9)
        pixels[lesion.code] = int(mask.sum())
    write_json(
        folder / "reference.json",
        {
            "image": IMAGE_NAME,
            "crop_of": "samples/synthetic_02.jpg",
            "crop_box": list(CROP),
            "model_sha256": sha256,
            "thresholds": thresholds,
            "precision": "fp32",
            "device": "cpu",
            "lesion_pixels": pixels,
        },
    )
    log.info("reference written to %s: %s", folder, json.dumps(pixels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
