"""Batch augmentation of training tiles: geometry (flips, rotations, zoom) and photometry
(colour jitter and, for camera variation, gamma, colour temperature, blur, JPEG)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
from torch.nn import functional as nn_functional


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentations that suit fundus tiles (no anatomy-breaking warps).

    Geometric: dihedral flips / rotations and a random zoom (``scale``). Photometric, for
    camera variation: colour temperature (red / blue gains), gamma, brightness, contrast,
    saturation, Gaussian blur (a softer lens or a smaller sensor) and JPEG recompression.

    Attributes:
        dihedral: random flips and 90-degree rotations.
        brightness, contrast, saturation: maximum relative jitter (0 = off).
        scale: maximum relative zoom, e.g. 0.15 = 0.87x..1.15x (0 = off).
        gamma: maximum |log gamma|, e.g. 0.3 = gamma 0.74..1.35 (0 = off).
        colour_temperature: maximum relative shift of red against blue (0 = off).
        blur: maximum Gaussian sigma in pixels, on half the tiles (0 = off).
        jpeg_quality: lowest JPEG quality, on half the tiles (0 = off).
    """

    dihedral: bool = True
    brightness: float = 0.1
    contrast: float = 0.1
    saturation: float = 0.1
    scale: float = 0.0
    gamma: float = 0.0
    colour_temperature: float = 0.0
    blur: float = 0.0
    jpeg_quality: int = 0


def _uniform(batch: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    return low + torch.rand(batch, generator=generator) * (high - low)


def _dihedral(
    images: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    transform = torch.randint(0, 8, (images.shape[0],), generator=generator)
    images, labels = images.clone(), labels.clone()
    for k in range(8):
        chosen = transform == k
        if not chosen.any():
            continue
        img, lab = images[chosen], labels[chosen]
        if k >= 4:
            img, lab = img.flip(-1), lab.flip(-1)
        images[chosen] = torch.rot90(img, k % 4, dims=(-2, -1))
        labels[chosen] = torch.rot90(lab, k % 4, dims=(-2, -1))
    return images, labels


def _zoom(
    images: torch.Tensor, labels: torch.Tensor, amount: float, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Zoom each tile about its centre by a factor in [1/(1+amount), 1+amount] (reflected edges)."""
    batch = images.shape[0]
    zoom = torch.exp(_uniform(batch, -np.log1p(amount), np.log1p(amount), generator))
    theta = torch.zeros(batch, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0 / zoom
    grid = nn_functional.affine_grid(theta, list(images.shape), align_corners=False)
    images = nn_functional.grid_sample(images, grid, "bilinear", "reflection", align_corners=False)
    sampled = nn_functional.grid_sample(
        labels[:, None].float(), grid, "nearest", "reflection", align_corners=False
    )
    return images, sampled[:, 0].round().long()


def _gaussian_blur(image: torch.Tensor, sigma: float) -> torch.Tensor:
    """3 x T x T image blurred with a separable Gaussian (reflected edges)."""
    radius = max(1, int(np.ceil(2 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32)
    kernel = torch.exp(-(offsets**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    padded = nn_functional.pad(image[None], (radius, radius, radius, radius), mode="reflect")
    horizontal = kernel.view(1, 1, 1, -1).repeat(3, 1, 1, 1)
    vertical = kernel.view(1, 1, -1, 1).repeat(3, 1, 1, 1)
    out = nn_functional.conv2d(padded, horizontal, groups=3)
    return nn_functional.conv2d(out, vertical, groups=3)[0]


def _jpeg(image: torch.Tensor, quality: int) -> torch.Tensor:
    """3 x T x T image in 0..1 through a JPEG encode / decode at ``quality``."""
    pixels = (image.permute(1, 2, 0).numpy()[..., ::-1] * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(pixels), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return image
    decoded = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    if decoded is None:  # pragma: no cover - OpenCV decodes what it just encoded
        return image
    decoded = decoded[..., ::-1]
    return torch.from_numpy(np.ascontiguousarray(decoded)).permute(2, 0, 1).float() / 255.0


def augment_batch(
    images: torch.Tensor, labels: torch.Tensor, config: AugmentConfig, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment a batch.

    Args:
        images: B x 3 x T x T float in 0..1.
        labels: B x T x T int64.
        config: which augmentations.
        generator: random source (seeded by the caller).

    Returns:
        Augmented (images in 0..1, labels); labels follow the geometric transforms only.
    """
    batch = images.shape[0]
    if config.dihedral:
        images, labels = _dihedral(images, labels, generator)
    if config.scale:
        images, labels = _zoom(images, labels, config.scale, generator)

    def factor(amount: float) -> torch.Tensor:
        return 1.0 + (torch.rand(batch, 1, 1, 1, generator=generator) * 2 - 1) * amount

    if config.colour_temperature:
        shift = factor(config.colour_temperature)
        images = torch.cat([images[:, :1] * shift, images[:, 1:2], images[:, 2:] / shift], dim=1)
    if config.gamma:
        gamma = torch.exp(_uniform(batch, -config.gamma, config.gamma, generator)).view(batch, 1, 1, 1)
        images = images.clamp(0.0, 1.0) ** gamma
    if config.brightness:
        images = images * factor(config.brightness)
    if config.contrast:
        mean = images.mean(dim=(1, 2, 3), keepdim=True)
        images = (images - mean) * factor(config.contrast) + mean
    if config.saturation:
        grey = images.mean(dim=1, keepdim=True)
        images = (images - grey) * factor(config.saturation) + grey
    images = images.clamp(0.0, 1.0)
    if config.blur:
        sigmas = _uniform(batch, 0.3, config.blur, generator)
        chosen = torch.rand(batch, generator=generator) < 0.5
        pairs = zip(images, sigmas, chosen, strict=True)
        images = torch.stack([_gaussian_blur(img, float(s)) if c else img for img, s, c in pairs])
    if config.jpeg_quality:
        qualities = torch.randint(config.jpeg_quality, 96, (batch,), generator=generator)
        chosen = torch.rand(batch, generator=generator) < 0.5
        pairs = zip(images, qualities, chosen, strict=True)
        images = torch.stack([_jpeg(img, int(q)) if c else img for img, q, c in pairs])
    return images.clamp(0.0, 1.0), labels
