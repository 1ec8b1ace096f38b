"""Frozen, validated configuration values passed down from the edge (CLI, GUI)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, TypeVar

from core.errors import ConfigError
from core.lesions import NUM_CLASSES

T = TypeVar("T")

Blending = Literal["uniform", "smooth"]
Precision = Literal["auto", "fp32", "bf16", "fp16"]
HeadChoice = Literal["mean", "1", "2", "3", "4"]
Backend = Literal["auto", "torch", "openvino"]
Surround = Literal["black", "background"]
BACKENDS: tuple[str, ...] = ("auto", "torch", "openvino")
#: The ``--backend`` option's help, the same for the app and the command line.
BACKEND_HELP = "auto: torch on GPUs, OpenVINO on CPUs (default: $LESIONLENS_BACKEND or auto)"
#: The ``--flip-tta / --no-flip-tta`` option's help (app, review, predict-like commands).
FLIP_TTA_HELP = (
    "average every tile's maps with its left-right mirror (twice the network time, better maps: "
    "docs/training/README.md); default: as the model's thresholds were chosen (the model file's "
    "inference_flip_tta); --no-flip-tta for speed"
)


def head_choice(value: str) -> HeadChoice:
    """``value`` as a deep-supervision head, or ConfigError."""
    if value not in ("mean", "1", "2", "3", "4"):
        raise ConfigError(f"head {value!r}: use 1, 2, 3, 4 or mean")
    return value  # type: ignore[return-value]  # checked just above


def backend_choice(value: str) -> Backend:
    """``value`` as an inference backend name, or ConfigError."""
    if value not in BACKENDS:
        raise ConfigError(f"backend {value!r}: use one of {', '.join(BACKENDS)}")
    return value  # type: ignore[return-value]  # checked just above


MULTIPLE = 32  # tile sides must be multiples of this (METHOD.md, step 5)
NUM_HEADS = 4  # UNet++ deep-supervision outputs (METHOD.md)


def _from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a dataclass from a dict, refusing unknown keys with a clear message."""
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{cls.__name__}: unknown keys {unknown}; known keys are {sorted(known)}")
    return cls(**data)


class _DictMixin:
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable dict of the fields."""
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Inverse of :meth:`to_dict`."""
        return _from_dict(cls, data)


@dataclass(frozen=True)
class FovConfig(_DictMixin):
    """Field-of-view detection settings.

    Attributes:
        analysis_side: longest side, in pixels, of the downscaled copy Otsu runs on.
        min_area_fraction: smallest accepted field of view, as a fraction of the image.
        dark_background_level: a background class brighter than this (0..255, brightest channel) means
            the photograph has no black border, and the whole image is the field of view.
    """

    analysis_side: int = 1024
    min_area_fraction: float = 0.05
    dark_background_level: float = 40.0

    def __post_init__(self) -> None:
        if not 64 <= self.analysis_side <= 8192:
            raise ConfigError(f"FovConfig.analysis_side={self.analysis_side}: use 64..8192")
        if not 0.0 < self.min_area_fraction < 1.0:
            raise ConfigError(f"FovConfig.min_area_fraction={self.min_area_fraction}: use a value in (0, 1)")


@dataclass(frozen=True)
class PreprocessConfig(_DictMixin):
    """What is done to a photograph's field of view before it is tiled (training and inference alike).

    Attributes:
        fov_diameter: the field of view is resized so that its diameter (the longer side of
            its bounding box) is this many pixels, whatever the camera; ``None`` keeps the
            photograph's own scale (the paper). Predictions are mapped back to the original pixels.
        illumination: divide each colour channel by its smooth background (a Gaussian of
            ``background_sigma`` x diameter, computed inside the field of view only) and scale
            it to a reference fundus colour: uneven illumination, exposure and colour casts of
            other cameras are removed, lesion contrast is kept.
        background_sigma: the background's Gaussian sigma as a fraction of the FOV diameter.
        surround: what the network sees around the field of view: ``black`` (the photograph's
            own border, 0 outside the field of view) or ``background`` (outside the field of
            view and in a margin round the crop, the flat reference fundus colour, so that no
            tile sees a black edge or the image's edge next to the retina; needs
            ``illumination``).
    """

    fov_diameter: int | None = None
    illumination: bool = False
    background_sigma: float = 1 / 16
    surround: Surround = "black"

    def __post_init__(self) -> None:
        if self.fov_diameter is not None and not 256 <= self.fov_diameter <= 8192:
            raise ConfigError(f"PreprocessConfig.fov_diameter={self.fov_diameter}: use 256..8192 or None")
        if not 0.005 <= self.background_sigma <= 0.5:
            raise ConfigError(f"PreprocessConfig.background_sigma={self.background_sigma}: use 0.005..0.5")
        if self.surround not in ("black", "background"):
            raise ConfigError(f"PreprocessConfig.surround={self.surround!r}: use 'black' or 'background'")
        if self.surround == "background" and not self.illumination:
            raise ConfigError(
                "PreprocessConfig.surround='background' needs illumination=True "
                "(the fill is the normalised background colour)"
            )

    @property
    def is_identity(self) -> bool:
        """True when photographs are used as they are (the paper's pipeline)."""
        return self.fov_diameter is None and not self.illumination


