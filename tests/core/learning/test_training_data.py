from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.data.datasets import discover
from core.data.synthetic import write_idrid_layout
from core.imaging.fov import detect_fov
from core.imaging.preprocess import prepare, prepare_masks
from core.learning.training_data import (
    TileCache,
    TileCacheConfig,
    build_label_map,
    collate_tiles,
    cut_tiles,
    fov_boundary,
    photograph_tiles,
)
from core.lesions import Lesion, TrainingClass


def test_cut_tiles_drops_lesion_free_tiles(rng: np.random.Generator) -> None:
    image = rng.integers(0, 255, (128, 192, 3), dtype=np.uint8)
    labels = np.ones((128, 192), np.uint8)
    labels[70, 140] = int(TrainingClass.HE)
    fov = np.ones((128, 192), bool)
    tiles, maps = cut_tiles(image, labels, fov, TileCacheConfig(64, 64), rng)
    assert tiles.shape == (1, 64, 64, 3) and maps.shape == (1, 64, 64)
    np.testing.assert_array_equal(tiles[0], image[64:128, 128:192])
    everything, _ = cut_tiles(image, labels, fov, TileCacheConfig(64, 64, keep_empty_fraction=1.0), rng)
    assert len(everything) == 6
    overlapping, _ = cut_tiles(image, labels, fov, TileCacheConfig(64, 32), rng)
    assert len(overlapping) > 1


def test_cache_round_trip_and_reuse(tmp_path: Path) -> None:
    write_idrid_layout(tmp_path / "data", count=2, height=192, width=256, seed=1)
    samples = discover(tmp_path / "data").split("train")
    cache = TileCache.build(samples, tmp_path / "cache", TileCacheConfig(64, 64))
    assert len(cache) > 0 and cache.images.shape[1:] == (64, 64, 3) and cache.labels.shape[1:] == (64, 64)
    assert (cache.labels.reshape(len(cache), -1).max(axis=1) >= int(TrainingClass.MA)).all()
    assert cache.class_pixels().sum() == len(cache) * 64 * 64
    mtime = (tmp_path / "cache" / "images.u8").stat().st_mtime_ns
    again = TileCache.build(samples, tmp_path / "cache", TileCacheConfig(64, 64))
    assert (tmp_path / "cache" / "images.u8").stat().st_mtime_ns == mtime and len(again) == len(cache)
    other = TileCache.build(samples, tmp_path / "cache", TileCacheConfig(64, 64, keep_empty_fraction=1.0))
    assert len(other) > len(cache)  # settings changed: rebuilt


def test_collate_scales_and_orders_channels(rng: np.random.Generator) -> None:
    tile = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    images, labels = collate_tiles([(tile, np.full((64, 64), 2, np.uint8))] * 2)
    assert images.shape == (2, 3, 64, 64) and labels.dtype == torch.long
    assert images[0, 1, 5, 7].item() == pytest.approx(tile[5, 7, 1] / 255)


def test_hard_negatives_keep_edge_and_bright_lesion_free_tiles(rng: np.random.Generator) -> None:
    image = np.full((256, 256, 3), 80, np.uint8)
    image[64:128, 128:192] = 250  # a bright lesion-free tile (an optic disc)
    labels = np.ones((256, 256), np.uint8)
    fov = np.zeros((256, 256), bool)
    fov[16:240, 16:200] = True  # the edge runs through the outer ring of tiles
    labels[~fov] = int(TrainingClass.BACKGROUND)
    labels[10, 10] = int(TrainingClass.EX)
    only_lesions, _ = cut_tiles(image, labels, fov, TileCacheConfig(64, 64), rng)
    assert len(only_lesions) == 1
    edge, edge_maps = cut_tiles(image, labels, fov, TileCacheConfig(64, 64, edge_negatives=True), rng)
    assert len(edge) == 1 + 11  # the lesion tile and the 11 other tiles of the outer ring
    assert (edge_maps == int(TrainingClass.BACKGROUND)).any()
    bright, _ = cut_tiles(image, labels, fov, TileCacheConfig(64, 64, bright_negatives=0.07), rng)
    assert len(bright) == 2  # 7 % of 15 lesion-free tiles: the brightest one
    assert bright[1].min() == 250


def test_dark_negatives_keep_the_darkest_lesion_free_tiles_inside_the_field(rng: np.random.Generator) -> None:
    image = np.full((256, 256, 3), 80, np.uint8)
    image[128:192, 64:128] = 20  # a dark lesion-free tile (a fovea)
    labels = np.ones((256, 256), np.uint8)
    fov = np.zeros((256, 256), bool)
    fov[16:240, 16:200] = True
    labels[~fov] = int(TrainingClass.BACKGROUND)
    labels[70, 70] = int(TrainingClass.HE)
    dark, _ = cut_tiles(image, labels, fov, TileCacheConfig(64, 64, dark_negatives=0.25), rng)
    # 3 lesion-free tiles lie wholly inside the field: a quarter of them is the dark one;
    # edge tiles (black outside the field) never count as dark
    assert len(dark) == 2
    assert dark[1].max() == 20
    with pytest.raises(ValueError, match="dark_negatives"):
        TileCacheConfig(64, 64, dark_negatives=-0.1)


