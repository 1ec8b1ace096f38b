"""The engine half of the self-test: bundled model vs the stored reference."""

from __future__ import annotations

from pathlib import Path

import pytest

import core.inference.selftest as selftest
from core.inference.selftest import SelfTestResult, check_inference


def test_bundled_model_matches_its_reference() -> None:
    result = SelfTestResult()
    check_inference(result)
    assert result.ok, result.lines
    assert sum(line.startswith("ok") and "Dice" in line for line in result.lines) == 4


def test_a_different_reference_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    import numpy as np

    from core.imaging.io import read_mask, write_png

    copy = tmp_path / "selftest"
    shutil.copytree(selftest.selftest_dir(), copy)
    ex = read_mask(copy / "reference_EX.png")
    write_png(copy / "reference_EX.png", np.roll(ex, 40, axis=1).astype(np.uint8) * 255)
    monkeypatch.setattr(selftest, "selftest_dir", lambda: copy)
    result = SelfTestResult()
    check_inference(result)
    assert not result.ok
    assert any(line.startswith("FAIL EX") for line in result.lines)


def test_missing_reference_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selftest, "selftest_dir", lambda: tmp_path)
    result = SelfTestResult()
    check_inference(result)
    assert not result.ok and "reference result missing" in result.lines[0]
