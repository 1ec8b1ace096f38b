"""Choosing heads from every head's probabilities (the OpenVINO backend's last step)."""

from __future__ import annotations

import numpy as np
import pytest

from core.network.tile_network import select_heads


@pytest.fixture
def heads(rng: np.random.Generator) -> np.ndarray:
    return rng.random((4, 2, 4, 8, 8), dtype=np.float32)  # heads x B x L x T x T


def test_one_head_and_the_mean(heads: np.ndarray) -> None:
    np.testing.assert_array_equal(select_heads(heads, "3"), heads[2])
    np.testing.assert_allclose(select_heads(heads, "mean"), heads.mean(axis=0), rtol=1e-6)


def test_all_heads_are_head_major(heads: np.ndarray) -> None:
    every = select_heads(heads, "all")
    assert every.shape == (2, 16, 8, 8)
    np.testing.assert_array_equal(every[:, 4:8], heads[1])


def test_spread_is_the_largest_range_over_lesions(heads: np.ndarray) -> None:
    out = select_heads(heads, "mean+spread")
    assert out.shape == (2, 5, 8, 8)
    b, y, x = 1, 3, 5
    ranges = [heads[:, b, lesion, y, x].max() - heads[:, b, lesion, y, x].min() for lesion in range(4)]
    assert out[b, 4, y, x] == pytest.approx(max(ranges))


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="4 x B x L x T x T"):
        select_heads(np.zeros((3, 1, 4, 8, 8), np.float32), "1")
