"""Reading fundus photographs and lesion masks; atomic writes.

Images come back as H x W x 3 uint8 RGB whatever the file held (8/16-bit, grey, RGB,
RGBA, EXIF-rotated); masks as H x W bool. Every refusal is an :class:`ImageReadError`
naming the file, the reason and the fix.
"""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from core.errors import ImageReadError

log = logging.getLogger(__name__)

#: Largest image accepted by default: 100 Mpx (IDRiD photographs are 12.2 Mpx).
DEFAULT_MAX_PIXELS = 100_000_000
#: Smallest accepted side by default: one 64 px training tile.
DEFAULT_MIN_SIDE = 64
#: Largest file read as an image (a 100-Mpx 16-bit RGB TIFF, uncompressed, is 600 MB).
MAX_FILE_BYTES = 1024**3
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")

_EXIF_ORIENTATION_TAG = 274
_MASK_SUFFIXES = ("_MA", "_HE", "_EX", "_SE", "_OD")


def _umask_mode() -> int:
    """File mode a plain ``open()`` would give under the current umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _umask_mode()


class MaskConvention(Enum):
    """How a mask file encodes lesion pixels."""

    IDRID = "idrid"  # lesion = non-zero red channel (palette red, RGBA) or single channel
    DDR = "ddr"  # lesion = any non-zero value in any channel


def _fail(path: Path, reason: str, fix: str) -> ImageReadError:
    return ImageReadError(f"{path}: {reason}. {fix}")


def _check_file(path: Path) -> None:
    """Refuse what is not a regular, non-empty file of a photograph's size, before opening it
    (opening a FIFO would wait for a writer; reading a 2 GiB backup would take 2 GB)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise _fail(path, "file not found", "Check the path.") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "Check permissions.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise _fail(path, "is a folder, not an image file", "Choose an image file.")
    if not stat.S_ISREG(info.st_mode):
        raise _fail(path, "not a regular file (a pipe, device or socket)", "Choose an image file.")
    if info.st_size == 0:
        raise _fail(path, "the file is empty (0 bytes)", "Copy the image again.")
    if info.st_size > MAX_FILE_BYTES:
        raise _fail(
            path,
            f"{info.st_size / 2**30:.1f} GiB, more than any photograph LesionLens reads "
            f"({MAX_FILE_BYTES / 2**30:.0f} GiB)",
            "Choose the photograph itself, not an archive or a backup.",
        )


def _read_bytes(path: Path) -> bytes:
    _check_file(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror})", "Check permissions.") from exc
    if not data:
        raise _fail(path, "the file is empty (0 bytes)", "Copy the image again.")
    return data


def _check_complete(path: Path, data: bytes, fmt: str) -> None:
    """Refuse JPEG and PNG files whose end marker is missing (truncated downloads/copies)."""
    tail = data[-64:].rstrip(b"\x00\r\n ")
    truncated = (fmt == "JPEG" and not tail.endswith(b"\xff\xd9")) or (fmt == "PNG" and b"IEND" not in tail)
    if truncated:
        raise _fail(
            path,
            f"the {fmt} file is truncated (its end marker is missing)",
            "Copy or export the image again.",
        )


