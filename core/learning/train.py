"""Training loop: deep-supervision loss, whole-image validation, checkpoints, resume, DDP.

Run directory layout::

    RUN/config.json            the TrainConfig, the data split and the device / dtype it ran on
    RUN/tiles/{train,val}/     memory-mapped tile caches
    RUN/log.csv                one row per epoch (losses, per-head validation AUPR, lr, time)
    RUN/curves.png             training / validation loss (the paper's Fig. 5) and val mAUPR
    RUN/last.safetensors       weights after the last epoch (+ last_state.pt: optimiser etc.)
    RUN/best.safetensors       best validation mAUPR so far; without validation images (the
                               final model on every photograph) the weights after the last epoch

Multi-process: started by ``torchrun``, every rank trains on its shard of the tiles
(``DistributedSampler``) and rank 0 validates, logs and saves.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, SequentialSampler

from core.config import NUM_HEADS, InferenceConfig, ModelConfig, TilingConfig
from core.data.datasets import Sample
from core.errors import CheckpointError, LesionLensError
from core.imaging.io import atomic_path, write_json
from core.inference.predictor import Predictor
from core.learning.augment import augment_batch
from core.learning.losses import deep_supervision_loss
from core.learning.train_config import EpochRecord, TrainConfig
from core.learning.training_data import TileCache, TileDataset, collate_tiles
from core.lesions import LESIONS
from core.network.checkpoint import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    CheckpointMeta,
    load_checkpoint,
    save_checkpoint,
)
from core.network.model import UNetPlusPlus, load_vgg16_bn_encoder
from core.network.torch_network import resolve_device, resolve_precision
from core.scoring.metrics import PRAccumulator

log = logging.getLogger(__name__)


def _distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend)
        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    rank = dist.get_rank() if dist.is_initialized() else 0
    return rank, world


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def validate_images(
    model: UNetPlusPlus, samples: list[Sample], meta: CheckpointMeta, tiling: TilingConfig, device: str
) -> dict[str, PRAccumulator]:
    """Whole-image validation: pooled PR histograms per head ("1".."4") and their mean."""
    config = InferenceConfig(tiling=tiling, device=device, backend="torch")
    predictor = Predictor.from_model(model, meta, config)
    accumulators = {key: PRAccumulator() for key in ("1", "2", "3", "4", "mean")}
    for sample in samples:
        image, masks = sample.load()
        heads = predictor.predict_all_heads(image)
        for number in range(1, NUM_HEADS + 1):
            accumulators[str(number)].add(heads.probs[number - 1], masks)
        accumulators["mean"].add(heads.mean().probs, masks)
    return accumulators


def _tile_loss(
    model: nn.Module,
    loader: DataLoader,
    weight: torch.Tensor | None,
    device: torch.device,
    dtype: torch.dtype,
    loss_name: str = "ce",
) -> float:
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad(), torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
        for images, labels in loader:
            images = _normalise(images.to(device))
            loss = deep_supervision_loss(model(images), labels.to(device), weight, loss_name)
            total += loss.item() * len(labels)
            count += len(labels)
    return total / max(1, count)


_MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def _start_from_model_file(model: UNetPlusPlus, path: str, width: float) -> None:
    """Copy a LesionLens model file's weights into ``model`` (same width) before training."""
    loaded = load_checkpoint(path)
    if loaded.meta.model.width != width:
        raise LesionLensError(
            f"{path}: a width-{loaded.meta.model.width} model cannot start a width-{width} training; "
            "pass --width to match it"
        )
    assert loaded.model is not None
    model.load_state_dict(loaded.model.state_dict())
    log.info("starting from the weights of %s (%s)", path, loaded.sha256[:12])


def _normalise(images: torch.Tensor) -> torch.Tensor:
    return (images - _MEAN.to(images.device)) / _STD.to(images.device)


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


