"""scripts/average_models.py: two fine-tunes become one float32 model file, or a clear refusal."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from core.network.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from core.network.model import UNetPlusPlus
from tests.scripts.script_runner import run_script


def _member(path: Path, network: UNetPlusPlus, seed: int, dtype: torch.dtype = torch.float16) -> Path:
    """``network`` with its weights shifted by a seeded amount, saved (fp16 by default, as shipped)."""
    torch.manual_seed(seed)
    copy = UNetPlusPlus(network.config)
    copy.load_state_dict(network.state_dict())
    with torch.no_grad():
        for parameter in copy.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.01)
    meta = CheckpointMeta(name=f"member{seed}", model=network.config, trained=True)
    return save_checkpoint(path, copy, meta, dtype=dtype)


def test_the_written_file_is_the_float32_mean_of_the_members(
    tmp_path: Path, tiny_model: UNetPlusPlus, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = [_member(tmp_path / f"m{seed}.safetensors", tiny_model, seed) for seed in (1, 2)]
    out = tmp_path / "soup" / "model.safetensors"
    out.parent.mkdir()
    assert run_script(monkeypatch, "average_models.py", str(out), *map(str, members)) == 0

    with safe_open(str(out), framework="pt") as handle:
        names = handle.keys()
        dtypes = {handle.get_tensor(name).dtype for name in names}
    assert torch.float32 in dtypes and torch.float16 not in dtypes  # not rounded before scoring
    states = [load_checkpoint(path).model.state_dict() for path in members]
    averaged = load_checkpoint(out).model.state_dict()
    weights = [key for key, tensor in averaged.items() if tensor.is_floating_point()]
    for key in weights:
        expected = (states[0][key].float() + states[1][key].float()) / 2
        torch.testing.assert_close(averaged[key], expected, rtol=0, atol=1e-6, msg=key)
    assert not torch.equal(states[0][weights[0]], states[1][weights[0]])  # the members really differ


def test_members_of_different_architectures_are_refused_and_nothing_is_written(
    tmp_path: Path,
    tiny_model: UNetPlusPlus,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = _member(tmp_path / "a.safetensors", tiny_model, 1)
    wider = UNetPlusPlus(replace(tiny_model.config, width=tiny_model.config.width * 2))
    second = _member(tmp_path / "b.safetensors", wider, 2)
    out = tmp_path / "soup.safetensors"
    assert run_script(monkeypatch, "average_models.py", str(out), str(first), str(second)) == 2
    assert "cannot be averaged" in caplog.text
    assert not out.exists()


def test_a_member_is_never_overwritten(
    tmp_path: Path,
    tiny_model: UNetPlusPlus,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    first = _member(tmp_path / "a.safetensors", tiny_model, 1)
    second = _member(tmp_path / "b.safetensors", tiny_model, 2)
    before = first.read_bytes()
    assert run_script(monkeypatch, "average_models.py", str(first), str(first), str(second)) == 2
    assert "is one of the members" in caplog.text
    assert first.read_bytes() == before