@dataclass(frozen=True)
class TilingConfig(_DictMixin):
    """Sliding-window tiling.

    Attributes:
        tile_size: square tile side in pixels, a multiple of 32.
        overlap: pixels shared by neighbouring tiles, 0 <= overlap < tile_size.
        blending: how overlapping predictions are averaged: ``uniform`` or ``smooth``
            (each tile's weight rises from ~0 at its edge to 1 across the overlap, so
            tile seams fade in instead of stepping).
        skip_outside_fov: skip tiles that hold no field-of-view pixel.
    """

    tile_size: int = 64
    overlap: int = 0
    blending: Blending = "uniform"
    skip_outside_fov: bool = True

    def __post_init__(self) -> None:
        if self.tile_size < MULTIPLE or self.tile_size % MULTIPLE:
            raise ConfigError(
                f"tile size {self.tile_size}: must be a positive multiple of {MULTIPLE} "
                "as the method requires; try 64, 128 or 256"
            )
        if not 0 <= self.overlap < self.tile_size:
            raise ConfigError(
                f"overlap {self.overlap}: must be >= 0 and smaller than the tile size {self.tile_size}"
            )
        if self.blending not in ("uniform", "smooth"):
            raise ConfigError(f"blending {self.blending!r}: use 'uniform' or 'smooth'")


@dataclass(frozen=True)
class ModelConfig(_DictMixin):
    """UNet++ / VGG16-BN architecture.

    Attributes:
        width: channel multiplier; 1.0 is the paper (64, 128, 256, 512, 512).
        in_channels: image channels (3 for RGB).
        num_classes: output classes (6: background, fundus, MA, HE, EX, SE).
        vertical_smoothing: the probability maps are filtered with [1, 2, 1] / 4 down each
            column: a fixed layer after the softmax that removes the row-to-row (period-2)
            stripes the stride-2 transposed convolutions leave where a head is unsure (the
            built-in model's head 4; docs/training/README.md, rule 18). Not used in training's
            loss, which works on the logits.
    """

    width: float = 1.0
    in_channels: int = 3
    num_classes: int = NUM_CLASSES
    vertical_smoothing: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < self.width <= 4.0:
            raise ConfigError(f"model width {self.width}: use a value in (0, 4], e.g. 1.0 or 0.25")
        if self.in_channels < 1 or self.num_classes < 2:
            raise ConfigError(
                f"model in_channels={self.in_channels}, num_classes={self.num_classes}: "
                "need at least 1 input channel and 2 classes"
            )

    @property
    def stage_channels(self) -> tuple[int, ...]:
        """Channels of the five encoder stages, scaled by ``width`` (at least 8 each)."""
        return tuple(max(8, round(c * self.width)) for c in (64, 128, 256, 512, 512))


@dataclass(frozen=True)
class InferenceConfig(_DictMixin):
    """How a trained model is applied to a whole photograph.

    Attributes:
        tiling: tile size, overlap and blending used at inference (the network is fully
            convolutional, so this may differ from the training tile size).
        batch_size: tiles per forward pass; ``None`` = automatic (a pixel budget per
            batch that suits the device's caches); halved automatically on out-of-memory.
        device: ``auto`` (CUDA, then Apple MPS, then CPU) or a torch device string.
        precision: ``auto``: fp32 on CPUs (the same masks on every CPU), bf16/fp16 on GPUs;
            ``bf16`` on a CPU is about 1.6x faster with OpenVINO and moves masks (docs/performance.md).
        channels_last: ``None`` = automatic (on with reduced precision).
        head: deep-supervision output used: ``"1"``..``"4"`` or ``"mean"`` of all four.
        flip_tta: also run every tile mirrored left-right and average the two (test-time
            augmentation; twice the network time).
        backend: ``auto`` (torch on GPUs, OpenVINO on CPUs where installed), ``torch`` or
            ``openvino`` (see :mod:`core.network.backends`).
    """

    tiling: TilingConfig = TilingConfig(tile_size=256, overlap=32, blending="smooth")
    batch_size: int | None = None
    device: str = "auto"
    precision: Precision = "auto"
    channels_last: bool | None = None
    head: HeadChoice = "4"
    flip_tta: bool = False
    backend: Backend = "auto"

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend {self.backend!r}: use one of {', '.join(BACKENDS)}")
        if isinstance(self.tiling, dict):
            object.__setattr__(self, "tiling", TilingConfig.from_dict(self.tiling))
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"batch size {self.batch_size}: must be at least 1")
        if self.precision not in ("auto", "fp32", "bf16", "fp16"):
            raise ConfigError(f"precision {self.precision!r}: use auto, fp32, bf16 or fp16")
        if str(self.head) not in ("mean", "1", "2", "3", "4"):
            raise ConfigError(f"head {self.head!r}: use 1, 2, 3, 4 or mean")
        object.__setattr__(self, "head", str(self.head))
