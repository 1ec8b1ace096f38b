from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from core.config import ModelConfig
from core.errors import CheckpointError
from core.learning.weight_averaging import average_models
from core.network.checkpoint import CheckpointMeta, load_checkpoint, save_checkpoint
from core.network.model import UNetPlusPlus


def _member(path: Path, config: ModelConfig, seed: int) -> Path:
    torch.manual_seed(seed)
    network = UNetPlusPlus(config)
    with torch.no_grad():  # non-trivial BatchNorm statistics, averaged like the weights
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1, 1)
                module.running_var.uniform_(0.5, 2)
                module.num_batches_tracked.fill_(seed + 10)
    meta = CheckpointMeta(
        name=f"m{seed}",
        model=config,
        trained=True,
        default_thresholds={"MA": 0.9, "HE": 0.6, "EX": 0.9, "SE": 0.9},
        metrics={"aupr": {"MA": 0.4}},
        notes="a review aid",
    )
    return save_checkpoint(path, network, meta, dtype=torch.float32)


def test_average_is_the_element_wise_mean(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    config = tiny_model.config
    paths = [_member(tmp_path / f"run{i}" / "last.safetensors", config, i) for i in range(3)]
    soup = average_models(paths)
    states = [load_checkpoint(path).model.state_dict() for path in paths]
    averaged = soup.model.state_dict()
    for key, tensor in averaged.items():
        if tensor.is_floating_point():
            expected = (states[0][key] + states[1][key] + states[2][key]) / 3
            torch.testing.assert_close(tensor, expected, rtol=0, atol=1e-6, msg=key)
        else:
            assert torch.equal(tensor, states[0][key]), key  # counters: the first member's
    # the members' figures and thresholds belong to other networks
    assert soup.meta.metrics == {} and set(soup.meta.default_thresholds.values()) == {0.5}
    assert soup.meta.trained and soup.meta.notes.startswith("a review aid")
    assert "run0/last.safetensors" in soup.meta.notes and "run2/last.safetensors" in soup.meta.notes
    out = save_checkpoint(tmp_path / "soup.safetensors", soup.model, soup.meta, dtype=torch.float32)
    assert load_checkpoint(out).meta.notes == soup.meta.notes


def test_different_architectures_are_refused(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    config = tiny_model.config
    other = replace(config, width=config.width * 2)
    first = _member(tmp_path / "a.safetensors", config, 0)
    second = _member(tmp_path / "b.safetensors", other, 1)
    with pytest.raises(CheckpointError, match="cannot be averaged"):
        average_models([first, second])


def test_one_file_is_not_an_average(tmp_path: Path, tiny_model: UNetPlusPlus) -> None:
    with pytest.raises(CheckpointError, match="two or more"):
        average_models([_member(tmp_path / "a.safetensors", tiny_model.config, 0)])
