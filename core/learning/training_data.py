"""Training tiles the paper's way (METHOD.md steps 1-4) in an on-disk, memory-mapped cache.

Per photograph: FOV crop, six-class label map, square tiles over the crop, tiles without a
lesion pixel dropped (a configurable fraction kept). Tiles are appended to two raw uint8
files (``images.u8``: N x T x T x 3, ``labels.u8``: N x T x T) described by ``cache.json``;
epochs read them through ``np.memmap`` instead of decoding JPEGs again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

import core
from core.config import PreprocessConfig, TilingConfig
from core.data.datasets import Sample
from core.imaging.fov import detect_fov
from core.imaging.io import write_json
from core.imaging.preprocess import prepare, prepare_masks
from core.imaging.tiling import TileGrid
from core.learning.camera_variation import vary_camera
from core.lesions import LESIONS, PAINT_ORDER, Lesion, TrainingClass

log = logging.getLogger(__name__)

CACHE_VERSION = 4  # 3: the image border counts as field-of-view edge; 4: the dark periphery is field of view


@dataclass(frozen=True)
class TileCacheConfig:
    """How training tiles are cut.

    Attributes:
        tile_size: tile side (multiple of 32; the paper's best is 64).
        stride: step between tiles; ``tile_size`` = no overlap.
        keep_empty_fraction: fraction of lesion-free tiles kept at random (the paper: 0).
        edge_negatives: also keep every lesion-free tile that holds field-of-view boundary
            pixels, including the straight sides where the photograph clips the circle
            (hard negatives for the rim, where unseen tissue was flagged as lesions).
        bright_negatives: also keep this fraction of each photograph's lesion-free tiles,
            the brightest ones (optic disc, light reflexes: hard negatives for exudates).
        dark_negatives: also keep this fraction of each photograph's lesion-free tiles, the
            darkest inside the field of view (fovea, large vessels and their crossings: hard
            negatives for haemorrhages).
        seed: which lesion-free tiles are kept.
        preprocess: field-of-view scale and illumination normalisation (as at inference).
        camera_share: share of each photograph's tiles cut from a copy of it as a random
            other camera took it (:func:`core.learning.camera_variation.vary_camera`),
            the rest from the photograph itself (0 = off).
    """

    tile_size: int = 64
    stride: int = 64
    keep_empty_fraction: float = 0.0
    edge_negatives: bool = False
    bright_negatives: float = 0.0
    dark_negatives: float = 0.0
    seed: int = 0
    preprocess: PreprocessConfig = PreprocessConfig()
    camera_share: float = 0.0

    def __post_init__(self) -> None:
        TilingConfig(tile_size=self.tile_size, overlap=max(0, self.tile_size - self.stride))
        if not 0 < self.stride <= self.tile_size:
            raise ValueError(f"stride {self.stride}: use 1..tile size {self.tile_size}")
        if not 0.0 <= self.keep_empty_fraction <= 1.0:
            raise ValueError(f"keep_empty_fraction {self.keep_empty_fraction}: use 0..1")
        if not 0.0 <= self.bright_negatives <= 1.0:
            raise ValueError(f"bright_negatives {self.bright_negatives}: use 0..1")
        if not 0.0 <= self.dark_negatives <= 1.0:
            raise ValueError(f"dark_negatives {self.dark_negatives}: use 0..1")
        if not 0.0 <= self.camera_share <= 1.0:
            raise ValueError(f"camera_share {self.camera_share}: use 0..1")


def fov_boundary(fov_mask: np.ndarray) -> np.ndarray:
    """FOV pixels next to the outside: the rim and the sides where the image clips the circle.

    Args:
        fov_mask: H x W bool.

    Returns:
        H x W bool, True on FOV pixels with a 3 x 3 neighbour outside the FOV or the image.
    """
    fov = fov_mask.astype(np.uint8)
    kernel = np.ones((3, 3), np.uint8)
    inner = cv2.erode(fov, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    return fov_mask & (inner == 0)


def cut_tiles(
    image: np.ndarray,
    labels: np.ndarray,
    fov_mask: np.ndarray,
    config: TileCacheConfig,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Tiles of one photograph.

    Args:
        image: H x W x 3 uint8 (already FOV-cropped).
        labels: H x W uint8 six-class label map.
        fov_mask: H x W bool.
        config: tile size, stride, kept fraction of empty tiles.
        rng: random source for the empty tiles kept.

    Returns:
        (N x T x T x 3 uint8 tiles, N x T x T uint8 labels); every tile holds a lesion
        pixel unless it is one of the kept empty tiles.
    """
    tiling = TilingConfig(tile_size=config.tile_size, overlap=config.tile_size - config.stride)
    grid = TileGrid(labels.shape, tiling, fov_mask)
    boundary = fov_boundary(fov_mask) if config.edge_negatives else None
    first_lesion = int(TrainingClass.MA)
    keep: list[bool] = []
    brightness: list[float] = []
    darkness: list[float] = []
    for box in grid:
        label_tile = grid.extract(labels, box)
        has_lesion = bool(label_tile.max() >= first_lesion)
        inside = float(grid.extract(fov_mask, box).mean())
        is_edge = boundary is not None and inside >= 0.02 and bool(grid.extract(boundary, box).any())
        keep.append(has_lesion or is_edge or rng.random() < config.keep_empty_fraction)
        # brightness of a lesion-free tile: 99th percentile of green, the channel where the
        # optic disc and reflexes stand out; lesion tiles never compete (-1)
        tile_green = grid.extract(image, box)[..., 1]
        brightness.append(-1.0 if has_lesion else float(np.percentile(tile_green, 99)))
        # darkness: mean green inside the field of view, for tiles mostly inside it (the
        # black outside would make every edge tile the darkest; those are edge negatives)
        inside_green = tile_green[grid.extract(fov_mask, box)]
        darkness.append(-1.0 if has_lesion or inside < 0.9 else 255.0 - float(inside_green.mean()))
    for fraction, score in ((config.bright_negatives, brightness), (config.dark_negatives, darkness)):
        if fraction <= 0:
            continue
        empty = [i for i, value in enumerate(score) if value >= 0]
        count = round(fraction * len(empty))
        for index in sorted(empty, key=lambda i: score[i], reverse=True)[:count]:
            keep[index] = True
    boxes = [box for box, kept in zip(grid, keep, strict=True) if kept]
    size = config.tile_size
    if not boxes:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros((0, size, size), np.uint8)
    tiles = np.stack([grid.extract(image, b) for b in boxes])
    return tiles, np.stack([grid.extract(labels, b) for b in boxes])


def _prepared_tiles(
    image: np.ndarray, masks: dict[Lesion, np.ndarray], config: TileCacheConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    prepared = prepare(image, detect_fov(image), config.preprocess)
    labels = build_label_map(prepared.mask, prepare_masks(masks, prepared))
    return cut_tiles(prepared.image, labels, prepared.mask, config, rng)


def photograph_tiles(
    image: np.ndarray, masks: dict[Lesion, np.ndarray], config: TileCacheConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One photograph's training tiles (a ``camera_share`` of them from another camera's copy).

    Args:
        image: H x W x 3 uint8 RGB photograph.
        masks: H x W bool lesion masks.
        config: tiling, preprocessing and camera share.
        rng: random source (empty tiles kept, the camera drawn, tiles taken from each copy).

    Returns:
        (N x T x T x 3 uint8 tiles, N x T x T uint8 labels).
    """
    tiles, maps = _prepared_tiles(image, masks, config, rng)
    if config.camera_share <= 0:
        return tiles, maps
    varied_tiles, varied_maps = _prepared_tiles(vary_camera(image, rng), masks, config, rng)
    keep_original = rng.random(len(tiles)) >= config.camera_share
    take_varied = rng.random(len(varied_tiles)) < config.camera_share
    return (
        np.concatenate([tiles[keep_original], varied_tiles[take_varied]]),
        np.concatenate([maps[keep_original], varied_maps[take_varied]]),
    )


def _key(samples: Sequence[Sample], config: TileCacheConfig) -> str:
    text = json.dumps(
        {"v": CACHE_VERSION, "config": asdict(config), "images": [str(s.image) for s in samples]},
        sort_keys=True,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class TileCache:
    """A built tile cache, memory-mapped read-only."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "cache.json").read_text())
        count, size = self.meta["count"], self.meta["config"]["tile_size"]
        self.images = np.memmap(self.folder / "images.u8", np.uint8, "r", shape=(count, size, size, 3))
        self.labels = np.memmap(self.folder / "labels.u8", np.uint8, "r", shape=(count, size, size))

    def __len__(self) -> int:
        return int(self.meta["count"])

    def class_pixels(self) -> np.ndarray:
        """Pixels per training class over the whole cache (int64, length 6)."""
        return np.asarray(self.meta["class_pixels"], np.int64)

    @classmethod
    def build(
        cls,
        samples: Sequence[Sample],
        folder: Path,
        config: TileCacheConfig,
        on_image: Callable[[int, int, Sample], None] | None = None,
    ) -> TileCache:
        """Build (or reuse, when the same samples and settings were cached) a tile cache."""
        folder = Path(folder)
        key = _key(samples, config)
        meta_path = folder / "cache.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text())
            if meta.get("key") == key:
                log.info("reusing tile cache %s (%d tiles)", folder, meta["count"])
                return cls(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta_path.unlink(missing_ok=True)  # an interrupted build never looks complete
        rng = np.random.default_rng(config.seed)
        count = 0
        class_pixels = np.zeros(len(TrainingClass), np.int64)
        tiles_with = dict.fromkeys((lesion.code for lesion in LESIONS), 0)
        per_image = {}
        with open(folder / "images.u8", "wb") as image_file, open(folder / "labels.u8", "wb") as label_file:
            for index, sample in enumerate(samples):
                image, masks = sample.load()
                tiles, maps = photograph_tiles(image, masks, config, rng)
                image_file.write(tiles.tobytes())
                label_file.write(maps.tobytes())
                count += len(tiles)
                class_pixels += np.bincount(maps.ravel(), minlength=len(TrainingClass))[: len(TrainingClass)]
                per_image[sample.stem] = len(tiles)
                for lesion in LESIONS:
                    value = int(TrainingClass.for_lesion(lesion))
                    tiles_with[lesion.code] += int((maps == value).any(axis=(1, 2)).sum())
                if on_image is not None:
                    on_image(index + 1, len(samples), sample)
        meta = {
            "key": key,
            "version": CACHE_VERSION,
            "software": core.__version__,
            "config": asdict(config),
            "count": count,
            "class_pixels": class_pixels.tolist(),
            "tiles_with_lesion": tiles_with,
            "tiles_per_image": per_image,
        }
        write_json(meta_path, meta)
        log.info("tile cache %s: %d tiles from %d images", folder, count, len(samples))
        return cls(folder)


class TileDataset(torch.utils.data.Dataset):
    """Index -> (T x T x 3 uint8 tile, T x T uint8 labels) from a :class:`TileCache`."""

    def __init__(self, cache: TileCache) -> None:
        self.cache = cache

    def __len__(self) -> int:
        return len(self.cache)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.cache.images[index]), np.asarray(self.cache.labels[index])


def collate_tiles(items: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack tiles: (B x 3 x T x T float 0..1, B x T x T int64)."""
    images = torch.from_numpy(np.stack([i for i, _ in items])).permute(0, 3, 1, 2).float() / 255.0
    labels = torch.from_numpy(np.stack([lab for _, lab in items])).long()
    return images, labels


def build_label_map(fov_mask: np.ndarray, masks: dict[Lesion, np.ndarray]) -> np.ndarray:
    """Six-class label map (METHOD.md step 4).

    Args:
        fov_mask: H x W bool field of view.
        masks: per lesion H x W bool.

    Returns:
        H x W uint8: 0 outside the field of view, 1 other fundus, 2..5 MA/HE/EX/SE; where
        masks overlap, the higher-priority lesion wins (MA > SE > EX > HE). Lesion pixels
        outside the field of view keep their lesion label.
    """
    labels = np.where(fov_mask, np.uint8(TrainingClass.FUNDUS), np.uint8(TrainingClass.BACKGROUND)).astype(
        np.uint8
    )
    for lesion in PAINT_ORDER:
        labels[masks[lesion]] = np.uint8(TrainingClass.for_lesion(lesion))
    return labels
