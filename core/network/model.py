"""UNet++ with a VGG16-BN encoder, transposed-convolution upsampling and four
deep-supervision heads (METHOD.md, steps 5 and 6).

Node ``x_i_j`` is X(i, j) of Zhou et al.: ``i`` the depth (resolution 1 / 2**i), ``j`` the
position along the nested skip path. ``x_i_0`` are the encoder stages; for j >= 1,
``x_i_j = conv([x_i_0, ..., x_i_{j-1}, up(x_{i+1}_{j-1})])``. Heads on x_0_1 .. x_0_4.
"""

from __future__ import annotations

import copy
import logging
from pathlib import Path

import torch
from torch import nn

from core.config import NUM_HEADS, ModelConfig
from core.errors import CheckpointError

log = logging.getLogger(__name__)

#: Convolutions per VGG16 stage.
VGG16_STAGE_CONVS = (2, 2, 3, 3, 3)
DEPTH = 5  # encoder stages x_0_0 .. x_4_0


class ConvBlock(nn.Sequential):
    """``n`` x (3x3 conv, BatchNorm, ReLU)."""

    def __init__(self, in_channels: int, out_channels: int, n: int = 2) -> None:
        layers: list[nn.Module] = []
        for k in range(n):
            layers += [
                nn.Conv2d(in_channels if k == 0 else out_channels, out_channels, 3, padding=1),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(inplace=True),
            ]
        super().__init__(*layers)


class UNetPlusPlus(nn.Module):
    """UNet++ / VGG16-BN segmentation network.

    Input: N x C x H x W float, H and W multiples of 32 (normalised image).
    Output (training): list of four N x K x H x W logits, heads 1..4.
    Output (``predict``): N x K x H x W softmax probabilities of the chosen head(s).
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config or ModelConfig()
        ch = self.config.stage_channels
        self.pool = nn.MaxPool2d(2, 2)
        # Encoder: VGG16-BN stages (conv blocks with 2, 2, 3, 3, 3 convolutions).
        in_ch = self.config.in_channels
        for i in range(DEPTH):
            self.add_module(f"x_{i}_0", ConvBlock(in_ch, ch[i], VGG16_STAGE_CONVS[i]))
            in_ch = ch[i]
        # Decoder: nested nodes with transposed-convolution upsampling (k=2, s=2, p=0).
        for j in range(1, DEPTH):
            for i in range(DEPTH - j):
                self.add_module(f"up_{i + 1}_{j - 1}", nn.ConvTranspose2d(ch[i + 1], ch[i], 2, 2, 0))
                self.add_module(f"x_{i}_{j}", ConvBlock(ch[i] * (j + 1), ch[i], 2))
        self.heads = nn.ModuleList(nn.Conv2d(ch[0], self.config.num_classes, 1) for _ in range(NUM_HEADS))
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """All four heads' logits, each N x K x H x W."""
        if x.shape[-1] % 32 or x.shape[-2] % 32:
            raise ValueError(f"input size {tuple(x.shape[-2:])}: height and width must be multiples of 32")
        nodes: dict[tuple[int, int], torch.Tensor] = {}
        for i in range(DEPTH):
            x = getattr(self, f"x_{i}_0")(x if i == 0 else self.pool(x))
            nodes[i, 0] = x
        for j in range(1, DEPTH):
            for i in range(DEPTH - j):
                up = getattr(self, f"up_{i + 1}_{j - 1}")(nodes[i + 1, j - 1])
                skips = [nodes[i, k] for k in range(j)]
                nodes[i, j] = getattr(self, f"x_{i}_{j}")(torch.cat([*skips, up], dim=1))
        return [head(nodes[0, j + 1]) for j, head in enumerate(self.heads)]

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """One head's N x K x H x W logits -> float32 probabilities (softmax over K), filtered
        down each column when ``config.vertical_smoothing``."""
        probs = logits.float().softmax(dim=1)
        return smooth_columns(probs) if self.config.vertical_smoothing else probs

    def predict(self, x: torch.Tensor, head: str = "4") -> torch.Tensor:
        """Probabilities (float32) of head ``"1"``..``"4"`` or the ``"mean"`` of all."""
        outputs = self(x)
        if head == "mean":
            return torch.stack([self.probabilities(o) for o in outputs]).mean(dim=0)
        return self.probabilities(outputs[int(head) - 1])


