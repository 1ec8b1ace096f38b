"""scripts/with_vertical_smoothing.py: the same weights, maps filtered down each column."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core.network.checkpoint import load_checkpoint
from core.network.model import smooth_columns
from tests.scripts.script_runner import run_script


def test_the_copy_smooths_the_maps_and_forgets_the_old_thresholds(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "smoothed.safetensors"
    assert run_script(monkeypatch, "with_vertical_smoothing.py", str(tiny_checkpoint), str(out)) == 0
    original, smoothed = load_checkpoint(tiny_checkpoint), load_checkpoint(out)
    assert smoothed.meta.model.vertical_smoothing and not original.meta.model.vertical_smoothing
    assert smoothed.meta.default_thresholds == {} and smoothed.meta.metrics == {}
    for key, tensor in original.model.state_dict().items():
        assert torch.equal(smoothed.model.state_dict()[key], tensor), key
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = smooth_columns(original.model.eval().predict(x))
        torch.testing.assert_close(smoothed.model.eval().predict(x), expected)


def test_the_source_is_never_overwritten(
    tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = tiny_checkpoint.read_bytes()
    same = str(tiny_checkpoint)
    assert run_script(monkeypatch, "with_vertical_smoothing.py", same, same) == 2
    assert "must be another file" in caplog.text and tiny_checkpoint.read_bytes() == before