def _header(path: Path, data: bytes | None = None) -> tuple[str, tuple[int, int], int]:
    """Format, (height, width) and EXIF orientation (1..8) from the header only (read from
    ``data``, or from the file without reading the rest of it)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data) if data is not None else path) as img:
                orientation = int(img.getexif().get(_EXIF_ORIENTATION_TAG, 1) or 1)
                frames = int(getattr(img, "n_frames", 1) or 1)
                if frames > 1:
                    unit = "pages" if img.format == "TIFF" else "frames"
                    log.warning("%s: uses the first of its %d %s; the others are ignored", path, frames, unit)
                return str(img.format), (img.height, img.width), orientation
    except Image.DecompressionBombError as exc:
        raise _fail(path, f"too many pixels ({exc})", "Downscale the image.") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _fail(
            path,
            "not a readable image (unknown or damaged format)",
            f"Use JPEG, PNG, TIFF or BMP ({', '.join(IMAGE_SUFFIXES)}).",
        ) from exc


def _decode(path: Path, data: bytes) -> np.ndarray:
    array = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if array is None or array.size == 0:
        raise _fail(path, "the image data cannot be decoded (damaged file)", "Export it again.")
    return array


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation to an H x W (x C) array, as Pillow's exif_transpose does."""
    if orientation == 2:
        array = array[:, ::-1]
    elif orientation == 3:
        array = array[::-1, ::-1]
    elif orientation == 4:
        array = array[::-1]
    elif orientation == 5:
        array = np.swapaxes(array, 0, 1)
    elif orientation == 6:
        array = np.rot90(array, -1)
    elif orientation == 7:
        array = np.swapaxes(array[::-1, ::-1], 0, 1)
    elif orientation == 8:
        array = np.rot90(array, 1)
    return np.ascontiguousarray(array)


