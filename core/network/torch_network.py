"""The torch inference backend: CUDA, Apple MPS or the CPU (training always uses torch)."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from core.config import InferenceConfig, TilingConfig
from core.errors import LesionLensError
from core.imaging.tiling import blending_weights
from core.lesions import LESIONS, TrainingClass
from core.network.model import UNetPlusPlus, fuse_batchnorm

log = logging.getLogger(__name__)

_LESION_CHANNELS = [int(TrainingClass.for_lesion(lesion)) for lesion in LESIONS]
#: Pixels per batch when the batch size is automatic. On CPUs, small batches stay in cache:
#: measured 1.25-1.43 M px/s for 2 x 256^2 px against 1.15 M px/s for 8 x 256^2 (width 0.25,
#: bf16). GPUs want large batches.
AUTO_BATCH_PIXELS = {"cpu": 2**17, "cuda": 2**22, "mps": 2**20}
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> CUDA, then Apple MPS, then CPU; otherwise the named device."""
    if name != "auto":
        try:
            device = torch.device(name)
        except RuntimeError as exc:
            raise LesionLensError(
                f"device {name!r} is not a valid torch device; use auto, cpu or cuda"
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise LesionLensError("device 'cuda' requested but no CUDA GPU is available; use --device cpu")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if has_mps():
        return torch.device("mps")
    return torch.device("cpu")


def has_mps() -> bool:
    """Whether Apple's Metal backend is usable."""
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def _cpu_has_fast_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device, training: bool = False) -> torch.dtype:
    """Pick the compute dtype. ``auto``: bf16 on CUDA (fp16 on older cards), fp16 on MPS; on CPUs
    fp32 for inference, so a photograph gets the same masks on every CPU (bf16 moved masks at the
    default thresholds by up to 8 % Dice, docs/performance.md), and bf16 for training where the
    CPU runs it fast (AVX512-BF16/AMX)."""
    if precision != "auto":
        return _DTYPES[precision]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if training and _cpu_has_fast_bf16() else torch.float32


