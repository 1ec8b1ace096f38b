"""Dataset discovery and validation: IDRiD, DDR, a plain and a flat layout.

Layouts (a missing mask file means the lesion is absent from that image):

- **idrid**: ``A. Segmentation/1. Original Images/<split>/<stem>.jpg`` with masks under
  ``A. Segmentation/2. All Segmentation Groundtruths/<split>/<n. Lesion name>/<stem>_<CODE>.tif``;
  splits ``a. Training Set`` (train) and ``b. Testing Set`` (test).
- **ddr**: ``lesion_segmentation/<train|valid|test>/image/<stem>.jpg`` with masks in
  ``label/<CODE>/<stem>.tif`` (or the ``segmentation label`` folder found in the wild).
- **plain**: ``images/<stem>.<ext>`` with masks in ``masks/<CODE>/<stem>.<ext>``; one split, ``all``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from core.errors import DatasetError, ImageReadError
from core.imaging.io import MaskConvention, find_with_stem, is_mask_name, list_images, read_image, read_mask
from core.lesions import LESIONS, Lesion

log = logging.getLogger(__name__)

LAYOUTS = ("idrid", "ddr", "plain", "flat")
IDRID_SPLITS = {"a. Training Set": "train", "b. Testing Set": "test"}
IDRID_LESION_FOLDERS = {
    Lesion.MA: "1. Microaneurysms",
    Lesion.HE: "2. Haemorrhages",
    Lesion.EX: "3. Hard Exudates",
    Lesion.SE: "4. Soft Exudates",
}
DDR_SPLITS = ("train", "valid", "test")
DDR_LABEL_FOLDERS = ("label", "segmentation label", "segmentation_label")


@dataclass(frozen=True)
class Sample:
    """One photograph with its lesion masks.

    Attributes:
        stem: image name without suffix (unique within a dataset split).
        image: path of the photograph.
        masks: per lesion, the mask file, or None where the lesion is absent.
        split: ``train``, ``valid``, ``test`` or ``all``.
        convention: how the mask files encode lesion pixels.
    """

    stem: str
    image: Path
    masks: dict[Lesion, Path | None]
    split: str
    convention: MaskConvention

    def load(self) -> tuple[np.ndarray, dict[Lesion, np.ndarray]]:
        """The H x W x 3 uint8 photograph and per-lesion H x W bool masks (all False if absent).

        Raises:
            DatasetError: a ``flat`` folder holds this sample's masks but not its photograph.
        """
        if not self.image.is_file():
            raise DatasetError(
                f"{self.image}: photograph not found (only its masks are in {self.image.parent})"
            )
        image = read_image(self.image)
        return image, self.load_masks(image.shape[:2])

    def load_masks(self, shape: tuple[int, int]) -> dict[Lesion, np.ndarray]:
        """Per-lesion H x W bool masks of size ``shape`` (all False where absent)."""
        masks: dict[Lesion, np.ndarray] = {}
        for lesion in LESIONS:
            path = self.masks.get(lesion)
            if path is None:
                masks[lesion] = np.zeros(shape, bool)
                continue
            try:
                masks[lesion] = read_mask(path, self.convention, expected_shape=shape)
            except ImageReadError as exc:
                raise DatasetError(f"{exc} (image: {self.image})") from exc
        return masks


@dataclass
class DatasetIndex:
    """What was found under a dataset root."""

    root: Path
    layout: str
    samples: list[Sample] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def split(self, name: str) -> list[Sample]:
        """Samples of one split, sorted by stem."""
        return [s for s in self.samples if s.split == name]

    @property
    def splits(self) -> list[str]:
        """Split names present, in a stable order."""
        order = ["train", "valid", "test", "all"]
        return sorted({s.split for s in self.samples}, key=lambda n: order.index(n) if n in order else 99)

    def counts(self) -> dict[str, dict[str, int]]:
        """Per split: number of images and of masks per lesion."""
        table: dict[str, dict[str, int]] = {}
        for split in self.splits:
            samples = self.split(split)
            row = {"images": len(samples)}
            for lesion in LESIONS:
                row[lesion.code] = sum(s.masks.get(lesion) is not None for s in samples)
            table[split] = row
        return table


def _idrid_base(root: Path) -> Path | None:
    for base in (root / "A. Segmentation", root):
        if (base / "1. Original Images").is_dir():
            return base
    return None


def _ddr_base(root: Path) -> Path | None:
    for base in (root / "lesion_segmentation", root):
        if any((base / split / "image").is_dir() for split in DDR_SPLITS):
            return base
    return None


def _plain_base(root: Path) -> Path | None:
    return root if (root / "images").is_dir() else None


def _flat_base(root: Path) -> Path | None:
    """A folder of ``<stem>_<CODE>.<ext>`` masks, e.g. a LesionLens export (photographs optional)."""
    return root if any(p.is_file() and is_mask_name(p) for p in root.iterdir()) else None


def detect_layout(root: Path) -> str:
    """``idrid``, ``ddr`` or ``plain`` from the folder structure under ``root``."""
    for name, finder in (
        ("idrid", _idrid_base),
        ("ddr", _ddr_base),
        ("plain", _plain_base),
        ("flat", _flat_base),
    ):
        if finder(root) is not None:
            return name
    raise DatasetError(
        f"{root}: no known dataset layout (IDRiD 'A. Segmentation/1. Original Images', DDR "
        "'lesion_segmentation/<split>/image' or plain 'images/' + 'masks/<CODE>/'); check the path"
    )


def _discover_idrid(base: Path, index: DatasetIndex) -> None:
    truth_root = base / "2. All Segmentation Groundtruths"
    for folder, split in IDRID_SPLITS.items():
        image_dir = base / "1. Original Images" / folder
        if not image_dir.is_dir():
            continue
        for image in list_images(image_dir):
            masks = {}
            for lesion, lesion_folder in IDRID_LESION_FOLDERS.items():
                masks[lesion] = find_with_stem(
                    truth_root / folder / lesion_folder, f"{image.stem}_{lesion.code}"
                )
            index.samples.append(Sample(image.stem, image, masks, split, MaskConvention.IDRID))
        if not (truth_root / folder).is_dir():
            index.problems.append(f"{truth_root / folder}: no ground-truth folder for split {split!r}")


def _discover_ddr(base: Path, index: DatasetIndex) -> None:
    for split in DDR_SPLITS:
        image_dir = base / split / "image"
        if not image_dir.is_dir():
            continue
        label_dir = next((base / split / n for n in DDR_LABEL_FOLDERS if (base / split / n).is_dir()), None)
        if label_dir is None:
            index.problems.append(f"{base / split}: no 'label' folder; every lesion counts as absent")
        for image in list_images(image_dir):
            masks = {
                lesion: find_with_stem(label_dir / lesion.code, image.stem) if label_dir else None
                for lesion in LESIONS
            }
            index.samples.append(Sample(image.stem, image, masks, split, MaskConvention.DDR))


def _discover_plain(base: Path, index: DatasetIndex) -> None:
    for image in list_images(base / "images"):
        masks = {lesion: find_with_stem(base / "masks" / lesion.code, image.stem) for lesion in LESIONS}
        index.samples.append(Sample(image.stem, image, masks, "all", MaskConvention.IDRID))


def _discover_flat(base: Path, index: DatasetIndex) -> None:
    stems = sorted({p.stem.rsplit("_", 1)[0] for p in base.iterdir() if p.is_file() and is_mask_name(p)})
    for stem in stems:
        masks = {lesion: find_with_stem(base, f"{stem}_{lesion.code}") for lesion in LESIONS}
        image = find_with_stem(base, stem) or base / f"{stem}.jpg"  # the photograph may live elsewhere
        index.samples.append(Sample(stem, image, masks, "all", MaskConvention.IDRID))


def discover(root: str | os.PathLike[str], layout: str = "auto") -> DatasetIndex:
    """Find every photograph and its masks under ``root``.

    Args:
        root: dataset folder.
        layout: ``auto`` or one of :data:`LAYOUTS`.

    Raises:
        DatasetError: unknown layout, or no image found.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: dataset folder not found; check the path")
    layout = detect_layout(root) if layout == "auto" else layout
    finders = {
        "idrid": (_idrid_base, _discover_idrid),
        "ddr": (_ddr_base, _discover_ddr),
        "plain": (_plain_base, _discover_plain),
        "flat": (_flat_base, _discover_flat),
    }
    if layout not in finders:
        raise DatasetError(f"unknown dataset layout {layout!r}; use one of {', '.join(LAYOUTS)} or auto")
    find_base, fill = finders[layout]
    base = find_base(root)
    if base is None:
        raise DatasetError(f"{root}: not a {layout} layout; see 'lesionlens dataset check --help'")
    index = DatasetIndex(root=root, layout=layout)
    fill(base, index)
    if not index.samples:
        raise DatasetError(f"{root}: {layout} layout but no images found")
    return index


def _size(path: Path) -> tuple[int, int] | None:
    try:
        with Image.open(path) as img:
            return img.height, img.width
    except (OSError, ValueError):
        return None


def check(index: DatasetIndex) -> list[str]:
    """Every problem found by reading headers: unreadable files, mask/image size mismatches.

    Returns the problem lines (also appended to ``index.problems``).
    """
    problems: list[str] = []
    for sample in index.samples:
        image_size = _size(sample.image)
        if image_size is None:
            problems.append(f"{sample.image}: not a readable image")
            continue
        for path in sample.masks.values():
            if path is None:
                continue
            mask_size = _size(path)
            if mask_size is None:
                problems.append(f"{path}: not a readable mask")
            elif mask_size != image_size:
                problems.append(
                    f"{path}: mask size {mask_size[1]}x{mask_size[0]} differs from its image "
                    f"{sample.image} ({image_size[1]}x{image_size[0]})"
                )
    index.problems.extend(problems)
    return problems
