"""Convert a LesionLens model to OpenVINO's format, once per model file (needs torch).

The exported graph takes B x T x T x 3 uint8 RGB tiles and returns 4 x B x L x T x T float32
lesion probabilities (every deep-supervision head, lesions in ``LESIONS`` order): the
normalisation, the BatchNorm folding, the softmax and the model's column smoothing are inside
it, so the OpenVINO side needs numpy only. The file pair (``.xml`` + ``.bin``) records the model
file's sha256 and the export version in its runtime info; :mod:`core.network.openvino_network`
refuses a pair whose record does not match.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import torch
from torch import nn

from core.errors import CheckpointError
from core.lesions import LESIONS, TrainingClass
from core.network.checkpoint import torch_model
from core.network.model import UNetPlusPlus, fuse_batchnorm
from core.network.model_file import LoadedModel
from core.network.openvino_network import EXPORT_VERSION, RT_INFO_KEY, export_name, import_openvino

log = logging.getLogger(__name__)


class _TilesToHeadProbabilities(nn.Module):
    """uint8 NHWC tiles -> 4 x B x L x T x T lesion probabilities of every head."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: UNetPlusPlus, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        super().__init__()
        self.model = fuse_batchnorm(model).float().eval()
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1) * 255.0)
        self.lesion_channels = [int(TrainingClass.for_lesion(lesion)) for lesion in LESIONS]

    def forward(self, tiles: torch.Tensor) -> torch.Tensor:
        batch = (tiles.permute(0, 3, 1, 2).float() - self.mean) / self.std
        return torch.stack([self.model.probabilities(h)[:, self.lesion_channels] for h in self.model(batch)])


def export_openvino(loaded: LoadedModel, folder: str | os.PathLike[str]) -> Path:
    """Write ``folder/<export_name>.xml`` (+ ``.bin``) for ``loaded``; return the ``.xml`` path.

    Written into a temporary folder and renamed into place (the ``.bin`` first), so a reader
    never finds half a pair.
    """
    ov = import_openvino()
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wrapper = _TilesToHeadProbabilities(torch_model(loaded), loaded.meta.mean, loaded.meta.std)
    example = torch.zeros((1, 64, 64, 3), dtype=torch.uint8)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            # the size check in UNetPlusPlus.forward is traced as a constant: fine, sizes are fixed later
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.trace, used by the converter
            graph = ov.convert_model(wrapper, example_input=example, input=[ov.PartialShape([-1, -1, -1, 3])])
    except Exception as exc:  # the converter raises many kinds; all mean "cannot export"
        raise CheckpointError(
            f"{loaded.path}: could not convert the model to OpenVINO ({exc}); use --backend torch"
        ) from exc
    graph.set_rt_info(loaded.sha256, [RT_INFO_KEY, "model_sha256"])
    graph.set_rt_info(str(EXPORT_VERSION), [RT_INFO_KEY, "export_version"])
    graph.set_rt_info(loaded.meta.name, [RT_INFO_KEY, "model_name"])
    name = export_name(loaded.sha256)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=folder))
    try:
        # fp32 weights: the folded BatchNorms make new values that fp16 would round by ~1e-3
        ov.save_model(graph, staging / f"{name}.xml", compress_to_fp16=False)
        (staging / f"{name}.bin").replace(folder / f"{name}.bin")
        (staging / f"{name}.xml").replace(folder / f"{name}.xml")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.info("exported %s to OpenVINO: %s", loaded.path.name, folder / f"{name}.xml")
    return folder / f"{name}.xml"
