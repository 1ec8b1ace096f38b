"""Seeded procedural fundus photographs with exact lesion masks.

Not a model of real pathology: a test and demo source whose geometry, colours and lesion
sizes resemble IDRiD photographs (black border, bright disc clipped at top and bottom,
vessels, optic disc, macula, illumination fall-off) and whose masks are known exactly.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from core.data.datasets import IDRID_LESION_FOLDERS, IDRID_SPLITS
from core.imaging.io import atomic_path, write_bytes_atomic
from core.lesions import LESIONS, Lesion

log = logging.getLogger(__name__)

IDRID_SPLIT_FOLDERS = tuple(IDRID_SPLITS)  # ("a. Training Set", "b. Testing Set")

_PRESENCE = {Lesion.MA: 0.95, Lesion.HE: 0.85, Lesion.EX: 0.85, Lesion.SE: 0.5}
_COLOURS = {
    Lesion.MA: (120, 18, 12),
    Lesion.HE: (100, 14, 8),
    Lesion.EX: (250, 220, 90),
    Lesion.SE: (238, 228, 205),
}


@dataclass(frozen=True)
class SyntheticFundus:
    """One generated photograph.

    Attributes:
        image: H x W x 3 uint8 RGB.
        masks: per lesion, H x W bool (all False when the lesion is absent).
        fov_mask: H x W bool, the true field of view.
    """

    image: np.ndarray
    masks: dict[Lesion, np.ndarray]
    fov_mask: np.ndarray


def _blend(canvas: np.ndarray, alpha: np.ndarray, colour: tuple[int, int, int]) -> None:
    """canvas (H x W x 3 float32) <- canvas * (1 - alpha) + colour * alpha, in place."""
    a = alpha[..., None]
    canvas *= 1.0 - a
    canvas += a * np.asarray(colour, np.float32)


def _smooth(layer: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an H x W float32 layer; large sigmas run on a downscaled copy."""
    factor = int(sigma // 3)
    if factor < 2:
        return cv2.GaussianBlur(layer, (0, 0), sigma)
    height, width = layer.shape
    small = cv2.resize(
        layer, (max(1, width // factor), max(1, height // factor)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)


def _random_point_in_disc(
    rng: np.random.Generator, centre: tuple[float, float], radius: float, shape: tuple[int, int]
) -> tuple[int, int]:
    while True:
        angle, dist = rng.uniform(0, 2 * np.pi), radius * np.sqrt(rng.uniform(0, 1))
        y, x = centre[0] + dist * np.sin(angle), centre[1] + dist * np.cos(angle)
        if 0 <= y < shape[0] and 0 <= x < shape[1]:
            return int(y), int(x)


def _draw_vessels(
    rng: np.random.Generator, shape: tuple[int, int], disc: tuple[int, int], scale: float
) -> np.ndarray:
    layer = np.zeros(shape, np.uint8)
    for _ in range(10):
        y, x = float(disc[0]), float(disc[1])
        angle = rng.uniform(0, 2 * np.pi)
        thickness = rng.uniform(10, 18) * scale
        for _ in range(60):
            angle += rng.normal(0, 0.18)
            step = 40 * scale
            ny, nx = y + step * np.sin(angle), x + step * np.cos(angle)
            cv2.line(layer, (int(x), int(y)), (int(nx), int(ny)), 255, max(1, int(thickness)), cv2.LINE_AA)
            y, x = ny, nx
            thickness *= 0.975
    return layer


def _lesion_mask(
    lesion: Lesion,
    rng: np.random.Generator,
    shape: tuple[int, int],
    centre: tuple[float, float],
    radius: float,
    scale: float,
) -> tuple[np.ndarray, np.ndarray]:
    """(alpha H x W float32, mask H x W bool) for one lesion type."""
    layer = np.zeros(shape, np.uint8)
    if lesion is Lesion.MA:
        for _ in range(int(rng.integers(5, 40))):
            y, x = _random_point_in_disc(rng, centre, 0.85 * radius, shape)
            cv2.circle(layer, (x, y), max(1, int(rng.uniform(2, 6) * scale)), 255, -1, cv2.LINE_8)
    elif lesion is Lesion.HE:
        for _ in range(int(rng.integers(2, 15))):
            y, x = _random_point_in_disc(rng, centre, 0.8 * radius, shape)
            for _ in range(int(rng.integers(1, 4))):
                axes = (max(2, int(rng.uniform(10, 60) * scale)), max(2, int(rng.uniform(8, 40) * scale)))
                offset = (int(x + rng.normal(0, 10 * scale)), int(y + rng.normal(0, 10 * scale)))
                cv2.ellipse(layer, offset, axes, rng.uniform(0, 180), 0, 360, 255, -1)
    elif lesion is Lesion.EX:
        for _ in range(int(rng.integers(2, 10))):
            cy, cx = _random_point_in_disc(rng, centre, 0.75 * radius, shape)
            for _ in range(int(rng.integers(4, 25))):
                x, y = int(cx + rng.normal(0, 40 * scale)), int(cy + rng.normal(0, 40 * scale))
                cv2.circle(layer, (x, y), max(1, int(rng.uniform(3, 12) * scale)), 255, -1)
    else:
        for _ in range(int(rng.integers(1, 5))):
            y, x = _random_point_in_disc(rng, centre, 0.7 * radius, shape)
            axes = (max(3, int(rng.uniform(30, 90) * scale)), max(3, int(rng.uniform(20, 60) * scale)))
            cv2.ellipse(layer, (x, y), axes, rng.uniform(0, 180), 0, 360, 255, -1)
        sigma = max(1.0, 12 * scale)
        soft = _smooth(layer.astype(np.float32) / 255.0, sigma)
        return soft * 0.85, soft >= 0.5
    mask = layer > 127
    alpha = cv2.GaussianBlur(layer.astype(np.float32) / 255.0, (0, 0), max(0.5, scale)) * 0.9
    return alpha, mask


def synth_fundus(
    height: int = 2848, width: int = 4288, seed: int = 0, clip_fov: bool = True
) -> SyntheticFundus:
    """Generate one seeded synthetic fundus photograph with its lesion masks.

    Args:
        height, width: image size in pixels.
        seed: the same seed always gives the same image and masks.
        clip_fov: make the disc taller than the image, clipped at top and bottom as in IDRiD.
    """
    rng = np.random.default_rng(seed)
    shape = (height, width)
    scale = width / 4288.0
    centre = (height / 2 + rng.uniform(-0.02, 0.02) * height, width / 2 + rng.uniform(-0.02, 0.02) * width)
    radius = (0.40 * width) if clip_fov else 0.46 * min(height, width)
    yy, xx = np.ogrid[:height, :width]
    dist = np.sqrt((yy - centre[0]) ** 2 + (xx - centre[1]) ** 2).astype(np.float32) / radius
    fov = dist <= 1.0
    base = np.array([rng.uniform(180, 215), rng.uniform(75, 100), rng.uniform(25, 45)], np.float32)
    falloff = np.clip(1.0 - 0.45 * dist**2, 0.35, 1.0)
    canvas = falloff[..., None] * base
    side = 1 if rng.uniform() < 0.5 else -1
    disc = (int(centre[0] + rng.normal(0, 0.05) * radius), int(centre[1] + side * 0.45 * radius))
    macula = (int(centre[0]), int(centre[1] - side * 0.12 * radius))
    macula_alpha = np.zeros(shape, np.float32)
    cv2.circle(macula_alpha, macula[::-1], int(0.12 * radius), 1.0, -1)
    _blend(canvas, _smooth(macula_alpha, 0.06 * radius) * 0.35, (90, 30, 15))
    vessels = _draw_vessels(rng, shape, disc, scale).astype(np.float32) / 255.0
    _blend(canvas, cv2.GaussianBlur(vessels, (0, 0), max(0.5, 1.5 * scale)) * 0.75, (130, 25, 20))
    disc_alpha = np.zeros(shape, np.float32)
    cv2.circle(disc_alpha, disc[::-1], int(0.09 * radius), 1.0, -1)
    _blend(canvas, _smooth(disc_alpha, 0.02 * radius), (250, 225, 160))
    masks: dict[Lesion, np.ndarray] = {}
    for lesion in LESIONS:
        if rng.uniform() < _PRESENCE[lesion]:
            alpha, mask = _lesion_mask(lesion, rng, shape, centre, radius, scale)
            _blend(canvas, alpha * fov, _COLOURS[lesion])
            masks[lesion] = mask & fov
        else:
            masks[lesion] = np.zeros(shape, bool)
    canvas += 3.0 * rng.standard_normal(canvas.shape, dtype=np.float32)
    canvas *= fov[..., None]
    canvas += 4.0 * rng.random(canvas.shape, dtype=np.float32) * ~fov[..., None]
    image = np.clip(canvas, 0, 255).astype(np.uint8)
    return SyntheticFundus(image=image, masks=masks, fov_mask=fov)


def write_palette_tiff(path: str | os.PathLike[str], mask: np.ndarray) -> None:
    """Write a mask as IDRiD does: 8-bit palette TIFF, value 1 = lesion (red), Deflate."""
    img = Image.fromarray(mask.astype(np.uint8), mode="P")
    img.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    with atomic_path(path) as tmp:
        img.save(tmp, format="TIFF", compression="tiff_adobe_deflate")


def encode_jpeg(image: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes of an H x W x 3 uint8 RGB image."""
    ok, buffer = cv2.imencode(
        ".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buffer.tobytes()


def write_idrid_layout(
    root: str | os.PathLike[str],
    count: int,
    height: int = 2848,
    width: int = 4288,
    seed: int = 0,
    test_count: int = 0,
) -> list[Path]:
    """Write a synthetic dataset in IDRiD's "A. Segmentation" folder layout.

    Images ``IDRiD_NN.jpg``; masks ``<stem>_<CODE>.tif``; a lesion absent from an image has
    no mask file, as in IDRiD. The first ``count`` images go to the training split, the
    next ``test_count`` to the testing split.

    Returns:
        The image paths written.
    """
    base = Path(root) / "A. Segmentation"
    written: list[Path] = []
    for index in range(count + test_count):
        split = IDRID_SPLIT_FOLDERS[0] if index < count else IDRID_SPLIT_FOLDERS[1]
        stem = f"IDRiD_{index + 1:02d}"
        sample = synth_fundus(height, width, seed=seed + index)
        image_path = base / "1. Original Images" / split / f"{stem}.jpg"
        write_bytes_atomic(image_path, encode_jpeg(sample.image))
        for lesion, mask in sample.masks.items():
            if mask.any():
                folder = base / "2. All Segmentation Groundtruths" / split / IDRID_LESION_FOLDERS[lesion]
                write_palette_tiff(folder / f"{stem}_{lesion.code}.tif", mask)
        written.append(image_path)
        log.info("wrote %s", image_path)
    return written


def write_plain_layout(
    root: str | os.PathLike[str], count: int, height: int = 2848, width: int = 4288, seed: int = 0
) -> list[Path]:
    """Write ``images/<stem>.jpg`` and ``masks/<CODE>/<stem>.png`` (lesion = 255)."""
    from core.imaging.io import write_png

    root = Path(root)
    written: list[Path] = []
    for index in range(count):
        stem = f"synth_{index + 1:03d}"
        sample = synth_fundus(height, width, seed=seed + index)
        image_path = root / "images" / f"{stem}.jpg"
        write_bytes_atomic(image_path, encode_jpeg(sample.image))
        for lesion, mask in sample.masks.items():
            if mask.any():
                write_png(root / "masks" / lesion.code / f"{stem}.png", mask.astype(np.uint8) * 255)
        written.append(image_path)
    return written
