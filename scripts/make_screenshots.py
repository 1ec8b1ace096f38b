"""Render the README's screenshots of the review app from the bundled samples.

Run from the repository root: ``QT_QPA_PLATFORM=offscreen python scripts/make_screenshots.py``
(optionally ``--image PATH --out DIR`` to look at other photographs, e.g. IDRiD's, without
committing them). Writes ``docs/screenshots/*.png`` with fresh settings and a temporary cache.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402,F401 - before Qt

from core.assets.paths import default_model_path, resources_dir  # noqa: E402
from core.inference.prediction_cache import PredictionCache  # noqa: E402
from core.review.display import DisplayAid  # noqa: E402
from core.review.engine import ReviewEngine  # noqa: E402

log = logging.getLogger("make_screenshots")

# name: (truth mode, overlay style, display aid, view box (y0, x0, y1, x1) or None for the whole photograph)
SHOTS = {
    "review": ("OUTLINE", "FILL", DisplayAid.ORIGINAL, None),
    "compare-zoom": ("COMPARE", "FILL", DisplayAid.ORIGINAL, (1000, 1300, 1900, 2500)),
    "contour-clahe-zoom": ("OUTLINE", "CONTOUR", DisplayAid.CLAHE, (1000, 1300, 1900, 2500)),
    "review-edit-zoom": ("OFF", "FILL", DisplayAid.ORIGINAL, (1000, 1300, 1900, 2500)),
}


def _edit(controller, export_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """A review in progress: EX adopted, a stroke added, exported, then a candidate deleted (the
    panel says the export is out of date), disagreement shown."""
    from PySide6.QtWidgets import QApplication

    from core.lesions import Lesion
    from core.review.session import ReviewStatus

    review = controller.review
    review.panel.reviewer.setText("dr-example")
    mask = review.adopt(Lesion.EX)
    mask.begin_stroke("brush")
    mask.brush((1500, 1500), (1560, 1700), radius=14)
    review.edited(Lesion.EX, mask.end_stroke())
    job = review.output.export(export_dir)
    ended: list[bool] = []
    job.signals.ended.connect(lambda: ended.append(True))
    while not ended:
        QApplication.processEvents()
        time.sleep(0.02)
    QApplication.processEvents()
    review.navigation.step_component(1)
    review.navigation.decide_component(keep=False)
    review.set_lesion_status(Lesion.EX, ReviewStatus.IN_PROGRESS)
    review.panel.comment.setText("exudate cluster near the disc: check")
    review.panel.spread_box.setChecked(True)
    review.panel.select_tool(review.tool.BRUSH)


def render(image: Path, out_dir: Path) -> list[Path]:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.controller import Controller
    from app.overlay_state import OverlayStyle, TruthMode
    from app.settings import AppSettings

    app = QApplication.instance() or QApplication([])
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        photos = Path(tmp) / "photos"  # a copy, so the review session is not written beside the original
        photos.mkdir()
        for path in image.parent.glob(f"{image.stem}*"):
            shutil.copy2(path, photos / path.name)
        image = photos / image.name
        engine = ReviewEngine(default_model_path(), PredictionCache(Path(tmp) / "cache"))
        for name, (truth, style, aid, box) in SHOTS.items():
            settings = AppSettings(QSettings(str(Path(tmp) / f"{name}.ini"), QSettings.Format.IniFormat))
            controller = Controller(engine, settings)
            controller.window.show()
            controller.open_paths([image])
            while controller.analysis is None or controller.analysis.prediction is None:
                app.processEvents()
                time.sleep(0.01)
            panel = controller.panel
            panel.select(panel.truth_box, TruthMode[truth])
            panel.select(panel.overlay_box, OverlayStyle[style])
            panel.select(panel.aid_box, aid)
            if name == "review-edit-zoom":
                _edit(controller, Path(tmp) / "export")
            if box is not None:
                y0, x0, y1, x1 = box
                controller.view.view.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
                controller.view.hovered.emit((y0 + y1) // 2, (x0 + x1) // 2)
            settle = time.perf_counter() + 1.0  # debounced counts (0.12 s) and the journal (0.4 s)
            while time.perf_counter() < settle:
                app.processEvents()
                time.sleep(0.02)
            path = out_dir / f"{name}.png"
            controller.save_screenshot(path)
            controller.shutdown()
            controller.window.close()
            written.append(path)
            log.info("wrote %s", path)
    return written


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", type=Path, default=resources_dir() / "samples" / "synthetic_02.jpg")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    render(args.image, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
