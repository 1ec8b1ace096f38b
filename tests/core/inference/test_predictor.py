from __future__ import annotations

import numpy as np
import pytest
import torch

from core.config import InferenceConfig, TilingConfig
from core.imaging.fov import detect_fov
from core.imaging.probability_maps import LesionProbabilities
from core.inference.predictor import InferenceProgress, Predictor
from core.lesions import Lesion


def _predictor(
    loaded,
    tile: int = 64,
    overlap: int = 16,
    batch: int = 4,
    precision: str = "fp32",
    head: str = "4",
    backend: str = "torch",
) -> Predictor:
    config = InferenceConfig(
        tiling=TilingConfig(tile, overlap, "smooth"),
        batch_size=batch,
        device="cpu",
        precision=precision,
        head=head,
        backend=backend,
    )  # type: ignore[arg-type]
    return Predictor.from_loaded(loaded, config)


def test_maps_have_the_photograph_size_and_zero_outside_fov(tiny_loaded, small_fundus) -> None:
    result = _predictor(tiny_loaded).predict(small_fundus.image)
    assert isinstance(result, LesionProbabilities)
    assert result.probs.shape == (4, 240, 360) and result.probs.dtype == np.uint8
    assert not result.probs[:, ~result.fov.mask].any()
    assert result.probs[:, result.fov.mask].any()
    assert result[Lesion.EX].shape == (240, 360)
    assert result.as_float(Lesion.MA).max() <= 1.0


def test_single_tile_equals_a_direct_forward_pass(tiny_loaded) -> None:
    """Normalisation, channel mapping, crop and uncrop checked against the bare model."""
    from core.data.synthetic import synth_fundus

    image = synth_fundus(100, 120, seed=2, clip_fov=False).image
    fov = detect_fov(image)
    result = _predictor(tiny_loaded, tile=128, overlap=0).predict(image, fov=fov)
    crop = fov.crop(image)
    padded = np.zeros((128, 128, 3), np.uint8)
    padded[: crop.shape[0], : crop.shape[1]] = crop
    meta = tiny_loaded.meta
    x = (
        torch.from_numpy(padded).permute(2, 0, 1)[None].float() / 255
        - torch.tensor(meta.mean).view(1, 3, 1, 1)
    ) / torch.tensor(meta.std).view(1, 3, 1, 1)
    with torch.no_grad():
        probs = tiny_loaded.model.predict(x)[0, 2:6, : crop.shape[0], : crop.shape[1]].numpy()
    expected = np.clip(probs * 255 + 0.5, 0, 255).astype(np.uint8) * fov.crop(fov.mask)
    got = fov.crop_channels_first(result.probs)
    assert np.abs(got.astype(int) - expected).max() <= 1  # fused BN rounding


def test_progress_counts_up_to_the_total(tiny_loaded, small_fundus) -> None:
    seen: list[InferenceProgress] = []
    _predictor(tiny_loaded, batch=3).predict(small_fundus.image, on_progress=seen.append)
    assert seen[0].done == 0 and seen[-1].done == seen[-1].total > 0
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert seen[-1].fraction == 1.0


def test_closing_the_generator_stops_the_work(tiny_loaded, small_fundus, monkeypatch) -> None:
    predictor = _predictor(tiny_loaded, batch=1)
    calls = []
    original = predictor.network._forward
    monkeypatch.setattr(
        predictor.network, "_forward", lambda tiles, head: calls.append(len(tiles)) or original(tiles, head)
    )
    generator = predictor.iter_predict(small_fundus.image)
    next(generator)
    next(generator)
    generator.close()
    assert len(calls) == 1
    with pytest.raises(StopIteration):
        next(generator)


def test_batches_never_hold_more_than_batch_size_tiles(tiny_loaded, small_fundus, monkeypatch) -> None:
    predictor = _predictor(tiny_loaded, batch=5)
    sizes = []
    original = predictor.network._forward
    monkeypatch.setattr(
        predictor.network, "_forward", lambda tiles, head: sizes.append(len(tiles)) or original(tiles, head)
    )
    predictor.predict(small_fundus.image)
    assert max(sizes) <= 5 and len(sizes) > 1


def test_bf16_stays_close_to_fp32(tiny_loaded, small_fundus) -> None:
    fp32 = _predictor(tiny_loaded).predict(small_fundus.image).probs.astype(int)
    bf16 = _predictor(tiny_loaded, precision="bf16").predict(small_fundus.image).probs.astype(int)
    assert np.abs(fp32 - bf16).mean() < 2.0
    assert np.abs(fp32 - bf16).max() <= 40


