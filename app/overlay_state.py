"""What the reader chose to see: per-lesion layer settings and the global display modes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

Rgb = tuple[int, int, int]


class OverlayStyle(Enum):
    """How a prediction is drawn."""

    FILL = "filled"
    CONTOUR = "contour"


class TruthMode(Enum):
    """How the ground truth is drawn."""

    OFF = "hidden"
    OUTLINE = "pale outlines over the prediction"
    TRUTH = "ground truth instead of the prediction"
    COMPARE = "TP / FP / FN at the threshold"


@dataclass
class LayerStyle:
    """One lesion's layer.

    Attributes:
        visible: drawn or not.
        colour: RGB 0..255.
        opacity: 0..1.
        threshold: probability 0..1; pixels at or above it count as lesion.
    """

    visible: bool
    colour: Rgb
    opacity: float
    threshold: float
