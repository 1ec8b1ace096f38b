"""scripts/with_vertical_smoothing.py: the same weights, maps filtered down each column."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest
import torch

from core.network.checkpoint import load_checkpoint
from core.network.model import smooth_columns

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "with_vertical_smoothing.py"


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", [str(SCRIPT), *args])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(SCRIPT), run_name="__main__")
    return int(stopped.value.code or 0)


def test_the_copy_smooths_the_maps_and_forgets_the_old_thresholds(
    tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "smoothed.safetensors"
    assert _run(monkeypatch, str(tiny_checkpoint), str(out)) == 0
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
    assert _run(monkeypatch, str(tiny_checkpoint), str(tiny_checkpoint)) == 2
    assert "must be another file" in caplog.text and tiny_checkpoint.read_bytes() == before