def auto_batch_size(tile_size: int, device: torch.device) -> int:
    """Tiles per batch for a pixel budget that suits the device (at least 1)."""
    return max(1, AUTO_BATCH_PIXELS.get(device.type, 2**17) // (tile_size * tile_size))


def _is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


class TorchNetwork:
    """A UNet++ run by torch (a :class:`core.network.tile_network.TileNetwork`).

    Args:
        model: the network; a BN-folded eval copy runs on the device, the original is untouched.
        mean, std: per-channel RGB normalisation of images scaled to 0..1.
        config: batch size, device, precision, channels-last.
    """

    name = "torch"

    def __init__(
        self,
        model: UNetPlusPlus,
        mean: tuple[float, float, float],
        std: tuple[float, float, float],
        config: InferenceConfig,
    ) -> None:
        self.device = resolve_device(config.device)
        self.dtype = resolve_precision(config.precision, self.device)
        channels_last = config.channels_last
        self.channels_last = (self.dtype != torch.float32) if channels_last is None else channels_last
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = fuse_batchnorm(model).to(self.device).to(memory_format=memory_format)  # type: ignore[call-overload]
        self.batch_size = config.batch_size or auto_batch_size(config.tiling.tile_size, self.device)
        self._mean = torch.tensor(mean, device=self.device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(std, device=self.device).view(1, 3, 1, 1) * 255.0

    def describe(self) -> dict[str, Any]:
        """Backend, device, dtype, memory format and batch size."""
        return {
            "backend": self.name,
            "device": str(self.device),
            "dtype": str(self.dtype).replace("torch.", ""),
            "channels_last": self.channels_last,
            "batch_size": self.batch_size,
        }

    def _autocast(self) -> torch.autocast | nullcontext[None]:
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def _forward(self, tiles: np.ndarray, head: str) -> torch.Tensor:
        """B x C x T x T float32 probabilities, left on the device."""
        batch = torch.from_numpy(tiles).to(self.device).permute(0, 3, 1, 2).float()
        batch = (batch - self._mean) / self._std
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode(), self._autocast():
            return self._lesion_probs(batch, head).float()

    def _lesion_probs(self, batch: torch.Tensor, head: str) -> torch.Tensor:
        """Normalised B x 3 x T x T batch -> B x C x T x T lesion probabilities."""
        name, _, extra = head.partition("+")
        if name == "all":
            outputs = self.model(batch)
            return torch.cat([self.model.probabilities(o)[:, _LESION_CHANNELS] for o in outputs], dim=1)
        if extra == "spread":  # the chosen head plus the four heads' disagreement
            heads = torch.stack([self.model.probabilities(o)[:, _LESION_CHANNELS] for o in self.model(batch)])
            chosen = heads.mean(dim=0) if name == "mean" else heads[int(name) - 1]
            spread = (heads.amax(dim=0) - heads.amin(dim=0)).amax(dim=1, keepdim=True)
            return torch.cat([chosen, spread], dim=1)
        return self.model.predict(batch, head=name)[:, _LESION_CHANNELS].float()

    @property
    def stitches_on_device(self) -> bool:
        """Whether whole photographs are stitched where the network runs (GPUs: only the
        uint8 maps cross back to the host)."""
        return self.device.type != "cpu"

    def run(self, tiles: np.ndarray, head: str) -> np.ndarray:
        """B x T x T x 3 uint8 -> B x C x T x T float32, splitting the batch after out-of-memory."""
        return self.run_on_device(tiles, head).cpu().numpy()

    def run_on_device(self, tiles: np.ndarray, head: str) -> torch.Tensor:
        """Like :meth:`run`, the result left on the device as a float32 tensor."""
        while True:
            try:
                outputs = [
                    self._forward(tiles[i : i + self.batch_size], head)
                    for i in range(0, len(tiles), self.batch_size)
                ]
                return torch.cat(outputs)
            except (torch.OutOfMemoryError, RuntimeError) as exc:
                if not _is_out_of_memory(exc):
                    raise
                if self.device.type == "cuda":
                    torch.cuda.empty_cache()
                if self.batch_size == 1:
                    raise LesionLensError(
                        f"out of memory on {self.device} even with one {tiles.shape[1]}-px tile per "
                        "batch; use a smaller --tile or --device cpu"
                    ) from exc
                self.batch_size = max(1, self.batch_size // 2)
                log.warning("out of memory on %s: batch size lowered to %d", self.device, self.batch_size)

    def stitcher(self, shape: tuple[int, int], channels: int, tiling: TilingConfig) -> DeviceStitcher:
        """A :class:`DeviceStitcher` on this network's device."""
        return DeviceStitcher(shape, channels, tiling, self)


class DeviceStitcher:
    """Weighted tile blending on the torch device; the same sums as :class:`core.imaging.tiling.Stitcher`.

    Tiles never leave the device: per photograph only the C x H x W uint8 maps are copied back.
    Memory on the device: (C + 1) x H x W float32.
    """

    def __init__(
        self, shape: tuple[int, int], channels: int, tiling: TilingConfig, network: TorchNetwork
    ) -> None:
        device = network.device
        self.shape = shape
        self._network = network
        weights = blending_weights(tiling.tile_size, tiling.blending, tiling.overlap)
        self._weights = torch.from_numpy(np.array(weights)).to(device)
        self._sum = torch.zeros((channels, *shape), dtype=torch.float32, device=device)
        self._weight = torch.zeros(shape, dtype=torch.float32, device=device)

    def add_batch(self, boxes: list[tuple[int, int, int, int]], tiles: np.ndarray, head: str) -> None:
        """Run the network on B x T x T x 3 uint8 ``tiles`` and add each result at its box."""
        predictions = self._network.run_on_device(tiles, head)
        if not bool(torch.isfinite(predictions).all()):
            raise LesionLensError(
                "the model produced non-finite probabilities (NaN or infinity); its weights are damaged. "
                "No map was written: use another model file"
            )
        for (y0, x0, y1, x1), prediction in zip(boxes, predictions, strict=True):
            y1c, x1c = min(y1, self.shape[0]), min(x1, self.shape[1])
            h, w = y1c - y0, x1c - x0
            weights = self._weights[:h, :w]
            self._sum[:, y0:y1c, x0:x1c] += prediction[:, :h, :w] * weights
            self._weight[y0:y1c, x0:x1c] += weights

    def levels(self, mask: np.ndarray) -> np.ndarray:
        """C x H x W uint8 (probability x 255, rounded), zero where ``mask`` (H x W bool) is False."""
        covered = self._weight > 0
        probs = torch.where(covered, self._sum / self._weight.clamp_min(1e-12), torch.zeros_like(self._sum))
        levels = (probs * 255.0 + 0.5).clamp_(0, 255).to(torch.uint8)
        levels *= torch.from_numpy(mask).to(levels.device)
        return levels.cpu().numpy()
