"""Whole-photograph inference: FOV crop, tiles, batched model, stitching, uncrop.

``Predictor.iter_predict`` is a generator: it yields :class:`InferenceProgress` after each
batch and returns :class:`LesionProbabilities`; closing it stops the work at once. A GUI
worker or the CLI drives it; :meth:`Predictor.predict` is the plain-call form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from core.config import Blending, InferenceConfig, TilingConfig
from core.errors import LesionLensError
from core.imaging.fov import FovCrop, detect_fov
from core.imaging.preprocess import PreparedImage, prepare, restore
from core.imaging.probability_maps import HeadProbabilities, LesionProbabilities
from core.imaging.tiling import Stitcher, TileGrid
from core.lesions import LESIONS
from core.network.model_file import CheckpointMeta, LoadedModel
from core.network.tile_network import TileNetwork

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class InferenceProgress:
    """Tiles processed so far for one image."""

    done: int
    total: int

    @property
    def fraction(self) -> float:
        """done / total in 0..1."""
        return self.done / self.total if self.total else 1.0


def model_tiling(
    meta: CheckpointMeta, tile: int | None = None, overlap: int | None = None, blending: Blending = "smooth"
) -> TilingConfig:
    """The tiling every front end uses for ``meta``'s model unless told otherwise: its inference
    tile size and overlap, smooth blending. The app, ``predict``, ``evaluate``, ``check`` and the
    self-test share it, so a photograph gets the same maps whichever of them produced them."""
    return TilingConfig(
        tile_size=tile or meta.inference_tile_size,
        overlap=meta.inference_overlap if overlap is None else overlap,
        blending=blending,
    )


class Predictor:
    """Applies a UNet++ to whole fundus photographs.

    Args:
        network: the backend that runs the network on tiles (:mod:`core.network.backends`).
        meta: checkpoint metadata (preprocessing, name).
        config: tiling, head, flip test-time augmentation.
    """

    def __init__(
        self, network: TileNetwork, meta: CheckpointMeta, config: InferenceConfig | None = None
    ) -> None:
        self.config = config or InferenceConfig()
        self.meta = meta
        self.network = network
        log.info(
            "predictor: %s, %s, tile %d overlap %d, head %s",
            meta.name,
            ", ".join(f"{k} {v}" for k, v in network.describe().items()),
            self.config.tiling.tile_size,
            self.config.tiling.overlap,
            self.config.head,
        )

    @classmethod
    def from_loaded(cls, loaded: LoadedModel, config: InferenceConfig | None = None) -> Predictor:
        """Predictor for a model file, on the backend the config resolves to."""
        from core.network.backends import make_network

        config = config or InferenceConfig()
        return cls(make_network(loaded, config), loaded.meta, config)

    @classmethod
    def from_model(cls, model: Any, meta: CheckpointMeta, config: InferenceConfig | None = None) -> Predictor:
        """Predictor for a torch network in memory (validation during training)."""
        from core.network.torch_network import TorchNetwork

        config = config or InferenceConfig()
        return cls(TorchNetwork(model, meta.mean, meta.std, config), meta, config)

    @property
    def batch_size(self) -> int:
        """Tiles handed to the network at once."""
        return self.network.batch_size

    def _run(self, tiles: np.ndarray, head: str) -> np.ndarray:
        """The network's B x C x T x T probabilities, averaged with the mirrored tiles' under flip TTA."""
        probs = self.network.run(tiles, head)
        if self.config.flip_tta:
            mirrored = self.network.run(np.ascontiguousarray(tiles[:, :, ::-1]), head)
            probs = (probs + mirrored[..., ::-1]) / 2
        check_finite(probs, self.meta.name)
        return probs

    def _stitcher(self, shape: tuple[int, int], channels: int) -> _HostStitcher | Any:
        """On a GPU the network's device stitcher (no flip TTA there); else the host's."""
        if getattr(self.network, "stitches_on_device", False) and not self.config.flip_tta:
            return self.network.stitcher(shape, channels, self.config.tiling)  # type: ignore[attr-defined]
        tiling = self.config.tiling
        return _HostStitcher(
            Stitcher(shape, channels, tiling.tile_size, tiling.blending, tiling.overlap), self._run
        )

    def predict_tiles(self, tiles: np.ndarray, head: str | None = None) -> np.ndarray:
        """B x T x T x 3 uint8 tiles -> B x C x T x T float32 lesion probabilities (no stitching).

        ``head``: ``"1"``..``"4"``, ``"mean"`` (C = L) or ``"all"`` (C = 4 x L); default: the config's.
        """
        return self._run(tiles, head or self.config.head)

    def _batches(
        self, grid: TileGrid, image: np.ndarray
    ) -> Iterator[tuple[list[tuple[int, int, int, int]], np.ndarray]]:
        boxes = grid.boxes
        step = self.batch_size
        for start in range(0, len(boxes), step):
            chunk = boxes[start : start + step]
            yield chunk, np.stack([grid.extract(image, box) for box in chunk])

    def prepare(self, image: np.ndarray, fov: FovCrop | None = None) -> PreparedImage:
        """The host-side work before the network: check, field of view (Otsu unless given),
        crop, scale and illumination normalisation. Thread-safe: a folder run prepares the
        next photograph while the network works on this one.

        Args:
            image: H x W x 3 uint8 RGB photograph.
            fov: its field of view; detected with Otsu when omitted.
        """
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an H x W x 3 uint8 RGB image, got {image.shape} {image.dtype}")
        return prepare(image, fov or detect_fov(image), self.meta.preprocess)

    def iter_predict(
        self,
        image: np.ndarray,
        fov: FovCrop | None = None,
        spread: bool = False,
        prepared: PreparedImage | None = None,
    ) -> Generator[InferenceProgress, None, LesionProbabilities]:
        """Predict lesion probabilities for one photograph, yielding progress.

        Args:
            image: H x W x 3 uint8 RGB photograph.
            fov: its field of view; detected with Otsu when omitted.
            spread: also return the heads' disagreement map (no extra network pass).
            prepared: :meth:`prepare`'s result for this image, if already made.

        Yields:
            :class:`InferenceProgress` after the field of view and after every batch.

        Returns:
            :class:`LesionProbabilities` at H x W.
        """
        head = f"{self.config.head}+spread" if spread else self.config.head
        levels, fov, tiles = yield from self._iter_levels(prepared or self.prepare(image, fov), head)
        if spread:
            return LesionProbabilities(levels[: len(LESIONS)], fov, tiles, spread=levels[len(LESIONS)])
        return LesionProbabilities(probs=levels, fov=fov, tiles_run=tiles)

    def iter_predict_all_heads(
        self, image: np.ndarray, fov: FovCrop | None = None
    ) -> Generator[InferenceProgress, None, HeadProbabilities]:
        """Like :meth:`iter_predict`, returning all four heads (4 x L x H x W uint8)."""
        levels, fov, tiles = yield from self._iter_levels(self.prepare(image, fov), "all")
        return HeadProbabilities(
            probs=levels.reshape(4, len(LESIONS), *levels.shape[1:]), fov=fov, tiles_run=tiles
        )

    def _iter_levels(
        self, prepared: PreparedImage, head: str
    ) -> Generator[InferenceProgress, None, tuple[np.ndarray, FovCrop, int]]:
        """Shared body: C x H x W uint8 levels (C = L, or 4 x L for all heads)."""
        tiling = self.config.tiling
        grid = TileGrid(prepared.shape, tiling, prepared.mask)
        channels = len(LESIONS) * 4 if head == "all" else len(LESIONS) + head.endswith("+spread")
        stitcher = self._stitcher(prepared.shape, channels)
        done = 0
        yield InferenceProgress(done, len(grid))
        for boxes, tiles in self._batches(grid, prepared.image):
            stitcher.add_batch(boxes, tiles, head)
            done += len(boxes)
            yield InferenceProgress(done, len(grid))
        levels = stitcher.levels(prepared.mask)
        return restore(levels, prepared), prepared.fov, len(grid)

    def predict(
        self,
        image: np.ndarray,
        fov: FovCrop | None = None,
        on_progress: Callable[[InferenceProgress], None] | None = None,
        prepared: PreparedImage | None = None,
    ) -> LesionProbabilities:
        """Run :meth:`iter_predict` to the end, reporting progress to ``on_progress``."""
        return run_to_end(self.iter_predict(image, fov, prepared=prepared), on_progress)

    def predict_all_heads(self, image: np.ndarray, fov: FovCrop | None = None) -> HeadProbabilities:
        """Run :meth:`iter_predict_all_heads` to the end."""
        return run_to_end(self.iter_predict_all_heads(image, fov))


def check_finite(probs: np.ndarray, model_name: str) -> None:
    """Refuse NaN or infinite probabilities: they would become all-zero maps, an "all clear".

    Raises:
        LesionLensError: naming the model.
    """
    if not np.isfinite(probs).all():
        raise LesionLensError(
            f"model {model_name} produced non-finite probabilities (NaN or infinity); its weights are "
            "damaged. No map was written: use another model file"
        )


class _HostStitcher:
    """Tiles through the network, blended in host memory (CPU backends)."""

    def __init__(self, stitcher: Stitcher, run: Callable[[np.ndarray, str], np.ndarray]) -> None:
        self._stitcher = stitcher
        self._run = run

    def add_batch(self, boxes: list[tuple[int, int, int, int]], tiles: np.ndarray, head: str) -> None:
        for box, prediction in zip(boxes, self._run(tiles, head), strict=True):
            self._stitcher.add(box, prediction)

    def levels(self, mask: np.ndarray) -> np.ndarray:
        """C x H x W uint8 (probability x 255, rounded), zero where ``mask`` is False."""
        probs = self._stitcher.finalize()
        levels = np.empty(probs.shape, np.uint8)
        for channel in range(probs.shape[0]):  # in place, one channel at a time: no second float copy
            scaled = probs[channel]
            np.multiply(scaled, 255.0, out=scaled)
            np.add(scaled, 0.5, out=scaled)
            np.clip(scaled, 0, 255, out=scaled)
            levels[channel] = scaled.astype(np.uint8) * mask
        return levels


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
