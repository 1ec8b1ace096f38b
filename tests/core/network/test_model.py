from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch
from torch import nn

from core.config import ModelConfig
from core.errors import CheckpointError
from core.network.model import (
    UNetPlusPlus,
    count_parameters,
    fuse_batchnorm,
    load_vgg16_bn_encoder,
    smooth_columns,
)


def test_paper_width_has_about_31_million_parameters() -> None:
    assert 30_000_000 < count_parameters(UNetPlusPlus(ModelConfig(width=1.0))) < 32_000_000


def test_architecture_follows_the_method(tiny_model: UNetPlusPlus) -> None:
    names = dict(tiny_model.named_children())
    nodes = {n for n in names if n.startswith("x_")}
    assert nodes == {f"x_{i}_{j}" for j in range(5) for i in range(5 - j)}
    ups = [m for n, m in names.items() if n.startswith("up_")]
    assert len(ups) == 10
    for up in ups:
        assert isinstance(up, nn.ConvTranspose2d)
        assert up.kernel_size == (2, 2) and up.stride == (2, 2) and up.padding == (0, 0)
    convs_per_stage = [
        sum(isinstance(m, nn.Conv2d) for m in getattr(tiny_model, f"x_{i}_0")) for i in range(5)
    ]
    assert convs_per_stage == [2, 2, 3, 3, 3]  # VGG16
    assert all(
        isinstance(m, nn.BatchNorm2d) for m in tiny_model.x_0_0 if not isinstance(m, (nn.Conv2d, nn.ReLU))
    )
    assert not any(isinstance(m, nn.Upsample) for m in tiny_model.modules())
    assert len(tiny_model.heads) == 4 and all(h.kernel_size == (1, 1) for h in tiny_model.heads)


def test_four_full_resolution_six_class_outputs(tiny_model: UNetPlusPlus) -> None:
    outputs = tiny_model(torch.randn(2, 3, 64, 96))
    assert len(outputs) == 4
    assert all(o.shape == (2, 6, 64, 96) for o in outputs)


def test_input_must_be_multiple_of_32(tiny_model: UNetPlusPlus) -> None:
    with pytest.raises(ValueError, match="multiples of 32"):
        tiny_model(torch.randn(1, 3, 48, 64))


@pytest.mark.parametrize("head", ["1", "2", "3", "4", "mean"])
def test_predict_returns_probabilities(tiny_model: UNetPlusPlus, head: str) -> None:
    with torch.no_grad():
        probs = tiny_model.predict(torch.randn(1, 3, 32, 32), head=head)
    assert probs.shape == (1, 6, 32, 32) and probs.dtype == torch.float32
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(1, 32, 32))


def test_heads_differ_and_mean_averages_them(tiny_model: UNetPlusPlus) -> None:
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        per_head = [tiny_model.predict(x, head=str(k)) for k in range(1, 5)]
        mean = tiny_model.predict(x, head="mean")
    assert not torch.allclose(per_head[0], per_head[3])
    torch.testing.assert_close(mean, torch.stack(per_head).mean(0))


def test_column_smoothing_removes_row_to_row_stripes_and_keeps_gradients() -> None:
    rows = torch.arange(16, dtype=torch.float32).view(1, 1, 16, 1).expand(1, 2, 16, 8)
    stripes = (rows % 2) * 0.6 + 0.2  # 0.2, 0.8, 0.2, ... row by row
    smoothed = smooth_columns(stripes)
    torch.testing.assert_close(smoothed[:, :, 1:-1], torch.full((1, 2, 14, 8), 0.5))
    gradient = rows / 16  # a straight vertical ramp passes unchanged (inside the edges)
    torch.testing.assert_close(smooth_columns(gradient)[:, :, 1:-1], gradient[:, :, 1:-1])
    columns = stripes.transpose(2, 3)  # alternating columns are not its business
    torch.testing.assert_close(smooth_columns(columns), columns)