def _to_uint8(path: Path, array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:
        return ((array.astype(np.float32) + 128.0) / 257.0).astype(np.uint8)
    raise _fail(
        path,
        f"unsupported sample type {array.dtype} (8- and 16-bit integer images are supported)",
        "Convert it to an 8-bit JPEG/PNG or a 16-bit PNG/TIFF.",
    )


def _to_rgb(path: Path, array: np.ndarray) -> np.ndarray:
    """OpenCV channel layouts (grey, BGR, BGRA) to RGB uint8; alpha composited on black."""
    if array.ndim == 2:
        return cv2.cvtColor(array, cv2.COLOR_GRAY2RGB)
    channels = array.shape[2]
    if channels == 1:
        return cv2.cvtColor(array[:, :, 0], cv2.COLOR_GRAY2RGB)
    if channels == 3:
        return cv2.cvtColor(array, cv2.COLOR_BGR2RGB)
    if channels == 4:
        alpha = array[:, :, 3:4].astype(np.uint16)
        rgb = cv2.cvtColor(array[:, :, :3], cv2.COLOR_BGR2RGB).astype(np.uint16)
        return ((rgb * alpha + 127) // 255).astype(np.uint8)
    raise _fail(path, f"{channels} colour channels", "Save it as grey, RGB or RGBA.")


def image_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """(height, width) of an image file from its header (EXIF orientation applied), without
    decoding it.

    Raises:
        ImageReadError: not a readable image file.
    """
    path = Path(path)
    _check_file(path)
    _, (height, width), orientation = _header(path)
    return (width, height) if orientation in (5, 6, 7, 8) else (height, width)


def read_image(
    path: str | os.PathLike[str],
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    min_side: int = DEFAULT_MIN_SIDE,
) -> np.ndarray:
    """Read a fundus photograph.

    Args:
        path: JPEG, PNG, TIFF or BMP file; any Unicode path.
        max_pixels: refuse larger images (checked from the header, before decoding).
        min_side: refuse images whose shorter side is below this (one tile).

    Returns:
        H x W x 3 uint8 RGB array, EXIF orientation applied, alpha composited on black.

    Raises:
        ImageReadError: empty, missing, non-image, truncated, too large or too small file.
    """
    path = Path(path)
    _check_file(path)
    fmt, (height, width), orientation = _header(path)  # before reading the whole file
    if height * width > max_pixels:
        raise _fail(
            path,
            f"{width}x{height} = {height * width / 1e6:.1f} Mpx exceeds the limit of "
            f"{max_pixels / 1e6:.1f} Mpx",
            "Downscale the photograph or raise the pixel limit.",
        )
    if min(height, width) < min_side:
        raise _fail(
            path,
            f"{width}x{height} is smaller than one {min_side}x{min_side} tile",
            "Use the full-resolution photograph.",
        )
    data = _read_bytes(path)
    _check_complete(path, data, fmt)
    array = _decode(path, data)
    if array.shape[:2] != (height, width):
        raise _fail(
            path,
            f"decoded size {array.shape[1]}x{array.shape[0]} differs from the header's "
            f"{width}x{height} (damaged file)",
            "Export the image again.",
        )
    rgb = _to_rgb(path, _to_uint8(path, array))
    return _apply_orientation(rgb, orientation)


def read_mask(
    path: str | os.PathLike[str],
    convention: MaskConvention = MaskConvention.IDRID,
    expected_shape: tuple[int, int] | None = None,
) -> np.ndarray:
    """Read a lesion mask.

    Args:
        path: mask file (TIFF palette/1-bit/8-bit, PNG, RGBA, ...).
        convention: IDRiD (non-zero red or single channel) or DDR (any non-zero value).
        expected_shape: (H, W) the mask must have, e.g. its photograph's.

    Returns:
        H x W bool array, True on lesion pixels.
    """
    path = Path(path)
    data = _read_bytes(path)
    _header(path, data)
    array = _decode(path, data)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim == 2:
        mask = array != 0
    elif convention is MaskConvention.IDRID:
        mask = array[:, :, 2] != 0  # OpenCV order is B, G, R(, A)
    else:
        mask = np.any(array[:, :, :3] != 0, axis=2)
    if expected_shape is not None and mask.shape != tuple(expected_shape):
        raise _fail(
            path,
            f"mask size {mask.shape[1]}x{mask.shape[0]} differs from its image's "
            f"{expected_shape[1]}x{expected_shape[0]}",
            "Use the mask that belongs to this image.",
        )
    return mask


def is_mask_name(path: Path) -> bool:
    """True for IDRiD-style mask names such as ``IDRiD_01_MA.tif``."""
    return path.stem.upper().endswith(_MASK_SUFFIXES)


def find_with_stem(folder: Path, stem: str) -> Path | None:
    """The image file ``<folder>/<stem>.<ext>`` for any supported extension (either case), or None."""
    for suffix in IMAGE_SUFFIXES + tuple(s.upper() for s in IMAGE_SUFFIXES):
        candidate = folder / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def list_images(folder: str | os.PathLike[str], skip_masks: bool = True) -> list[Path]:
    """Image files directly inside a folder, sorted by name.

    With ``skip_masks``, files named like masks (``<stem>_MA.tif``, ``_HE``, ``_EX``,
    ``_SE``, ``_OD``) are left out: they sit beside their photographs in IDRiD-style folders.
    """
    return sorted(
        p
        for p in Path(folder).iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not (skip_masks and is_mask_name(p))
    )


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A reader never sees a partial file: on any exception the temporary file is removed
    and ``path`` keeps its previous content (or stays absent).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(_FILE_MODE)  # mkstemp creates 0600; outputs should be readable like any file
    try:
        yield tmp
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write bytes so that ``path`` is either the old file or the complete new one."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def encode_png(array: np.ndarray, compression: int = 3) -> bytes:
    """PNG bytes of an H x W uint8 (grey) or H x W x 3 uint8 RGB array."""
    if array.dtype != np.uint8:
        raise ValueError(f"PNG export needs uint8, got {array.dtype}")
    if array.ndim == 3:
        array = cv2.cvtColor(array, cv2.COLOR_RGB2BGR)
    ok, buffer = cv2.imencode(".png", array, [cv2.IMWRITE_PNG_COMPRESSION, compression])
    if not ok:
        raise ValueError(f"PNG encoding failed for an array of shape {array.shape}")
    return buffer.tobytes()


def write_png(path: str | os.PathLike[str], array: np.ndarray, compression: int = 3) -> None:
    """Atomically write an H x W or H x W x 3 (RGB) uint8 array as PNG (zlib level 0..9)."""
    write_bytes_atomic(path, encode_png(array, compression))


def write_json(path: str | os.PathLike[str], payload: Any) -> None:
    """Atomically write a JSON document (UTF-8, indented)."""
    text = json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=False)
    write_bytes_atomic(path, (text + "\n").encode("utf-8"))