def smooth_columns(maps: torch.Tensor) -> torch.Tensor:
    """N x K x H x W maps filtered with [1, 2, 1] / 4 along H (edge rows replicated).

    Its response to a pattern that alternates row by row is 0; a constant or a straight
    gradient passes unchanged.
    """
    channels = maps.shape[1]
    kernel = maps.new_tensor([0.25, 0.5, 0.25]).view(1, 1, 3, 1).expand(channels, 1, 3, 1)
    padded = nn.functional.pad(maps, (0, 0, 1, 1), mode="replicate")
    return nn.functional.conv2d(padded, kernel, groups=channels)


def fuse_batchnorm(model: UNetPlusPlus) -> UNetPlusPlus:
    """An inference copy of ``model`` with every BatchNorm folded into its convolution.

    Same outputs (to float rounding) in eval mode, about 5-15 % faster on CPUs; the
    original model is left untouched (it may still be trained).
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    fused = copy.deepcopy(model).eval()
    for block in fused.modules():
        if isinstance(block, ConvBlock):
            for k in range(len(block) - 1):
                conv, norm = block[k], block[k + 1]
                if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                    block[k] = fuse_conv_bn_eval(conv, norm)
                    block[k + 1] = nn.Identity()
    return fused


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _encoder_modules(model: UNetPlusPlus) -> list[nn.Module]:
    """Encoder convs and batch norms in torchvision ``vgg16_bn.features`` order."""
    modules: list[nn.Module] = []
    for i in range(DEPTH):
        modules += [m for m in getattr(model, f"x_{i}_0") if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))]
    return modules


def load_vgg16_bn_encoder(model: UNetPlusPlus, path: str | Path) -> None:
    """Initialise the encoder from a local torchvision ``vgg16_bn`` state dict.

    Nothing is downloaded: the user supplies the file (``.pth`` loaded with
    ``weights_only=True``, or ``.safetensors``). Only width 1.0 matches its shapes.

    Raises:
        CheckpointError: unreadable file, foreign layout or shape mismatch.
    """
    path = Path(path)
    if model.config.width != 1.0 or model.config.in_channels != 3:
        raise CheckpointError(
            f"{path}: ImageNet VGG16-BN weights fit only width 1.0 with 3 input channels "
            f"(this model: width {model.config.width}); drop the encoder weights or use width 1.0"
        )
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(
            f"{path}: cannot read encoder weights ({exc}); use torchvision's vgg16_bn file"
        ) from exc
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]  # type: ignore[assignment]  # a wrapped checkpoint: its inner dict
    indices = sorted({int(k.split(".")[1]) for k in state if k.startswith("features.")})
    targets = _encoder_modules(model)
    if len(indices) != len(targets):
        raise CheckpointError(
            f"{path}: expected {len(targets)} VGG16-BN feature layers with weights, found "
            f"{len(indices)}; is this torchvision's vgg16_bn (with batch norm)?"
        )
    with torch.no_grad():
        for index, module in zip(indices, targets, strict=True):
            names = (
                ["weight", "bias"]
                if isinstance(module, nn.Conv2d)
                else ["weight", "bias", "running_mean", "running_var"]
            )
            for name in names:
                key = f"features.{index}.{name}"
                target = getattr(module, name)
                if target is None:
                    continue
                if key not in state or state[key].shape != target.shape:
                    got = tuple(state[key].shape) if key in state else "missing"
                    raise CheckpointError(
                        f"{path}: {key} is {got}, expected {tuple(target.shape)}; not a vgg16_bn state dict"
                    )
                target.copy_(state[key])
    log.info("encoder initialised from %s", path)
