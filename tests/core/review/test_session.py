"""Review sessions: journal, restore, read-only folders, damaged files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from core.lesions import Lesion
from core.review.editable_mask import EditableMask, MaskState
from core.review.session import ReviewSession, ReviewStatus, SessionError, session_dir_for


def _session_with_edits(folder: Path) -> ReviewSession:
    session = ReviewSession.open(folder)
    session.reviewer = "dr-a"
    session.thresholds = {Lesion.MA: 0.4, Lesion.EX: 0.7}
    review = session.image("eye.jpg")
    review.status, review.comment = ReviewStatus.FLAGGED, "check the disc"
    probability = np.zeros((40, 50), np.uint8)
    probability[5:10, 5:10] = 200
    mask = EditableMask.adopt(probability, 0.4)
    mask.brush((20, 20), (20, 30), radius=2)
    review.lesions[Lesion.EX].mask = mask
    review.lesions[Lesion.EX].adopted_threshold = 0.4
    review.lesions[Lesion.EX].status = ReviewStatus.REVIEWED
    return session


def test_save_and_restore(tmp_path: Path) -> None:
    session = _session_with_edits(tmp_path)
    states = session.images["eye.jpg"].lesions[Lesion.EX].mask.states.copy()
    session.save()
    assert session.file == tmp_path / ".lesionlens" / "session.json"
    assert session.dirty_masks() == []
    again = ReviewSession.open(tmp_path)
    assert again.reviewer == "dr-a" and again.thresholds[Lesion.EX] == 0.7
    review = again.images["eye.jpg"]
    assert review.status is ReviewStatus.FLAGGED and review.comment == "check the disc"
    assert review.lesions[Lesion.EX].status is ReviewStatus.REVIEWED
    mask = again.load_mask("eye.jpg", Lesion.EX, (40, 50))
    np.testing.assert_array_equal(mask.states, states)
    assert (mask.states == MaskState.ADDED).any()
    assert again.load_mask("eye.jpg", Lesion.MA, (40, 50)) is None


def test_only_changed_masks_are_rewritten(tmp_path: Path) -> None:
    session = _session_with_edits(tmp_path)
    session.save()
    path = session.mask_path("eye.jpg", Lesion.EX)
    stamp = path.stat().st_mtime_ns
    _, masks = session.snapshot()
    assert masks == []
    session.images["eye.jpg"].lesions[Lesion.EX].mask.brush((30, 30), (30, 30), radius=1)
    _, masks = session.snapshot()
    assert [m[0] for m in masks] == [path]
    session.save()
    assert path.stat().st_mtime_ns >= stamp


def test_read_only_folder_uses_the_user_data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import core.review.session_files as session_module

    photos = tmp_path / "photos"
    photos.mkdir()
    monkeypatch.setenv("LESIONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(session_module, "_writable", lambda folder: not folder.is_relative_to(photos))
    location = session_dir_for(photos)
    assert location.is_relative_to(tmp_path / "data")
    session = _session_with_edits(photos)
    session.save()
    assert not (photos / ".lesionlens").exists()
    assert ReviewSession.open(photos).images["eye.jpg"].comment == "check the disc"


def test_writable_probe_detects_a_read_only_folder(tmp_path: Path) -> None:
    from core.review.session import _writable

    assert _writable(tmp_path / "new")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        assert not _writable(locked / ".lesionlens")
    finally:
        locked.chmod(0o755)


def test_failed_write_keeps_the_previous_files_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import core.review.session as session_module

    session = _session_with_edits(tmp_path)
    session.save()
    before = session.file.read_bytes()
    session.images["eye.jpg"].comment = "changed"
    session.images["eye.jpg"].lesions[Lesion.EX].mask.brush((35, 5), (35, 45), radius=1)

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(session_module, "write_json", full)
        with pytest.raises(SessionError, match="could not save.*No space left.*kept in memory"):
            session.save()
    assert session.file.read_bytes() == before
    assert session.dirty_masks(), "a mask not confirmed on disk stays dirty"
    session.save()
    restored = ReviewSession.open(tmp_path)
    assert restored.images["eye.jpg"].comment == "changed"


def test_damaged_files_give_clear_errors(tmp_path: Path) -> None:
    session = _session_with_edits(tmp_path)
    session.save()
    session.mask_path("eye.jpg", Lesion.EX).write_bytes(b"junk")
    again = ReviewSession.open(tmp_path)
    with pytest.raises(SessionError, match="eye.jpg.EX.png.*adopt the prediction again"):
        again.load_mask("eye.jpg", Lesion.EX, (40, 50))
    session.file.write_text("{not json")
    with pytest.raises(SessionError, match="left untouched"):
        ReviewSession.open(tmp_path)
    assert session.file.read_text() == "{not json"


def test_names_must_stay_inside_the_folder(tmp_path: Path) -> None:
    session = ReviewSession(tmp_path)
    for bad in ("../x.jpg", "a/b.jpg", ".."):
        with pytest.raises(SessionError):
            session.image(bad)


def _saved(folder: Path) -> tuple[ReviewSession, Path]:
    session = _session_with_edits(folder)
    session.save()
    return ReviewSession.open(folder), session.mask_path("eye.jpg", Lesion.EX)


def _png_header(width: int, height: int, depth: int = 8, colour: int = 0) -> bytes:
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (_png_header(30000, 30000), "30000x30000 pixels, the photograph has 50x40"),
        (_png_header(50, 40, depth=16, colour=2), "bit depth 16, colour type 2"),
    ],
)
def test_a_mask_png_is_judged_by_its_header_before_decoding(tmp_path: Path, header: bytes, says: str) -> None:
    """Issue 13, defect 5: a 0.9 MB PNG declaring 30000 x 30000 px took 2 GB before the size check."""
    session, path = _saved(tmp_path)
    path.write_bytes(header + b"\x00" * 1000)
    with pytest.raises(SessionError, match=says):
        session.load_mask("eye.jpg", Lesion.EX, (40, 50))


def test_a_damaged_mask_is_kept_aside_before_it_can_be_overwritten(tmp_path: Path) -> None:
    """Issue 13, defect 7: the next brush stroke re-adopted the lesion and overwrote the PNG."""
    session, path = _saved(tmp_path)
    damaged = b"\x89PNG\r\n\x1a\n garbage that a sync tool left"
    path.write_bytes(damaged)
    with pytest.raises(SessionError, match=r"copied to eye\.jpg\.EX\.damaged-[0-9a-f]{8}\.png"):
        session.load_mask("eye.jpg", Lesion.EX, (40, 50))
    [backup] = path.parent.glob("*.damaged-*.png")
    assert backup.read_bytes() == damaged
    with pytest.raises(SessionError):  # a second attempt makes no second copy
        session.load_mask("eye.jpg", Lesion.EX, (40, 50))
    assert len(list(path.parent.glob("*.damaged-*.png"))) == 1


def test_masks_are_never_written_or_read_through_symbolic_links(tmp_path: Path) -> None:
    """Issue 13, defect 6."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "photos"
    folder.mkdir()
    session, path = _saved(folder)
    masks = path.parent
    masks.rename(tmp_path / "old-masks")
    masks.symlink_to(elsewhere, target_is_directory=True)
    session.images["eye.jpg"].lesions[Lesion.EX].mask = (
        _session_with_edits(folder).images["eye.jpg"].lesions[Lesion.EX].mask
    )
    with pytest.raises(SessionError, match="symbolic link"):
        session.save()
    assert list(elsewhere.iterdir()) == []
    masks.unlink()
    (tmp_path / "old-masks").rename(masks)
    outside = tmp_path / "outside.png"
    path.rename(outside)
    path.symlink_to(outside)
    with pytest.raises(SessionError, match="symbolic link"):
        ReviewSession.open(folder).load_mask("eye.jpg", Lesion.EX, (40, 50))


