from __future__ import annotations

import numpy as np
import torch

from core.learning.augment import AugmentConfig, augment_batch
from core.lesions import TrainingClass


def test_augmentation_moves_labels_with_pixels() -> None:
    generator = torch.Generator().manual_seed(0)
    labels = torch.zeros(16, 32, 32, dtype=torch.long)
    labels[:, 2:6, 20:30] = 3
    images = (labels.float() / 5.0).unsqueeze(1).repeat(1, 3, 1, 1)  # image encodes its label
    config = AugmentConfig(dihedral=True, brightness=0, contrast=0, saturation=0)
    out_images, out_labels = augment_batch(images, labels, config, generator)
    np.testing.assert_allclose((out_images[:, 0] * 5).round().long(), out_labels)
    assert len({tuple(torch.nonzero(lab)[0].tolist()) for lab in out_labels}) > 2  # several transforms used


def test_colour_jitter_keeps_range_and_labels() -> None:
    generator = torch.Generator().manual_seed(1)
    images = torch.rand(8, 3, 16, 16)
    labels = torch.randint(0, 6, (8, 16, 16))
    out, out_labels = augment_batch(images, labels, AugmentConfig(False, 0.3, 0.3, 0.3), generator)
    assert out.min() >= 0 and out.max() <= 1 and not torch.equal(out, images)
    assert torch.equal(out_labels, labels)


def test_camera_augmentations_keep_labels_and_range() -> None:
    generator = torch.Generator().manual_seed(1)
    labels = torch.zeros(8, 64, 64, dtype=torch.long)
    labels[:, 20:40, 20:40] = int(TrainingClass.HE)
    images = torch.rand(8, 3, 64, 64, generator=generator)
    config = AugmentConfig(
        dihedral=False, scale=0.0, gamma=0.3, colour_temperature=0.1, blur=1.2, jpeg_quality=40
    )
    out_images, out_labels = augment_batch(images, labels, config, generator)
    assert torch.equal(out_labels, labels)  # photometric changes never move labels
    assert out_images.min() >= 0 and out_images.max() <= 1 and not torch.allclose(out_images, images)


def test_zoom_moves_labels_with_pixels() -> None:
    generator = torch.Generator().manual_seed(2)
    labels = torch.zeros(8, 64, 64, dtype=torch.long)
    labels[:, 24:40, 24:40] = 3
    images = (labels.float() / 5.0).unsqueeze(1).repeat(1, 3, 1, 1)
    config = AugmentConfig(dihedral=False, brightness=0, contrast=0, saturation=0, scale=0.3)
    out_images, out_labels = augment_batch(images, labels, config, generator)
    agreement = ((out_images[:, 0] * 5).round().long() == out_labels).float().mean()
    assert agreement > 0.97  # only pixels on the square's edge may differ (bilinear vs nearest)
    areas = {int((lab == 3).sum()) for lab in out_labels}
    assert len(areas) > 2  # several zoom factors used
