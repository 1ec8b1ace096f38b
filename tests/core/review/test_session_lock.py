"""One writer per review session (issue 13, defect 1): the second opens read-only, nothing is dropped."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from core.review.session import ReviewSession, ReviewStatus, SessionError
from core.review.session_lock import LOCK_FILE, SessionLock, read_holder


def _edit(session: ReviewSession, name: str, comment: str) -> None:
    review = session.image(name)
    review.comment = comment
    review.status = ReviewStatus.IN_PROGRESS


def test_a_second_writer_opens_read_only_and_the_first_keeps_its_work(tmp_path: Path) -> None:
    first = ReviewSession.open(tmp_path, lock=True)
    first.reviewer = "dr-a"
    second = ReviewSession.open(tmp_path, lock=True)
    assert first.read_only is None and first.lock is not None
    assert second.read_only is not None and socket.gethostname() in second.read_only
    _edit(first, "1.jpg", "from A")
    _edit(second, "2.jpg", "from B")
    first.save()
    with pytest.raises(SessionError, match="read-only"):
        second.save()
    second.save_to(tmp_path / "elsewhere")  # nothing a reviewer did is dropped
    assert ReviewSession.open(tmp_path).images["1.jpg"].comment == "from A"
    moved = json.loads((tmp_path / "elsewhere" / "session.json").read_text(encoding="utf-8"))
    assert moved["images"]["2.jpg"]["comment"] == "from B"


def test_a_writer_whose_lock_was_taken_over_stops_writing(tmp_path: Path) -> None:
    first = ReviewSession.open(tmp_path, lock=True)
    _edit(first, "1.jpg", "A")
    first.save()
    lock_file = first.location / LOCK_FILE
    holder = json.loads(lock_file.read_text())
    lock_file.write_text(json.dumps({**holder, "token": "someone-else", "owner": "dr-b"}))
    _edit(first, "1.jpg", "A, later")
    with pytest.raises(SessionError, match="dr-b .* took over"):
        first.save()
    assert ReviewSession.open(tmp_path).images["1.jpg"].comment == "A"


@pytest.mark.parametrize("stale", ["old heartbeat", "dead process", "damaged lock file"])
def test_a_stale_lock_is_taken_over(tmp_path: Path, stale: str) -> None:
    folder = tmp_path / ".lesionlens"
    folder.mkdir()
    holder = SessionLock(folder, "dr-gone").mine.to_dict()
    if stale == "old heartbeat":
        holder.update(host="another-host", heartbeat="2026-01-01T00:00:00+00:00")
    elif stale == "dead process":
        holder.update(pid=2**22 + 12345)  # no such process on this host
    (folder / LOCK_FILE).write_text("{" if stale == "damaged lock file" else json.dumps(holder))
    session = ReviewSession.open(tmp_path, lock=True)
    assert session.read_only is None
    assert read_holder(folder / LOCK_FILE).token == session.lock.mine.token


def test_a_live_lock_on_another_host_is_respected(tmp_path: Path) -> None:
    folder = tmp_path / ".lesionlens"
    folder.mkdir()
    holder = {**SessionLock(folder, "dr-b").mine.to_dict(), "host": "ward-pc-2"}
    (folder / LOCK_FILE).write_text(json.dumps(holder))
    session = ReviewSession.open(tmp_path, lock=True)
    assert session.read_only is not None and "dr-b on ward-pc-2" in session.read_only


def test_release_removes_only_our_own_lock(tmp_path: Path) -> None:
    first = ReviewSession.open(tmp_path, lock=True)
    lock_file = first.location / LOCK_FILE
    first.release()
    assert not lock_file.exists()
    second = ReviewSession.open(tmp_path, lock=True)
    first.lock = SessionLock(first.location, "dr-a")  # a stale object of an earlier claim
    first.release()
    assert read_holder(lock_file).token == second.lock.mine.token


def test_looking_at_a_folder_without_reviewing_leaves_nothing_behind(tmp_path: Path) -> None:
    """A ``--screenshot`` run (or opening and closing a folder) left an empty ``.lesionlens/``."""
    looked = (
        ReviewSession.open(tmp_path / "looked", lock=True) if (tmp_path / "looked").mkdir() is None else None
    )
    assert looked is not None and looked.location.is_dir()
    looked.release()
    assert not looked.location.exists()
    worked = ReviewSession.open(tmp_path, lock=True)
    _edit(worked, "a.jpg", "checked")
    worked.save()
    worked.release()
    assert (worked.location / "session.json").is_file()  # a folder with work keeps it