def test_a_read_only_folder_with_a_session_goes_on_in_the_user_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13, defect 2: every save said NOT SAVED; the README promised the data folder."""
    import core.review.session_files as session_module

    photos = tmp_path / "photos"
    photos.mkdir()
    _session_with_edits(photos).save()  # written while the folder was writable
    monkeypatch.setenv("LESIONLENS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setattr(session_module, "_writable", lambda folder: not folder.is_relative_to(photos))
    again = ReviewSession.open(photos)
    assert again.location.is_relative_to(tmp_path / "data")
    assert again.images["eye.jpg"].comment == "check the disc"
    assert again.load_mask("eye.jpg", Lesion.EX, (40, 50)) is not None  # the masks came along
    again.images["eye.jpg"].comment = "second look"
    again.save()
    assert ReviewSession.open(photos).images["eye.jpg"].comment == "second look"


def test_save_to_moves_the_whole_session(tmp_path: Path) -> None:
    session = _session_with_edits(tmp_path / "photos")
    session.save()
    elsewhere = tmp_path / "usb" / "session"
    session.save_to(elsewhere)
    assert (elsewhere / "session.json").is_file()
    assert (elsewhere / "masks" / "eye.jpg.EX.png").is_file()
    moved = ReviewSession(tmp_path / "photos", location=elsewhere)
    moved._read()
    assert moved.images["eye.jpg"].comment == "check the disc"


def test_a_review_starts_with_its_first_change_and_only_then_counts_as_work(tmp_path: Path) -> None:
    session = ReviewSession(tmp_path, location=tmp_path / "session")
    review = session.image("a.png")
    assert not review.started and not session.has_work
    review.touch()
    assert review.started and review.status is ReviewStatus.IN_PROGRESS and session.has_work
    review.status = ReviewStatus.REVIEWED
    review.touch()  # a later change does not demote a finished review
    assert review.status is ReviewStatus.REVIEWED
