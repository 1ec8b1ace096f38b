from __future__ import annotations

import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from core.data.synthetic import write_palette_tiff
from core.errors import ImageReadError
from core.imaging.io import (
    MaskConvention,
    atomic_path,
    list_images,
    read_image,
    read_mask,
    write_bytes_atomic,
    write_json,
    write_png,
)


@pytest.fixture
def rgb(rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 256, (70, 90, 3), dtype=np.uint8)


def _save_cv2(path: Path, array_bgr: np.ndarray) -> Path:
    ok, buf = cv2.imencode(path.suffix, array_bgr)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_lossless_formats_round_trip_as_rgb(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    path = _save_cv2(tmp_path / f"img{suffix}", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    np.testing.assert_array_equal(out, rgb)


def test_jpeg_reads_close_to_original(tmp_path: Path) -> None:
    smooth = np.zeros((80, 96, 3), np.uint8)
    smooth[..., 0], smooth[..., 1], smooth[..., 2] = 200, 90, 30
    path = _save_cv2(tmp_path / "img.jpg", cv2.cvtColor(smooth, cv2.COLOR_RGB2BGR))
    out = read_image(path)
    assert np.abs(out.astype(int) - smooth).max() <= 3  # RGB order, not BGR


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16_bit_is_scaled_to_8_bit(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    deep = rgb.astype(np.uint16) * 257
    path = _save_cv2(tmp_path / f"deep{suffix}", cv2.cvtColor(deep, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(read_image(path), rgb)


def test_grey_becomes_three_equal_channels(tmp_path: Path, rng: np.random.Generator) -> None:
    grey = rng.integers(0, 256, (70, 80), dtype=np.uint8)
    out = read_image(_save_cv2(tmp_path / "grey.png", grey))
    assert out.shape == (70, 80, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[..., channel], grey)


def test_rgba_is_composited_on_black(tmp_path: Path) -> None:
    rgba = np.zeros((64, 64, 4), np.uint8)
    rgba[..., :3] = (250, 120, 40)
    rgba[:, :32, 3] = 255  # opaque left half, transparent right half
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(out[0, 0], (250, 120, 40))
    np.testing.assert_array_equal(out[0, 63], (0, 0, 0))


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path: Path, rng: np.random.Generator, orientation: int) -> None:
    array = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    img = Image.fromarray(array)
    exif = img.getexif()
    exif[274] = orientation
    path = tmp_path / "rot.png"
    img.save(path, exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
    np.testing.assert_array_equal(read_image(path), expected)


def test_unicode_path(tmp_path: Path, rgb: np.ndarray) -> None:
    folder = tmp_path / "patients" / "Ödön Łukasz 眼底"
    folder.mkdir(parents=True)
    path = _save_cv2(folder / "fundus é.png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    np.testing.assert_array_equal(read_image(path), rgb)


def test_empty_file_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.jpg: the file is empty"):
        read_image(path)


def test_non_image_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a photograph")
    with pytest.raises(ImageReadError, match=r"notes\.jpg: not a readable image"):
        read_image(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="file not found"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="is a folder"):
        read_image(tmp_path)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_file_is_refused(tmp_path: Path, rgb: np.ndarray, suffix: str) -> None:
    full = _save_cv2(tmp_path / f"full{suffix}", rgb).read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(full[: len(full) * 2 // 3])
    with pytest.raises(ImageReadError, match="truncated|cannot be decoded|not a readable"):
        read_image(path)


def test_pixel_limit_is_checked_before_decoding(tmp_path: Path, rgb: np.ndarray) -> None:
    path = _save_cv2(tmp_path / "big.png", rgb)
    with pytest.raises(ImageReadError, match=r"90x70 = 0\.0 Mpx exceeds the limit"):
        read_image(path, max_pixels=1000)


def test_image_smaller_than_a_tile_is_refused(tmp_path: Path) -> None:
    path = _save_cv2(tmp_path / "tiny.png", np.zeros((20, 30, 3), np.uint8))
    with pytest.raises(ImageReadError, match="30x20 is smaller than one 64x64 tile"):
        read_image(path)


def test_idrid_palette_tiff_mask(tmp_path: Path) -> None:
    mask = np.zeros((50, 60), bool)
    mask[10:20, 5:15] = True
    path = tmp_path / "x_MA.tif"
    write_palette_tiff(path, mask)
    assert Image.open(path).mode == "P"
    np.testing.assert_array_equal(read_mask(path), mask)


def test_idrid_one_bit_tiff_mask(tmp_path: Path) -> None:
    mask = np.zeros((40, 48), bool)
    mask[3:9, 30:44] = True
    Image.fromarray(mask).convert("1").save(tmp_path / "m.tif")
    np.testing.assert_array_equal(read_mask(tmp_path / "m.tif"), mask)


def test_idrid_rgba_mask_uses_red_channel(tmp_path: Path) -> None:
    rgba = np.zeros((30, 30, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[5:10, 5:10, 0] = 255  # lesion: red
    rgba[20:25, 20:25, 1] = 255  # green only: not a lesion in IDRiD's convention
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    idrid = read_mask(tmp_path / "m.png")
    assert idrid.sum() == 25 and idrid[7, 7] and not idrid[22, 22]
    ddr = read_mask(tmp_path / "m.png", MaskConvention.DDR)
    assert ddr.sum() == 50


def test_mask_size_mismatch_names_file(tmp_path: Path) -> None:
    write_palette_tiff(tmp_path / "m.tif", np.ones((10, 12), bool))
    with pytest.raises(ImageReadError, match=r"m\.tif: mask size 12x10 differs from its image's 14x10"):
        read_mask(tmp_path / "m.tif", expected_shape=(10, 14))


def test_atomic_write_keeps_old_content_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json(target, {"version": 1})
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("partial")
        raise RuntimeError("disk full")
    assert '"version": 1' in target.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_atomic_write_replaces_and_is_readable(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.bin"
    write_bytes_atomic(target, b"one")
    write_bytes_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert target.stat().st_mode & 0o444  # not the 0600 of a bare temporary file


def test_write_png_round_trip(tmp_path: Path, rgb: np.ndarray) -> None:
    write_png(tmp_path / "c.png", rgb)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "c.png")), rgb)
    grey = rgb[..., 0]
    write_png(tmp_path / "g.png", grey)
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO((tmp_path / "g.png").read_bytes()))), grey)


def test_list_images_skips_masks_and_other_files(tmp_path: Path, rgb: np.ndarray) -> None:
    for name in ("b.jpg", "a.PNG", "a_MA.tif", "a_SE.tif", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in list_images(tmp_path)] == ["a.PNG", "b.jpg"]
    assert len(list_images(tmp_path, skip_masks=False)) == 4


def test_a_huge_non_image_is_refused_from_its_header(tmp_path) -> None:
    """Issue 13, defect 13: a 2 GiB file named .jpg was read whole (2.1 GB, 9.5 s) first."""
    import tracemalloc

    from core.errors import ImageReadError
    from core.imaging.io import read_image

    path = tmp_path / "backup.jpg"
    with open(path, "wb") as handle:
        handle.truncate(2 * 1024**3)  # sparse: no disk used
    tracemalloc.start()
    with pytest.raises(ImageReadError, match=r"backup\.jpg"):
        read_image(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 64 * 1024**2


def test_a_fifo_is_not_a_missing_file(tmp_path) -> None:
    import os

    from core.errors import ImageReadError
    from core.imaging.io import read_image

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    with pytest.raises(ImageReadError, match="not a regular file"):
        read_image(fifo)  # and does not block waiting for a writer


def test_a_multi_page_tiff_says_it_uses_the_first_page(tmp_path, caplog) -> None:
    from PIL import Image

    from core.imaging.io import read_image

    pages = [Image.new("RGB", (96, 80), colour) for colour in ((200, 10, 10), (10, 200, 10))]
    path = tmp_path / "stack.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    with caplog.at_level("WARNING"):
        image = read_image(path, min_side=64)
    assert image.shape == (80, 96, 3) and image[0, 0, 0] == 200
    assert "first of its 2 pages" in caplog.text
