"""Where a review session's files live and how its mask files are checked.

``session_dir_for`` picks the session folder (inside the photographs' folder, or the user's
data folder when that one is read-only); ``copy_session`` moves a session; a saved mask is
judged from its PNG header before decoding, and a damaged one is copied aside before it can be
overwritten.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from core.imaging.io import write_bytes_atomic

SESSION_DIR = ".lesionlens"
SESSION_FILE = "session.json"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
        return True
    except OSError:
        return False


def session_dir_for(folder: Path) -> Path:
    """Where the session of ``folder`` is kept: inside it if writable, else the user's data folder.

    A read-only folder that already holds a session (a colleague's, or one from before the
    folder was locked) has it copied to the user's data folder the first time, so the review
    goes on from it there and every save lands somewhere.
    """
    inside = folder / SESSION_DIR
    if _writable(inside):
        return inside
    base = Path(os.environ.get("LESIONLENS_DATA_DIR") or Path.home() / ".local" / "share" / "lesionlens")
    fallback = base / "sessions" / hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    if (inside / SESSION_FILE).is_file() and not (fallback / SESSION_FILE).is_file():
        copy_session(inside, fallback)
    return fallback


def copy_session(source: Path, target: Path) -> None:
    """Copy a session folder's masks and then its session file (last: its presence means whole)."""
    (target / "masks").mkdir(parents=True, exist_ok=True)
    masks = source / "masks"
    for path in sorted(masks.glob("*.png")) if masks.is_dir() else []:
        if path.is_file() and not path.is_symlink():
            write_bytes_atomic(target / "masks" / path.name, path.read_bytes())
    write_bytes_atomic(target / SESSION_FILE, (source / SESSION_FILE).read_bytes())


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _mask_file_problem(path: Path, shape: tuple[int, int]) -> str | None:
    """What is wrong with a saved mask file, judged from its 33-byte PNG header before any
    decoding (a tiny PNG may declare 30000 x 30000 pixels), or None if it may be read."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(33)
    except FileNotFoundError:
        return "the file is missing"
    except OSError as exc:
        return f"it cannot be read: {exc.strerror or exc}"
    if len(header) < 33 or not header.startswith(_PNG_SIGNATURE) or header[12:16] != b"IHDR":
        return "not a PNG file"
    width, height = struct.unpack(">II", header[16:24])
    if (height, width) != shape:
        return f"{width}x{height} pixels, the photograph has {shape[1]}x{shape[0]}"
    if header[24] != 8 or header[25] != 0:
        return f"bit depth {header[24]}, colour type {header[25]}; reviewed masks are 8-bit grey"
    return None


def _keep_aside(path: Path) -> Path | None:
    """Copy a damaged mask file beside itself (once per content) before it can be overwritten."""
    try:
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
    except OSError:
        return None
    if not data:
        return None
    backup = path.with_name(f"{path.stem}.damaged-{hashlib.sha256(data).hexdigest()[:8]}.png")
    if not backup.exists():
        try:
            write_bytes_atomic(backup, data)
        except OSError:
            return None
    return backup