def test_a_model_with_vertical_smoothing_predicts_the_smoothed_maps(tiny_model: UNetPlusPlus) -> None:
    smoothed_model = UNetPlusPlus(replace(tiny_model.config, vertical_smoothing=True)).eval()
    smoothed_model.load_state_dict(tiny_model.state_dict())
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        for head in ("4", "mean"):
            plain = tiny_model.predict(x, head=head)
            smoothed = smoothed_model.predict(x, head=head)
            torch.testing.assert_close(smoothed, smooth_columns(plain))
            torch.testing.assert_close(smoothed.sum(dim=1), torch.ones(1, 32, 32))  # still probabilities
        torch.testing.assert_close(smoothed_model(x)[3], tiny_model(x)[3])  # training's logits: untouched


def test_fused_model_matches_original_and_leaves_it_untouched(tiny_model: UNetPlusPlus) -> None:
    # Give batch norms non-trivial statistics first.
    model = UNetPlusPlus(ModelConfig(width=0.125))
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, 32, 32) * 2 + 1)
    model.eval()
    fused = fuse_batchnorm(model)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(fused.predict(x), model.predict(x), atol=1e-4, rtol=1e-4)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())


def test_training_step_reduces_loss() -> None:
    torch.manual_seed(0)
    model = UNetPlusPlus(ModelConfig(width=0.125))
    x = torch.randn(4, 3, 32, 32)
    target = (x[:, 0] > 0).long() + 2  # a learnable rule: class 2 or 3 by the red channel
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(15):
        loss = torch.stack([nn.functional.cross_entropy(o, target) for o in model(x)]).mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def _fake_vgg16_bn_state(model: UNetPlusPlus) -> dict[str, torch.Tensor]:
    """A state dict in torchvision's vgg16_bn.features layout with recognisable values."""
    state: dict[str, torch.Tensor] = {}
    index = 0
    for stage in range(5):
        for module in getattr(model, f"x_{stage}_0"):
            if isinstance(module, nn.Conv2d):
                state[f"features.{index}.weight"] = torch.full_like(module.weight, 0.01 * (index + 1))
                state[f"features.{index}.bias"] = torch.full_like(module.bias, 0.5)
            elif isinstance(module, nn.BatchNorm2d):
                for name in ("weight", "bias", "running_mean", "running_var"):
                    state[f"features.{index}.{name}"] = torch.full_like(getattr(module, name), 2.0)
                state[f"features.{index}.num_batches_tracked"] = torch.tensor(7)
            index += 1
        index += 1  # max-pool layer
    return state


def test_vgg16_bn_encoder_loads_from_local_file(tmp_path: Path) -> None:
    model = UNetPlusPlus(ModelConfig(width=1.0))
    state = _fake_vgg16_bn_state(model)
    assert "features.0.weight" in state and "features.41.running_var" in state  # torchvision indices
    torch.save(state, tmp_path / "vgg16_bn.pth")
    decoder_before = model.x_0_4[0].weight.clone()
    load_vgg16_bn_encoder(model, tmp_path / "vgg16_bn.pth")
    assert torch.all(model.x_0_0[0].weight == 0.01)
    assert torch.all(model.x_4_0[6].weight == state["features.40.weight"])
    assert torch.all(model.x_2_0[1].running_var == 2.0)
    assert torch.equal(model.x_0_4[0].weight, decoder_before)


def test_vgg16_bn_encoder_refuses_wrong_width_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="width 1.0"):
        load_vgg16_bn_encoder(UNetPlusPlus(ModelConfig(width=0.25)), tmp_path / "x.pth")
    torch.save({"features.0.weight": torch.zeros(3)}, tmp_path / "foreign.pth")
    with pytest.raises(CheckpointError, match="expected 26 VGG16-BN feature layers"):
        load_vgg16_bn_encoder(UNetPlusPlus(ModelConfig(width=1.0)), tmp_path / "foreign.pth")
    (tmp_path / "junk.pth").write_bytes(b"junk")
    with pytest.raises(CheckpointError, match="cannot read encoder weights"):
        load_vgg16_bn_encoder(UNetPlusPlus(ModelConfig(width=1.0)), tmp_path / "junk.pth")
