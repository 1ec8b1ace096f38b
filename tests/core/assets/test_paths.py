"""Where the bundled assets are, and which photographs are the bundled samples."""

from __future__ import annotations

from pathlib import Path

from core.assets.paths import is_bundled_sample, sample_images


def test_the_bundled_samples_are_recognised_and_a_copy_elsewhere_is_not(tmp_path: Path) -> None:
    samples = sample_images()
    assert samples and all(is_bundled_sample(path) for path in samples)
    copy = tmp_path / samples[0].name
    copy.write_bytes(samples[0].read_bytes())
    assert not is_bundled_sample(copy)
    assert not is_bundled_sample(tmp_path / "missing.jpg")
