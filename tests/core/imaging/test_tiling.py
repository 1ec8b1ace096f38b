from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import TilingConfig
from core.imaging.tiling import Stitcher, TileGrid, blending_weights, tile_starts


@given(length=st.integers(1, 700), tile=st.sampled_from([32, 64, 96, 128]), data=st.data())
def test_tile_starts_cover_evenly(length: int, tile: int, data: st.DataObject) -> None:
    overlap = data.draw(st.integers(0, tile - 1))
    starts = tile_starts(length, tile, overlap)
    assert starts[0] == 0
    assert starts[-1] == max(0, length - tile)
    steps = np.diff(starts)
    assert (steps <= tile - overlap).all()  # never less overlap than asked
    assert (steps > 0).all()
    if len(steps):
        assert steps.max() - steps.min() <= 1  # evenly spread


def _identity_stitch(image: np.ndarray, config: TilingConfig) -> np.ndarray:
    grid = TileGrid(image.shape[:2], config)
    stitcher = Stitcher(image.shape[:2], image.shape[2], config.tile_size, config.blending, config.overlap)
    for box in grid:
        stitcher.add(box, np.moveaxis(grid.extract(image, box), -1, 0).astype(np.float32))
    return np.moveaxis(stitcher.finalize(), 0, -1)


@settings(max_examples=60, deadline=None)
@given(
    height=st.integers(1, 300),
    width=st.integers(1, 300),
    tile=st.sampled_from([32, 64, 128, 256]),
    blending=st.sampled_from(["uniform", "smooth"]),
    data=st.data(),
)
def test_identity_predictor_reconstructs_input(
    height: int, width: int, tile: int, blending: str, data: st.DataObject
) -> None:
    overlap = data.draw(st.integers(0, tile - 1))
    image = np.random.default_rng(height * 1000 + width).random((height, width, 2), dtype=np.float32)
    config = TilingConfig(tile_size=tile, overlap=overlap, blending=blending, skip_outside_fov=False)
    # float32 accumulation: near the image's corners the smooth ramps' weights are tiny and the
    # final division amplifies rounding (2e-5 seen); maps are quantised to 1/255 = 4e-3 anyway
    np.testing.assert_allclose(_identity_stitch(image, config), image, rtol=1e-4, atol=1e-4)


def test_tiles_outside_fov_are_skipped() -> None:
    fov = np.zeros((256, 256), bool)
    fov[:64, :64] = True
    grid = TileGrid((256, 256), TilingConfig(64, 0), fov)
    assert grid.total_tiles == 16 and len(grid) == 1 and grid.boxes == [(0, 0, 64, 64)]
    everything = TileGrid((256, 256), TilingConfig(64, 0, skip_outside_fov=False), fov)
    assert len(everything) == 16


def test_a_single_fov_pixel_keeps_its_tile() -> None:
    fov = np.zeros((128, 128), bool)
    fov[127, 127] = True
    assert TileGrid((128, 128), TilingConfig(64, 0), fov).boxes == [(64, 64, 128, 128)]


def test_tile_larger_than_image_is_zero_padded() -> None:
    image = np.ones((20, 30, 3), np.uint8)
    grid = TileGrid((20, 30), TilingConfig(64, 0))
    assert grid.boxes == [(0, 0, 64, 64)]
    tile = grid.extract(image, grid.boxes[0])
    assert tile.shape == (64, 64, 3) and tile.sum() == 20 * 30 * 3


def test_uncovered_pixels_are_zero() -> None:
    stitcher = Stitcher((64, 128), 1, 64, "uniform")
    stitcher.add((0, 0, 64, 64), np.full((1, 64, 64), 0.7, np.float32))
    out = stitcher.finalize()
    assert np.allclose(out[0, :, :64], 0.7) and not out[0, :, 64:].any()


def test_smooth_weights_ramp_over_the_overlap() -> None:
    weights = blending_weights(64, "smooth", 16)
    assert weights[32, 32] == 1.0 and weights.min() > 0
    edge_to_centre = weights[32, :17]
    assert (np.diff(edge_to_centre) > 0).all() and edge_to_centre[0] < 0.01
    assert not weights.flags.writeable
    assert (blending_weights(64, "smooth", 0) == 1).all()


def test_smooth_blending_cross_fades_without_a_step() -> None:
    """Two tiles that disagree (0 and 1) cross-fade monotonically across their overlap."""
    stitcher = Stitcher((64, 96), 1, 64, "smooth", overlap=32)
    stitcher.add((0, 0, 64, 64), np.zeros((1, 64, 64), np.float32))
    stitcher.add((0, 32, 64, 96), np.ones((1, 64, 64), np.float32))
    row = stitcher.finalize()[0, 32]
    assert (row[:32] == 0).all() and (row[64:] == 1).all()
    ramp = row[32:64]
    assert (np.diff(ramp) > 0).all()
    assert np.abs(np.diff(row)).max() < 0.1  # no step anywhere
