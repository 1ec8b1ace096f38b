"""Finding and reading the ground-truth masks that belong to one photograph.

Searched, in order: an IDRiD layout (``1. Original Images/<split>/`` beside
``2. All Segmentation Groundtruths/<split>/<n. Lesion>/``), a DDR layout
(``<split>/image/`` beside ``<split>/label/<CODE>/``), a plain layout (``images/`` beside
``masks/<CODE>/``) and masks beside the photograph named ``<stem>_<CODE>.<ext>``.
A folder chosen by hand is searched for the same names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.datasets import DDR_LABEL_FOLDERS, IDRID_LESION_FOLDERS
from core.errors import ImageReadError
from core.imaging.io import MaskConvention, find_with_stem, read_mask
from core.lesions import LESIONS, Lesion

IDRID_IMAGES = "1. Original Images"
IDRID_TRUTH = "2. All Segmentation Groundtruths"


@dataclass(frozen=True)
class GroundTruthSource:
    """Where the masks of one photograph are.

    Attributes:
        files: per lesion, the mask file (lesions without a file are absent, i.e. all False).
        convention: how the files encode lesion pixels.
        origin: how they were found: ``idrid``, ``ddr``, ``plain``, ``beside`` or ``folder``.
    """

    files: dict[Lesion, Path]
    convention: MaskConvention
    origin: str

    def describe(self) -> str:
        """One line for the user: origin and lesions found."""
        codes = ", ".join(lesion.code for lesion in LESIONS if lesion in self.files)
        return f"{self.origin}: {codes}"


def _collect(finder: dict[Lesion, tuple[Path, str]]) -> dict[Lesion, Path]:
    found = {lesion: find_with_stem(folder, stem) for lesion, (folder, stem) in finder.items()}
    return {lesion: path for lesion, path in found.items() if path is not None}


def _idrid(image: Path) -> dict[Lesion, Path]:
    split_dir = image.parent
    if split_dir.parent.name != IDRID_IMAGES:
        return {}
    truth = split_dir.parent.parent / IDRID_TRUTH / split_dir.name
    return _collect(
        {
            lesion: (truth / folder, f"{image.stem}_{lesion.code}")
            for lesion, folder in IDRID_LESION_FOLDERS.items()
        }
    )


def _ddr(image: Path) -> dict[Lesion, Path]:
    if image.parent.name != "image":
        return {}
    split = image.parent.parent
    label = next((split / n for n in DDR_LABEL_FOLDERS if (split / n).is_dir()), None)
    if label is None:
        return {}
    return _collect({lesion: (label / lesion.code, image.stem) for lesion in LESIONS})


def _plain(image: Path) -> dict[Lesion, Path]:
    if image.parent.name != "images":
        return {}
    masks = image.parent.parent / "masks"
    return _collect({lesion: (masks / lesion.code, image.stem) for lesion in LESIONS})


def _named_in(folder: Path, stem: str) -> dict[Lesion, Path]:
    return _collect({lesion: (folder, f"{stem}_{lesion.code}") for lesion in LESIONS})


def find_ground_truth(image: str | os.PathLike[str]) -> GroundTruthSource | None:
    """The masks of a photograph from the folder it sits in, or None when there are none."""
    image = Path(image)
    for origin, finder, convention in (
        ("idrid", _idrid, MaskConvention.IDRID),
        ("ddr", _ddr, MaskConvention.DDR),
        ("plain", _plain, MaskConvention.IDRID),
    ):
        files = finder(image)
        if files:
            return GroundTruthSource(files, convention, origin)
    files = _named_in(image.parent, image.stem)
    return GroundTruthSource(files, MaskConvention.IDRID, "beside") if files else None


def find_ground_truth_in(folder: str | os.PathLike[str], image: str | os.PathLike[str]) -> GroundTruthSource:
    """The masks of ``image`` inside a folder chosen by hand.

    Looks for ``<stem>_<CODE>.*`` in the folder, in its IDRiD lesion subfolders
    (``1. Microaneurysms/`` ...) and ``<CODE>/<stem>.*`` (DDR-style, any non-zero pixel).

    Raises:
        ImageReadError: nothing for this photograph in the folder (the message says what was looked for).
    """
    folder, stem = Path(folder), Path(image).stem
    files = _named_in(folder, stem)
    if files:
        return GroundTruthSource(files, MaskConvention.IDRID, "folder")
    files = _collect(
        {lesion: (folder / sub, f"{stem}_{lesion.code}") for lesion, sub in IDRID_LESION_FOLDERS.items()}
    )
    if files:
        return GroundTruthSource(files, MaskConvention.IDRID, "folder")
    files = _collect({lesion: (folder / lesion.code, stem) for lesion in LESIONS})
    if files:
        return GroundTruthSource(files, MaskConvention.DDR, "folder")
    raise ImageReadError(
        f"{folder}: no mask for {stem}: looked for {stem}_MA.tif (and _HE, _EX, _SE, any image type), "
        f"IDRiD lesion subfolders and MA/{stem}.tif; choose the folder that holds this photograph's masks"
    )


def load_ground_truth(source: GroundTruthSource, shape: tuple[int, int]) -> dict[Lesion, np.ndarray]:
    """Per lesion, an H x W bool mask (all False for lesions without a file).

    Raises:
        ImageReadError: a mask cannot be read or has another size than the photograph.
    """
    masks: dict[Lesion, np.ndarray] = {}
    for lesion in LESIONS:
        path = source.files.get(lesion)
        masks[lesion] = (
            np.zeros(shape, bool)
            if path is None
            else read_mask(path, source.convention, expected_shape=shape)
        )
    return masks