def test_model_is_not_modified_by_the_predictor(tiny_loaded) -> None:
    before = {k: v.clone() for k, v in tiny_loaded.model.state_dict().items()}
    _predictor(tiny_loaded)
    after = tiny_loaded.model.state_dict()
    assert before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)


def test_wrong_image_type_is_refused(tiny_loaded) -> None:
    with pytest.raises(ValueError, match="H x W x 3 uint8"):
        next(_predictor(tiny_loaded).iter_predict(np.zeros((64, 64), np.uint8)))


def test_all_heads_match_single_head_runs(tiny_loaded, small_fundus) -> None:
    heads = _predictor(tiny_loaded).predict_all_heads(small_fundus.image)
    assert heads.probs.shape == (4, 4, 240, 360)
    for number in (1, 4):
        single = _predictor(tiny_loaded, head=str(number)).predict(small_fundus.image)
        np.testing.assert_array_equal(heads.head(number).probs, single.probs)
    mean = _predictor(tiny_loaded, head="mean").predict(small_fundus.image).probs.astype(int)
    assert np.abs(heads.mean().probs.astype(int) - mean).max() <= 2  # uint8 rounding of each head


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_spread_is_the_heads_disagreement(tiny_loaded, small_fundus, backend: str) -> None:
    """Per tile, the extra channel is max over lesions of (max - min over the four heads)."""
    from core.config import InferenceConfig, TilingConfig
    from core.inference.predictor import Predictor, run_to_end

    config = InferenceConfig(
        tiling=TilingConfig(tile_size=64, overlap=16),
        device="cpu",
        precision="fp32",
        head="2",
        backend=backend,  # type: ignore[arg-type]
    )
    predictor = Predictor.from_loaded(tiny_loaded, config)
    tiles = np.stack([small_fundus.image[0:64, 100:164], small_fundus.image[100:164, 150:214]])
    heads = predictor.predict_tiles(tiles, head="all").reshape(2, 4, 4, 64, 64)  # B x heads x L x T x T
    extra = predictor.predict_tiles(tiles, head="2+spread")
    np.testing.assert_allclose(extra[:, :4], heads[:, 1], atol=1e-6)
    expected = (heads.max(axis=1) - heads.min(axis=1)).max(axis=1)
    np.testing.assert_allclose(extra[:, 4], expected, atol=1e-6)
    both = run_to_end(predictor.iter_predict(small_fundus.image, spread=True))
    np.testing.assert_array_equal(both.probs, predictor.predict(small_fundus.image).probs)
    assert both.spread is not None and both.spread.shape == both.probs.shape[1:]
    assert both.spread.any() and not both.spread[~both.fov.mask].any()


def test_flip_tta_averages_the_mirrored_prediction(tiny_loaded) -> None:
    rng = np.random.default_rng(3)
    tiles = rng.integers(0, 255, (2, 64, 64, 3), dtype=np.uint8)
    tiling = TilingConfig(64, 16)
    plain = Predictor.from_loaded(tiny_loaded, InferenceConfig(tiling=tiling, device="cpu", precision="fp32"))
    tta = Predictor.from_loaded(
        tiny_loaded, InferenceConfig(tiling=tiling, device="cpu", precision="fp32", flip_tta=True)
    )
    direct = plain.predict_tiles(tiles)
    mirrored = plain.predict_tiles(np.ascontiguousarray(tiles[:, :, ::-1]))[..., ::-1]
    np.testing.assert_allclose(tta.predict_tiles(tiles), (direct + mirrored) / 2, atol=1e-5)
    assert not np.allclose(direct, mirrored, atol=1e-3)  # the mirror is a different view


def test_model_preprocessing_is_applied_and_maps_keep_the_photograph_size(tiny_model) -> None:
    from dataclasses import replace

    from core.config import PreprocessConfig
    from core.data.synthetic import synth_fundus
    from core.network.checkpoint import CheckpointMeta

    fundus = synth_fundus(480, 720, seed=2)
    meta = CheckpointMeta(name="t", model=tiny_model.config)
    scaled = replace(meta, preprocess=PreprocessConfig(fov_diameter=256, illumination=True))
    config = InferenceConfig(tiling=TilingConfig(64, 16), device="cpu", precision="fp32")
    native = Predictor.from_model(tiny_model, meta, config).predict(fundus.image)
    small = Predictor.from_model(tiny_model, scaled, config).predict(fundus.image)
    assert small.probs.shape == native.probs.shape == (4, 480, 720)
    assert small.tiles_run < native.tiles_run  # the field of view was shrunk to 256 px
    assert (small.probs[:, ~small.fov.mask] == 0).all()
