"""Whole-photograph inference: FOV crop, tiles, batched model, stitching, uncrop.

``Predictor.iter_predict`` is a generator: it yields :class:`InferenceProgress` after each
batch and returns :class:`LesionProbabilities`; closing it stops the work at once. A GUI
worker or the CLI drives it; :meth:`Predictor.predict` is the plain-call form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import torch

from core.checkpoint import CheckpointMeta, LoadedModel
from core.config import InferenceConfig
from core.errors import LesionLensError
from core.fov import FovCrop, detect_fov
from core.lesions import LESIONS, Lesion, TrainingClass
from core.model import UNetPlusPlus, fuse_batchnorm
from core.preprocess import prepare, restore
from core.tiling import Stitcher, TileGrid

log = logging.getLogger(__name__)
T = TypeVar("T")

_LESION_CHANNELS = [int(TrainingClass.for_lesion(lesion)) for lesion in LESIONS]
#: Pixels per batch when the batch size is automatic. On CPUs, small batches stay in cache:
#: measured 1.25-1.43 M px/s for 2 x 256^2 px against 1.15 M px/s for 8 x 256^2 (width 0.25,
#: bf16). GPUs want large batches.
AUTO_BATCH_PIXELS = {"cpu": 2**17, "cuda": 2**22, "mps": 2**20}
_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


@dataclass(frozen=True)
class InferenceProgress:
    """Tiles processed so far for one image."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        """done / total in 0..1."""
        return self.done / self.total if self.total else 1.0


@dataclass(frozen=True)
class LesionProbabilities:
    """Per-lesion probabilities at the photograph's original size.

    Attributes:
        probs: L x H x W uint8 (0..255 = probability 0..1), order ``LESIONS``; zero
            outside the field of view.
        fov: the field of view (box and mask) the prediction was made in.
        tiles_run: how many tiles went through the network.
        spread: optional H x W uint8 (0..255 = 0..1): how much the four deep-supervision
            heads disagree, the largest range over the lesions; a map of where to look twice.
    """

    probs: np.ndarray
    fov: FovCrop
    tiles_run: int = 0
    spread: np.ndarray | None = None

    def __getitem__(self, lesion: Lesion) -> np.ndarray:
        """H x W uint8 map of one lesion."""
        return self.probs[LESIONS.index(lesion)]

    def as_float(self, lesion: Lesion) -> np.ndarray:
        """H x W float32 probabilities in 0..1."""
        return self[lesion].astype(np.float32) / 255.0

    def mask(self, lesion: Lesion, threshold: float) -> np.ndarray:
        """H x W bool: probability >= threshold (threshold in 0..1)."""
        return self[lesion] >= probability_to_level(threshold)

    def at(self, y: int, x: int) -> dict[Lesion, float] | None:
        """Per lesion, the probability (0..1) at pixel (y, x); None outside the image."""
        height, width = self.probs.shape[1:]
        if not (0 <= y < height and 0 <= x < width):
            return None
        return {lesion: float(self.probs[i, y, x]) / 255.0 for i, lesion in enumerate(LESIONS)}


@dataclass(frozen=True)
class HeadProbabilities:
    """All four deep-supervision outputs at once (for validation and evaluation).

    Attributes:
        probs: 4 x L x H x W uint8, heads 1..4, lesions in ``LESIONS`` order.
        fov: the field of view.
        tiles_run: tiles that went through the network.
    """

    probs: np.ndarray
    fov: FovCrop
    tiles_run: int = 0

    def head(self, number: int) -> LesionProbabilities:
        """Head ``number`` (1..4) as :class:`LesionProbabilities`."""
        return LesionProbabilities(self.probs[number - 1], self.fov, self.tiles_run)

    def mean(self) -> LesionProbabilities:
        """Mean of the four heads' probabilities."""
        mean = (self.probs.astype(np.uint16).sum(axis=0) + 2) // 4
        return LesionProbabilities(mean.astype(np.uint8), self.fov, self.tiles_run)


def probability_to_level(threshold: float) -> int:
    """uint8 level equivalent to a 0..1 probability threshold for ``>=`` comparisons."""
    return int(np.clip(np.ceil(threshold * 255.0 - 1e-9), 0, 255))


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
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def _cpu_has_fast_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """Pick the compute dtype: ``auto`` = bf16 where fast (CUDA bf16, CPU AVX512-BF16/AMX),
    fp16 on MPS or older CUDA, otherwise fp32."""
    if precision != "auto":
        return _DTYPES[precision]
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "mps":
        return torch.float16
    return torch.bfloat16 if _cpu_has_fast_bf16() else torch.float32


