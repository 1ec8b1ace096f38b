"""The torch backend: devices, precision, batches that shrink after out-of-memory."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import LesionLensError
from core.network.torch_network import resolve_device, resolve_precision
from tests.core.inference.test_predictor import _predictor


def test_out_of_memory_retries_with_smaller_batches(tiny_loaded, small_fundus, monkeypatch) -> None:
    reference = _predictor(tiny_loaded, batch=8).predict(small_fundus.image)
    predictor = _predictor(tiny_loaded, batch=8)
    original = predictor.network._forward

    def limited(tiles: np.ndarray, head: str) -> np.ndarray:
        if len(tiles) > 2:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return original(tiles, head)

    monkeypatch.setattr(predictor.network, "_forward", limited)
    result = predictor.predict(small_fundus.image)
    assert predictor.batch_size == 2
    np.testing.assert_array_equal(result.probs, reference.probs)


def test_out_of_memory_with_one_tile_is_a_clear_error(tiny_loaded, small_fundus, monkeypatch) -> None:
    predictor = _predictor(tiny_loaded, batch=2)

    def always(tiles: np.ndarray, head: str) -> np.ndarray:
        raise torch.OutOfMemoryError("CUDA out of memory")

    monkeypatch.setattr(predictor.network, "_forward", always)
    with pytest.raises(LesionLensError, match="out of memory on cpu even with one 64-px tile"):
        predictor.predict(small_fundus.image)


def test_other_runtime_errors_are_not_swallowed(tiny_loaded, small_fundus, monkeypatch) -> None:
    predictor = _predictor(tiny_loaded)
    monkeypatch.setattr(
        predictor.network, "_forward", lambda tiles, head: (_ for _ in ()).throw(RuntimeError("shape bug"))
    )
    with pytest.raises(RuntimeError, match="shape bug"):
        predictor.predict(small_fundus.image)


def test_device_and_precision_resolution() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(LesionLensError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(LesionLensError, match="not a valid torch device"):
        resolve_device("gpu0")
    cpu = torch.device("cpu")
    assert resolve_precision("fp32", cpu) == torch.float32
    assert resolve_precision("auto", cpu) == torch.float32  # inference: the same masks on every CPU
    assert resolve_precision("auto", cpu, training=True) in (torch.float32, torch.bfloat16)


@pytest.mark.parametrize("spread", [False, True])
def test_stitching_on_the_device_gives_the_host_maps(tiny_loaded, small_fundus, monkeypatch, spread) -> None:
    """The GPU path (tiles blended where the network ran), exercised on the CPU device."""
    from core.inference.predictor import run_to_end
    from core.network.torch_network import TorchNetwork

    host = run_to_end(_predictor(tiny_loaded, batch=3).iter_predict(small_fundus.image, spread=spread))
    monkeypatch.setattr(TorchNetwork, "stitches_on_device", property(lambda self: True))
    predictor = _predictor(tiny_loaded, batch=3)
    device = run_to_end(predictor.iter_predict(small_fundus.image, spread=spread))
    assert np.abs(device.probs.astype(int) - host.probs).max() <= 1
    assert (device.probs != host.probs).mean() < 0.001
    if spread:
        assert np.abs(device.spread.astype(int) - host.spread).max() <= 1
