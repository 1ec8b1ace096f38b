"""A training run's definition is validated when made; an epoch's log row is flat and rounded."""

from __future__ import annotations

import pytest

from core.learning.train_config import EpochRecord, TrainConfig


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"loss": "hinge"}, "loss 'hinge'"),
        ({"epochs": 0}, "must be >= 1"),
        ({"batch_size": 0}, "must be >= 1"),
        ({"class_weights": (1.0, 2.0)}, "six|6 values"),
    ],
)
def test_a_bad_run_definition_is_refused(values: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**values)


def test_the_definition_is_json_friendly() -> None:
    config = TrainConfig(init_weights="model.safetensors")
    data = config.to_dict()
    assert (
        data["init_weights"] == "model.safetensors" and data["tiles"]["tile_size"] == config.tiles.tile_size
    )


def test_an_epoch_row_is_flat_and_rounded() -> None:
    record = EpochRecord(3, 0.123456, 0.2, 1e-3, 12.34, {"4": {"MA": 0.123456, "mAUPR": 0.5}})
    row = record.row()
    assert row["epoch"] == 3 and row["train_loss"] == 0.12346 and row["h4_MA"] == 0.1235
    assert row["lr"] == "0.001" and row["h4_mAUPR"] == 0.5
