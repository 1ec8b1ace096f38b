"""The lesion catalogue and the six training classes.

Label priority where lesion masks overlap (the paper does not say): the lesion with the
fewest pixels in IDRiD wins, so that the rarest, smallest findings are never absorbed by a
larger neighbour: MA > SE > EX > HE (IDRiD training masks: MA 0.70 M, SE 1.25 M,
EX 5.32 M, HE 6.50 M pixels). One overlapping pixel is a large fraction of a microaneurysm
but a negligible fraction of a haemorrhage; see docs/method.md for the measured overlaps.
"""

from __future__ import annotations

from enum import Enum, IntEnum


class Lesion(Enum):
    """A scored diabetic-retinopathy lesion type.

    Attributes:
        code: short code used in file names (IDRiD convention), e.g. ``"MA"``.
        title: human-readable name.
        colour: default display colour, RGB uint8, from the Okabe-Ito colour-blind-safe
            palette, picked to stand out on the red-orange fundus (its orange and
            vermillion would vanish there).
        priority: label priority where masks overlap; higher wins.
    """

    MA = ("MA", "Microaneurysm", (240, 228, 66), 4)  # yellow
    HE = ("HE", "Haemorrhage", (0, 114, 178), 1)  # blue
    EX = ("EX", "Hard exudate", (0, 158, 115), 2)  # bluish green
    SE = ("SE", "Soft exudate", (204, 121, 167), 3)  # reddish purple

    def __init__(self, code: str, title: str, colour: tuple[int, int, int], priority: int):
        self.code = code
        self.title = title
        self.colour = colour
        self.priority = priority

    @classmethod
    def from_code(cls, code: str) -> Lesion:
        """Return the lesion for a code such as ``"ma"`` or ``"EX"`` (case-insensitive)."""
        try:
            return cls[code.strip().upper()]
        except KeyError:
            valid = ", ".join(lesion.code for lesion in cls)
            raise ValueError(f"unknown lesion code {code!r}; expected one of {valid}") from None


#: The scored lesions in the fixed order used by every L x H x W array in the project.
LESIONS: tuple[Lesion, ...] = (Lesion.MA, Lesion.HE, Lesion.EX, Lesion.SE)


class TrainingClass(IntEnum):
    """The six classes of the multi-class label map (values are label indices)."""

    BACKGROUND = 0  # black border outside the field of view
    FUNDUS = 1  # every fundus pixel that is not a lesion ("other")
    MA = 2
    HE = 3
    EX = 4
    SE = 5

    @classmethod
    def for_lesion(cls, lesion: Lesion) -> TrainingClass:
        """The label index of a lesion."""
        return cls[lesion.name]


CLASS_NAMES: tuple[str, ...] = tuple(c.name for c in TrainingClass)
NUM_CLASSES = len(TrainingClass)

#: Lesions ordered from lowest to highest priority: painting them in this order leaves
#: the highest-priority lesion on top.
PAINT_ORDER: tuple[Lesion, ...] = tuple(sorted(LESIONS, key=lambda lesion: lesion.priority))
