"""Where the bundled assets are, and which bundled samples are drawings."""

from __future__ import annotations

from pathlib import Path

from core.assets.paths import NORMAL_FUNDUS_SAMPLE, is_synthetic_sample, sample_images


def test_the_synthetic_samples_are_recognised_and_the_photograph_and_copies_are_not(tmp_path: Path) -> None:
    samples = {path.name: path for path in sample_images()}
    drawings = [path for name, path in samples.items() if name.startswith("synthetic_")]
    assert len(drawings) == 2 and all(is_synthetic_sample(path) for path in drawings)
    assert not is_synthetic_sample(samples[NORMAL_FUNDUS_SAMPLE])  # a real photograph
    copy = tmp_path / drawings[0].name
    copy.write_bytes(drawings[0].read_bytes())
    assert not is_synthetic_sample(copy)
    assert not is_synthetic_sample(tmp_path / "missing.jpg")