def test_edge_negatives_include_the_sides_where_the_image_clips_the_circle(
    rng: np.random.Generator,
) -> None:
    """IDRiD-like framing: the disc runs off the top and bottom of the photograph."""
    height, width = 256, 384  # 4 x 6 tiles of 64 px
    yy, xx = np.mgrid[:height, :width]
    fov = (yy - 128) ** 2 + (xx - 192) ** 2 <= 160**2  # clipped at top and bottom only
    labels = np.where(fov, int(TrainingClass.FUNDUS), int(TrainingClass.BACKGROUND)).astype(np.uint8)
    tile_index = (yy // 64) * 6 + xx // 64
    image = np.repeat(tile_index[..., None], 3, axis=2).astype(np.uint8)  # each tile its number
    boundary = fov_boundary(fov)
    assert boundary[0, 192] and boundary[-1, 192]  # the straight clipped sides
    assert boundary[128, 32] and not boundary[128, 192]  # the curved rim; the centre
    tiles, _ = cut_tiles(image, labels, fov, TileCacheConfig(64, 64, edge_negatives=True), rng)
    kept = {int(tile[0, 0, 0]) for tile in tiles}
    assert {2, 3, 20, 21} <= kept  # top and bottom middle tiles: FOV up to the image border
    assert not {8, 9, 14, 15} & kept  # the four central tiles


def test_label_map_priority_and_background() -> None:
    fov = np.zeros((4, 4), bool)
    fov[:, :3] = True
    masks = {lesion: np.zeros((4, 4), bool) for lesion in Lesion}
    masks[Lesion.HE][0, :] = True
    masks[Lesion.EX][0, :2] = True
    masks[Lesion.MA][0, 0] = True
    labels = build_label_map(fov, masks)
    assert labels.tolist()[0] == [2, 4, 3, 3]  # MA > EX > HE; lesion outside the FOV keeps its label
    assert labels[1].tolist() == [1, 1, 1, 0]


def _photograph(tmp_path: Path) -> tuple[np.ndarray, dict[Lesion, np.ndarray]]:
    write_idrid_layout(tmp_path / "data", count=1, height=256, width=320, seed=2)
    return discover(tmp_path / "data").split("train")[0].load()


def test_camera_share_zero_cuts_the_photographs_own_tiles(tmp_path: Path) -> None:
    image, masks = _photograph(tmp_path)
    config = TileCacheConfig(64, 64, keep_empty_fraction=1.0)
    tiles, maps = photograph_tiles(image, masks, config, np.random.default_rng(0))
    prepared = prepare(image, detect_fov(image), config.preprocess)
    labels = build_label_map(prepared.mask, prepare_masks(masks, prepared))
    expected, expected_maps = cut_tiles(
        prepared.image, labels, prepared.mask, config, np.random.default_rng(0)
    )
    np.testing.assert_array_equal(tiles, expected)
    np.testing.assert_array_equal(maps, expected_maps)


def test_camera_share_takes_that_share_of_tiles_from_another_cameras_copy(tmp_path: Path) -> None:
    image, masks = _photograph(tmp_path)
    own, own_maps = photograph_tiles(
        image, masks, TileCacheConfig(64, 64, keep_empty_fraction=1.0), np.random.default_rng(0)
    )
    varied, varied_maps = photograph_tiles(
        image,
        masks,
        TileCacheConfig(64, 64, keep_empty_fraction=1.0, camera_share=1.0),
        np.random.default_rng(0),
    )
    assert len(varied) == len(own)  # every tile kept, from the other camera's copy
    lesion = int(TrainingClass.MA)
    # the lesion masks still fit: as many lesion pixels in the copy's tiles as in the original's
    # (the field of view is found again in the blurred copy, so its crop, and with it the tile
    # grid, may move by a pixel or two, and a few rim pixels change between background and fundus)
    own_lesion, varied_lesion = int((own_maps >= lesion).sum()), int((varied_maps >= lesion).sum())
    assert own_lesion > 0 and abs(varied_lesion - own_lesion) <= 0.02 * own_lesion
    assert not np.array_equal(varied, own)
    half, _ = photograph_tiles(
        image,
        masks,
        TileCacheConfig(64, 64, keep_empty_fraction=1.0, camera_share=0.5),
        np.random.default_rng(0),
    )
    from_own = sum(any(np.array_equal(tile, other) for other in own) for tile in half)
    assert 0 < from_own < len(half)


def test_camera_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match="camera_share"):
        TileCacheConfig(64, 64, camera_share=1.5)
