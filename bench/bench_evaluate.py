"""Evaluation benchmark: pooled AUPR over 27 full-size (4288x2848) images in bounded memory,
and the histogram method against scikit-learn on one image.

Run: ``.venv/bin/python bench/bench_evaluate.py``. Writes ``bench/results/evaluate.json`` and
the "Evaluation" section of ``docs/benchmarks.md`` (between markers).
"""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

log = logging.getLogger("bench")
IMAGES = 27


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _make_set(root: Path) -> None:
    """27 synthetic photographs in IDRiD layout (test split) and fake 'predict' outputs."""
    import numpy as np

    from core.data.synthetic import synth_fundus, write_idrid_layout
    from core.imaging.io import write_png
    from core.lesions import LESIONS

    write_idrid_layout(root / "data", count=0, test_count=IMAGES, seed=100)
    rng = np.random.default_rng(0)
    for index in range(IMAGES):
        truth = synth_fundus(2848, 4288, seed=100 + index).masks
        for lesion in LESIONS:
            # Overlapping score distributions: an imperfect predictor (AUPR well below 1).
            noise = rng.integers(0, 176, (2848, 4288), dtype=np.uint8)
            probs = np.where(truth[lesion], 80, 0).astype(np.uint8) + noise
            write_png(root / "pred" / f"IDRiD_{index + 1:02d}_{lesion.code}.png", probs)


def run_pooled(root: Path) -> dict:
    """The pooled evaluation in this process (call in a fresh process for a clean peak RSS)."""
    from core.data.datasets import discover
    from core.scoring.evaluation import evaluate_prediction_folder

    samples = discover(root / "data").split("test")
    start = time.perf_counter()
    evaluation = evaluate_prediction_folder(root / "pred", samples)
    seconds = time.perf_counter() - start
    return {
        "images": len(samples),
        "seconds": seconds,
        "peak_rss_mb": _peak_mb(),
        "maupr": evaluation.aupr_table()["pred"]["mAUPR"],
    }


def run_single(root: Path) -> dict:
    """One image, one lesion: histogram accumulator against sklearn (time, memory, agreement)."""
    import numpy as np
    from sklearn.metrics import auc, precision_recall_curve

    from core.data.datasets import discover
    from core.imaging.io import read_image
    from core.lesions import Lesion
    from core.scoring.metrics import PRAccumulator

    sample = discover(root / "data").split("test")[0]
    _, masks = sample.load()
    probs = read_image(root / "pred" / f"{sample.stem}_HE.png")[..., 0]
    stack = np.stack([probs] * 4)
    tracemalloc.start()
    start = time.perf_counter()
    acc = PRAccumulator()
    acc.add(stack, masks)
    hist_aupr = acc.aupr(Lesion.HE)
    hist_s = (time.perf_counter() - start) / 4  # four lesions were histogrammed
    hist_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.reset_peak()
    start = time.perf_counter()
    precision, recall, _ = precision_recall_curve(masks[Lesion.HE].ravel(), probs.ravel())
    sk_aupr = auc(recall, precision)
    sk_s = time.perf_counter() - start
    sk_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {
        "histogram_s_per_lesion": hist_s,
        "sklearn_s": sk_s,
        "histogram_peak_alloc_mb": hist_peak,
        "sklearn_peak_alloc_mb": sk_peak,
        "aupr_histogram": hist_aupr,
        "aupr_sklearn": sk_aupr,
        "difference": abs(hist_aupr - sk_aupr),
    }


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(sys.argv) == 3:
        print(json.dumps({"pooled": run_pooled, "single": run_single}[sys.argv[1]](Path(sys.argv[2]))))  # noqa: T201
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        log.info("writing %d synthetic 4288x2848 images and predictions ...", IMAGES)
        _make_set(root)
        results = {}
        for kind in ("pooled", "single"):
            proc = subprocess.run(
                [sys.executable, __file__, kind, str(root)], capture_output=True, text=True, check=True
            )
            results[kind] = json.loads(proc.stdout.strip().splitlines()[-1])
            log.info("%s: %s", kind, results[kind])
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "evaluate.json").write_text(json.dumps(results, indent=2) + "\n")
    pooled, single = results["pooled"], results["single"]
    hist_ms = single["histogram_s_per_lesion"] * 1000
    ratio = single["sklearn_s"] / single["histogram_s_per_lesion"]
    body = "\n".join(
        [
            "## Evaluation (command: `python bench/bench_evaluate.py`)",
            "",
            f"- Pooled whole-image AUPR over {pooled['images']} synthetic 4288x2848 images (four lesions, "
            f"'predict'-style PNG maps read from disk): {pooled['seconds']:.1f} s, peak RSS "
            f"{pooled['peak_rss_mb']:.0f} MB for the whole process. One image's maps are held at a time; the "
            "pooled state is 2 x 4 x 256 counters.",
            f"- One image, one lesion (12.2 Mpx): histogram {hist_ms:.0f} ms, scikit-learn "
            f"precision_recall_curve + auc {single['sklearn_s']:.2f} s (ratio {ratio:.0f}x); "
            f"peak allocations (tracemalloc) {single['histogram_peak_alloc_mb']:.0f} MB vs "
            f"{single['sklearn_peak_alloc_mb']:.0f} MB; "
            f"AUPR {single['aupr_histogram']:.6f} vs {single['aupr_sklearn']:.6f} "
            f"(difference {single['difference']:.1e}).",
        ]
    )
    from bench.doc_sections import write_section

    write_section("evaluate", body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