def auto_batch_size(tile_size: int, device: torch.device) -> int:
    """Tiles per batch for a pixel budget that suits the device (at least 1)."""
    return max(1, AUTO_BATCH_PIXELS.get(device.type, 2**17) // (tile_size * tile_size))


def _is_out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


class Predictor:
    """Applies a UNet++ to whole fundus photographs.

    Args:
        model: the network; a BN-folded eval copy runs on the device, the original is untouched.
        meta: checkpoint metadata (normalisation, name).
        config: tiling, batch size, device, precision, head.
    """

    def __init__(
        self, model: UNetPlusPlus, meta: CheckpointMeta, config: InferenceConfig | None = None
    ) -> None:
        self.config = config or InferenceConfig()
        self.meta = meta
        self.device = resolve_device(self.config.device)
        self.dtype = resolve_precision(self.config.precision, self.device)
        channels_last = self.config.channels_last
        self.channels_last = (self.dtype != torch.float32) if channels_last is None else channels_last
        memory_format = torch.channels_last if self.channels_last else torch.contiguous_format
        self.model = fuse_batchnorm(model).to(self.device, memory_format=memory_format)
        self.batch_size = self.config.batch_size or auto_batch_size(self.config.tiling.tile_size, self.device)
        self._mean = torch.tensor(meta.mean, device=self.device).view(1, 3, 1, 1) * 255.0
        self._std = torch.tensor(meta.std, device=self.device).view(1, 3, 1, 1) * 255.0
        log.info(
            "predictor: %s on %s, %s, channels_last=%s, tile %d overlap %d, batch %d, head %s",
            meta.name,
            self.device,
            self.dtype,
            self.channels_last,
            self.config.tiling.tile_size,
            self.config.tiling.overlap,
            self.batch_size,
            self.config.head,
        )

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, config: InferenceConfig | None = None) -> Predictor:
        """Predictor for a model returned by :func:`core.checkpoint.load_checkpoint`."""
        return cls(loaded.model, loaded.meta, config)

    def _autocast(self) -> torch.autocast | nullcontext[None]:
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.dtype)

    def _forward(self, tiles: np.ndarray, head: str) -> np.ndarray:
        """B x T x T x 3 uint8 tiles -> B x C x T x T float32 lesion probabilities.

        C = L for one head (``"1"``..``"4"``) or their ``"mean"``; C = 4 x L for ``"all"``;
        C = L + 1 for ``"<head>+spread"`` (the last channel: max over lesions of the range of the
        four heads' probabilities).
        """
        batch = torch.from_numpy(tiles).to(self.device).permute(0, 3, 1, 2).float()
        batch = (batch - self._mean) / self._std
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        head, _, extra = head.partition("+")
        with torch.inference_mode(), self._autocast():
            probs = self._lesion_probs(batch, head, extra)
            if self.config.flip_tta:
                probs = (probs + self._lesion_probs(batch.flip(-1), head, extra).flip(-1)) / 2
        return probs.float().cpu().numpy()

    def _lesion_probs(self, batch: torch.Tensor, head: str, extra: str) -> torch.Tensor:
        """Normalised B x 3 x T x T batch -> B x C x T x T lesion probabilities (see :meth:`_forward`)."""
        if head == "all":
            outputs = self.model(batch)
            return torch.cat([o.float().softmax(dim=1)[:, _LESION_CHANNELS] for o in outputs], dim=1)
        if extra == "spread":  # the chosen head plus the four heads' disagreement
            heads = torch.stack([o.float().softmax(dim=1)[:, _LESION_CHANNELS] for o in self.model(batch)])
            chosen = heads.mean(dim=0) if head == "mean" else heads[int(head) - 1]
            spread = (heads.amax(dim=0) - heads.amin(dim=0)).amax(dim=1, keepdim=True)
            return torch.cat([chosen, spread], dim=1)
        return self.model.predict(batch, head=head)[:, _LESION_CHANNELS].float()

    def _forward_adaptive(self, tiles: np.ndarray, head: str) -> np.ndarray:
        """:meth:`_forward`, splitting the batch after an out-of-memory error."""
        while True:
            try:
                outputs = [
                    self._forward(tiles[i : i + self.batch_size], head)
                    for i in range(0, len(tiles), self.batch_size)
                ]
                return np.concatenate(outputs)
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

    def predict_tiles(self, tiles: np.ndarray, head: str | None = None) -> np.ndarray:
        """B x T x T x 3 uint8 tiles -> B x C x T x T float32 lesion probabilities (no stitching).

        ``head``: ``"1"``..``"4"``, ``"mean"`` (C = L) or ``"all"`` (C = 4 x L); default: the config's.
        """
        return self._forward_adaptive(tiles, head or self.config.head)

    def _batches(
        self, grid: TileGrid, image: np.ndarray
    ) -> Iterator[tuple[list[tuple[int, int, int, int]], np.ndarray]]:
        boxes = grid.boxes
        step = self.batch_size
        for start in range(0, len(boxes), step):
            chunk = boxes[start : start + step]
            yield chunk, np.stack([grid.extract(image, box) for box in chunk])

    def iter_predict(
        self, image: np.ndarray, fov: FovCrop | None = None, spread: bool = False
    ) -> Generator[InferenceProgress, None, LesionProbabilities]:
        """Predict lesion probabilities for one photograph, yielding progress.

        Args:
            image: H x W x 3 uint8 RGB photograph.
            fov: its field of view; detected with Otsu when omitted.
            spread: also return the heads' disagreement map (no extra network pass).

        Yields:
            :class:`InferenceProgress` after the field of view and after every batch.

        Returns:
            :class:`LesionProbabilities` at H x W.
        """
        head = f"{self.config.head}+spread" if spread else self.config.head
        levels, fov, tiles = yield from self._iter_levels(image, fov, head)
        if spread:
            return LesionProbabilities(levels[: len(LESIONS)], fov, tiles, spread=levels[len(LESIONS)])
        return LesionProbabilities(probs=levels, fov=fov, tiles_run=tiles)

    def iter_predict_all_heads(
        self, image: np.ndarray, fov: FovCrop | None = None
    ) -> Generator[InferenceProgress, None, HeadProbabilities]:
        """Like :meth:`iter_predict`, returning all four heads (4 x L x H x W uint8)."""
        levels, fov, tiles = yield from self._iter_levels(image, fov, "all")
        return HeadProbabilities(
            probs=levels.reshape(4, len(LESIONS), *levels.shape[1:]), fov=fov, tiles_run=tiles
        )

    def _iter_levels(
        self, image: np.ndarray, fov: FovCrop | None, head: str
    ) -> Generator[InferenceProgress, None, tuple[np.ndarray, FovCrop, int]]:
        """Shared body: C x H x W uint8 levels (C = L, or 4 x L for all heads)."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}")
        fov = fov or detect_fov(image)
        prepared = prepare(image, fov, self.meta.preprocess)
        tiling = self.config.tiling
        grid = TileGrid(prepared.shape, tiling, prepared.mask)
        channels = len(LESIONS) * 4 if head == "all" else len(LESIONS) + head.endswith("+spread")
        stitcher = Stitcher(prepared.shape, channels, tiling.tile_size, tiling.blending, tiling.overlap)
        done = 0
        yield InferenceProgress(done, len(grid))
        for boxes, tiles in self._batches(grid, prepared.image):
            for box, prediction in zip(boxes, self._forward_adaptive(tiles, head), strict=True):
                stitcher.add(box, prediction)
            done += len(boxes)
            yield InferenceProgress(done, len(grid))
        probs = stitcher.finalize()
        levels = np.empty(probs.shape, np.uint8)
        for channel in range(probs.shape[0]):
            scaled = probs[channel]
            np.multiply(scaled, 255.0, out=scaled)
            np.add(scaled, 0.5, out=scaled)
            np.clip(scaled, 0, 255, out=scaled)
            levels[channel] = scaled.astype(np.uint8) * prepared.mask
        return restore(levels, prepared), fov, len(grid)

    def predict(
        self,
        image: np.ndarray,
        fov: FovCrop | None = None,
        on_progress: Callable[[InferenceProgress], None] | None = None,
    ) -> LesionProbabilities:
        """Run :meth:`iter_predict` to the end, reporting progress to ``on_progress``."""
        return run_to_end(self.iter_predict(image, fov), on_progress)

    def predict_all_heads(self, image: np.ndarray, fov: FovCrop | None = None) -> HeadProbabilities:
        """Run :meth:`iter_predict_all_heads` to the end."""
        return run_to_end(self.iter_predict_all_heads(image, fov))


def run_to_end(
    generator: Generator[InferenceProgress, None, T],
    on_progress: Callable[[InferenceProgress], None] | None = None,
) -> T:
    """Drive a progress generator to its return value."""
    while True:
        try:
            progress = next(generator)
        except StopIteration as stop:
            return stop.value
        if on_progress is not None:
            on_progress(progress)
