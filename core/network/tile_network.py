"""What every inference backend offers: uint8 tiles in, lesion probabilities out.

A backend (:mod:`core.network.torch_network`, :mod:`core.network.openvino_network`) hides where and how the
network runs; :class:`core.inference.predictor.Predictor` only tiles, stitches and maps back. This
module needs numpy only.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from core.config import NUM_HEADS


class TileNetwork(Protocol):
    """A network applied to batches of tiles.

    ``run`` takes B x T x T x 3 uint8 RGB tiles (already prepared: field of view scaled,
    illumination normalised) and returns B x C x T x T float32 lesion probabilities, lesions
    in ``LESIONS`` order. ``head`` is ``"1"``..``"4"`` or ``"mean"`` (C = L), ``"all"``
    (C = 4 x L, head-major) or ``"<head>+spread"`` (C = L + 1, see :func:`select_heads`).
    """

    name: str

    @property
    def batch_size(self) -> int:
        """Tiles worth handing to :meth:`run` at once."""
        ...

    def run(self, tiles: np.ndarray, head: str) -> np.ndarray:
        """B x T x T x 3 uint8 -> B x C x T x T float32 (see the class docstring)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What ran, for output sidecars: backend, device, precision and the like."""
        ...


def select_heads(heads: np.ndarray, head: str) -> np.ndarray:
    """4 x B x L x T x T float32 per-head probabilities -> B x C x T x T for ``head``.

    ``"1"``..``"4"``: that head; ``"mean"``: their mean; ``"all"``: the four heads
    concatenated along C (head-major); ``"<head>+spread"``: the chosen head plus one channel,
    the largest range over lesions of the four heads' probabilities (where they disagree).
    """
    if heads.ndim != 5 or heads.shape[0] != NUM_HEADS:
        raise ValueError(f"expected 4 x B x L x T x T head probabilities, got {heads.shape}")
    name, _, extra = head.partition("+")
    if name == "all":
        return np.ascontiguousarray(
            heads.transpose(1, 0, 2, 3, 4).reshape(heads.shape[1], -1, *heads.shape[3:])
        )
    chosen = heads.mean(axis=0) if name == "mean" else heads[int(name) - 1]
    if extra == "spread":
        spread = (heads.max(axis=0) - heads.min(axis=0)).max(axis=1, keepdims=True)
        return np.concatenate([chosen, spread], axis=1)
    return np.ascontiguousarray(chosen)