class Trainer:
    """One training run in ``run_dir``; :meth:`fit` resumes from ``last_state.pt`` if present."""

    def __init__(
        self,
        config: TrainConfig,
        train_samples: list[Sample],
        val_samples: list[Sample],
        run_dir: Path,
        data_note: str = "",
        on_epoch: Callable[[EpochRecord], None] | None = None,
    ) -> None:
        self.config = config
        self.train_samples = train_samples
        self.val_samples = val_samples
        self.run_dir = Path(run_dir)
        self.data_note = data_note
        self.on_epoch = on_epoch
        self.rank, self.world = _distributed()
        self.device = resolve_device(config.device)
        if self.world > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        self.dtype = resolve_precision(config.precision, self.device, training=True)
        if self.dtype == torch.float16 and self.device.type == "cpu":
            self.dtype = torch.bfloat16

    def _meta(self, records: list[EpochRecord], best: dict[str, Any]) -> CheckpointMeta:
        return CheckpointMeta(
            name=f"unetpp-vgg16bn-w{self.config.width:g}-t{self.config.tiles.tile_size}",
            model=ModelConfig(width=self.config.width),
            train_tile_size=self.config.tiles.tile_size,
            preprocess=self.config.tiles.preprocess,
            trained=True,
            training_data=self.data_note,
            metrics={"validation": best, "epochs_done": len(records)},
            notes="Trained by LesionLens. A review aid, not for diagnosis.",
        )

    def _build_caches(self) -> tuple[TileCache, TileCache | None]:
        tiles_dir = self.run_dir / "tiles"
        if self.rank == 0:

            def report(i: int, n: int, s: Sample) -> None:
                log.info("tile cache: %d/%d %s", i, n, s.stem)

            TileCache.build(self.train_samples, tiles_dir / "train", self.config.tiles, report)
            lesion_tiles_only = replace(
                self.config.tiles, keep_empty_fraction=0.0, edge_negatives=False, bright_negatives=0.0
            )
            if self.val_samples:
                TileCache.build(self.val_samples, tiles_dir / "val", lesion_tiles_only)
        _barrier()
        val_cache = TileCache(tiles_dir / "val") if self.val_samples else None
        return TileCache(tiles_dir / "train"), val_cache

    def fit(self) -> Path:
        """Train to ``config.epochs``; returns the best checkpoint's path (rank 0)."""
        config = self.config
        torch.manual_seed(config.seed + self.rank)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self.rank == 0:
            write_json(
                self.run_dir / "config.json",
                {
                    "train": config.to_dict(),
                    "train_images": [s.stem for s in self.train_samples],
                    "val_images": [s.stem for s in self.val_samples],
                    "data": self.data_note,
                    "compute": {"device": self.device.type, "dtype": str(self.dtype).removeprefix("torch.")},
                },
            )
        train_cache, val_cache = self._build_caches()
        if len(train_cache) == 0:
            raise LesionLensError("no training tile holds a lesion; check the masks or keep empty tiles")
        dataset = TileDataset(train_cache)
        sampler = (
            DistributedSampler(dataset, self.world, self.rank, shuffle=True, seed=config.seed)
            if self.world > 1
            else RandomSampler(dataset, generator=torch.Generator().manual_seed(config.seed))
        )
        loader = DataLoader(
            dataset, config.batch_size, sampler=sampler, collate_fn=collate_tiles, drop_last=True
        )
        val_loader = (
            DataLoader(
                TileDataset(val_cache),
                64,
                sampler=SequentialSampler(TileDataset(val_cache)),
                collate_fn=collate_tiles,
            )
            if val_cache is not None
            else None
        )
        model = UNetPlusPlus(ModelConfig(width=config.width)).to(self.device)
        if config.encoder_weights:
            load_vgg16_bn_encoder(model, config.encoder_weights)
        if config.init_weights:
            _start_from_model_file(model, config.init_weights, config.width)
        wrapped: nn.Module = DistributedDataParallel(model) if self.world > 1 else model
        optimiser = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        steps_per_epoch = (
            len(loader)
            if config.max_steps_per_epoch is None
            else min(len(loader), config.max_steps_per_epoch)
        )
        total_steps = max(1, steps_per_epoch * config.epochs)
        warmup = max(1, int(config.warmup_fraction * total_steps))
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, lambda s: _lr_factor(s, total_steps, warmup))
        weight = torch.tensor(config.class_weights, device=self.device) if config.class_weights else None
        state_path = self.run_dir / "last_state.pt"
        records: list[EpochRecord] = []
        start_epoch, best = 0, {"mauprs": -1.0}
        if state_path.exists():
            start_epoch, records, best = self._resume(state_path, model, optimiser, scheduler)
        generator = torch.Generator().manual_seed(config.seed * 1000 + self.rank + start_epoch)
        for epoch in range(start_epoch, config.epochs):
            if isinstance(sampler, DistributedSampler):
                sampler.set_epoch(epoch)
            started = time.perf_counter()
            train_loss = self._train_epoch(
                wrapped, loader, optimiser, scheduler, weight, generator, steps_per_epoch
            )
            record = EpochRecord(epoch + 1, train_loss, float("nan"), float(scheduler.get_last_lr()[0]), 0.0)
            if self.rank == 0:
                if val_loader is not None:
                    record.val_loss = _tile_loss(
                        model, val_loader, weight, self.device, self.dtype, config.loss
                    )
                if (epoch + 1) % config.val_every == 0 or epoch + 1 == config.epochs:
                    best = self._validate(model, record, best, records)
                record.seconds = time.perf_counter() - started
                records.append(record)
                self._save_last(model, optimiser, scheduler, epoch + 1, records, best)
                if self.on_epoch:
                    self.on_epoch(record)
                log.info(
                    "epoch %d/%d: train %.4f val %.4f (%.0f s)",
                    epoch + 1,
                    config.epochs,
                    train_loss,
                    record.val_loss,
                    record.seconds,
                )
            _barrier()
        if self.rank == 0 and not self.val_samples:
            save_checkpoint(
                self.run_dir / "best.safetensors", model, self._meta(records, best), dtype=torch.float32
            )
            log.info("no validation images: best.safetensors is the model after epoch %d", len(records))
        if dist.is_initialized():
            dist.destroy_process_group()
        return self.run_dir / "best.safetensors"

    def _train_epoch(
        self,
        model: nn.Module,
        loader: DataLoader,
        optimiser: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        weight: torch.Tensor | None,
        generator: torch.Generator,
        steps: int,
    ) -> float:
        from tqdm import tqdm

        model.train()
        total, count = 0.0, 0
        bar = tqdm(total=steps, unit="step", leave=False, disable=None if self.rank == 0 else True)
        for step, (images, labels) in enumerate(loader):
            if step >= steps:
                break
            bar.update()
            images, labels = augment_batch(images, labels, self.config.augment, generator)
            images, labels = _normalise(images.to(self.device)), labels.to(self.device)
            with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32):
                outputs = model(images)
            loss = deep_supervision_loss(outputs, labels, weight, self.config.loss)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            scheduler.step()
            total += loss.item() * len(labels)
            count += len(labels)
            bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
        bar.close()
        return total / max(1, count)

    def _validate(
        self, model: UNetPlusPlus, record: EpochRecord, best: dict[str, Any], records: list[EpochRecord]
    ) -> dict[str, Any]:
        if not self.val_samples:
            return best
        meta = self._meta(records, best)
        accumulators = validate_images(
            model, self.val_samples, meta, self.config.val_tiling, str(self.device)
        )
        model.train()
        for head, acc in accumulators.items():
            record.val_aupr[head] = {lesion.code: acc.aupr(lesion) for lesion in LESIONS}
            record.val_aupr[head]["mAUPR"] = float(np.nanmean(list(record.val_aupr[head].values())))
        head, scores = max(record.val_aupr.items(), key=lambda item: item[1]["mAUPR"])
        if scores["mAUPR"] > best["mauprs"]:
            summary = accumulators[head].summary()
            best = {
                "mauprs": scores["mAUPR"],
                "epoch": record.epoch,
                "head": head,
                "aupr": scores,
                "per_head_aupr": record.val_aupr,
                "images": [sample.stem for sample in self.val_samples],
                "best_f1_thresholds": {
                    code: summary[code]["best_threshold"] for code in summary if code != "mean"
                },
                "default_thresholds": {
                    code: summary[code]["precise_threshold"] for code in summary if code != "mean"
                },
            }
            meta = replace(
                self._meta([*records, record], best),
                default_thresholds={c: float(t) for c, t in best["default_thresholds"].items()},
                default_head=head,
            )
            save_checkpoint(self.run_dir / "best.safetensors", model, meta)
            log.info("new best: mAUPR %.4f (head %s, epoch %d)", scores["mAUPR"], head, record.epoch)
        return best

    def _save_last(
        self,
        model: UNetPlusPlus,
        optimiser: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
        epoch: int,
        records: list[EpochRecord],
        best: dict[str, Any],
    ) -> None:
        save_checkpoint(
            self.run_dir / "last.safetensors", model, self._meta(records, best), dtype=torch.float32
        )
        state = {
            "epoch": epoch,
            "optimiser": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
            "records": json.dumps([asdict(r) for r in records]),
            "best": json.dumps(best),
        }
        with atomic_path(self.run_dir / "last_state.pt") as tmp:
            torch.save(state, tmp)
        self._write_log(records)

    def _resume(
        self,
        state_path: Path,
        model: UNetPlusPlus,
        optimiser: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler,
    ) -> tuple[int, list[EpochRecord], dict[str, Any]]:
        from core.network.checkpoint import load_checkpoint

        try:
            state = torch.load(state_path, map_location=self.device, weights_only=True)
            loaded = load_checkpoint(self.run_dir / "last.safetensors")
        except (OSError, RuntimeError, CheckpointError) as exc:
            raise LesionLensError(
                f"{state_path}: cannot resume ({exc}); delete the run folder to start over"
            ) from exc
        model.load_state_dict(loaded.model.state_dict())
        optimiser.load_state_dict(state["optimiser"])
        scheduler.load_state_dict(state["scheduler"])
        records = [EpochRecord(**r) for r in json.loads(state["records"])]
        log.info("resuming %s after epoch %d", self.run_dir, state["epoch"])
        return int(state["epoch"]), records, json.loads(state["best"])

    def _write_log(self, records: list[EpochRecord]) -> None:
        rows = [r.row() for r in records]
        fields = list(dict.fromkeys(k for row in rows for k in row))
        with atomic_path(self.run_dir / "log.csv") as tmp, open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fields)
            writer.writeheader()
            writer.writerows(rows)
        from core.scoring.plots import plot_training_curves

        plot_training_curves(records, self.run_dir / "curves.png")
