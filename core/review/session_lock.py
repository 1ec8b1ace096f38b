"""One writer per review session: a lock file with its owner, host and time.

A clinic shares folders: two LesionLens windows (or a window and ``lesionlens review
--prefill``) on one folder would each save their own view of ``session.json`` and the last
one would win. The first writer holds ``session.lock``; a second opens the session
read-only and is told who holds it. A lock whose heartbeat is older than
:data:`STALE_AFTER_S`, or whose process is gone from this host, is stale and taken over.
A writer checks before every save that the lock is still its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.imaging.io import write_bytes_atomic

log = logging.getLogger(__name__)

LOCK_FILE = "session.lock"
#: A holder refreshes its heartbeat every minute (the app's timer) and at every save.
STALE_AFTER_S = 300


def _now() -> datetime:
    return datetime.now(UTC)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True)
class LockHolder:
    """Who holds a session (as written in its lock file)."""

    owner: str
    host: str
    pid: int
    token: str
    started: str
    heartbeat: str

    def describe(self) -> str:
        """For the reader: who, where, since when."""
        since = self.started[11:16] if len(self.started) >= 16 else self.started
        return f"{self.owner} on {self.host} (since {since} UTC)"

    def is_stale(self, now: datetime | None = None) -> bool:
        """Heartbeat too old, or the holding process is gone from this very host."""
        try:
            beat = datetime.fromisoformat(self.heartbeat)
        except ValueError:
            return True
        if (now or _now()) - beat > timedelta(seconds=STALE_AFTER_S):
            return True
        return self.host == socket.gethostname() and not _pid_alive(self.pid)

    def to_dict(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "host": self.host,
            "pid": self.pid,
            "token": self.token,
            "started": self.started,
            "heartbeat": self.heartbeat,
        }


def read_holder(path: Path) -> LockHolder | None:
    """The lock file's holder, or None when there is no usable lock file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(
            owner=str(data["owner"]),
            host=str(data["host"]),
            pid=int(data["pid"]),
            token=str(data["token"]),
            started=str(data["started"]),
            heartbeat=str(data["heartbeat"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


class SessionLock:
    """This process's claim on one session folder.

    Args:
        folder: the session folder (``.lesionlens`` or its fallback).
        owner: the reviewer's name, shown to a second writer.
    """

    def __init__(self, folder: Path, owner: str) -> None:
        self.path = folder / LOCK_FILE
        stamp = _now().isoformat(timespec="seconds")
        self.mine = LockHolder(owner, socket.gethostname(), os.getpid(), uuid.uuid4().hex, stamp, stamp)

    def acquire(self) -> LockHolder | None:
        """Take the lock; returns None when taken, else the (live) holder who keeps it.

        Raises:
            OSError: the folder cannot be written (the caller decides what that means).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = read_holder(self.path)
            if holder is not None and holder.token == self.mine.token:
                return None
            if holder is not None and not holder.is_stale():
                return holder
            log.warning(
                "taking over the stale review lock %s%s",
                self.path,
                f" of {holder.describe()}" if holder else " (unreadable)",
            )
            self._write()
            return None
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(self.mine.to_dict()))
        return None

    def _write(self) -> None:
        write_bytes_atomic(self.path, json.dumps(self.mine.to_dict()).encode("utf-8"))

    def still_mine(self) -> bool:
        """Whether the lock file still carries this process's token."""
        holder = read_holder(self.path)
        return holder is not None and holder.token == self.mine.token

    def refresh(self) -> bool:
        """Renew the heartbeat if the lock is still ours; False when someone took it over."""
        if not self.still_mine():
            return False
        stamp = _now().isoformat(timespec="seconds")
        self.mine = LockHolder(**{**self.mine.to_dict(), "heartbeat": stamp})
        try:
            self._write()
        except OSError as exc:
            log.warning("could not renew the review lock %s: %s", self.path, exc)
        return True

    def release(self) -> None:
        """Remove the lock file if it is still ours, and the session folder if nothing else is in
        it (looking at a folder without reviewing leaves nothing behind)."""
        if self.still_mine():
            self.path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # only succeeds when empty
                self.path.parent.rmdir()

    def current_holder(self) -> LockHolder | None:
        """Who holds the lock now (after a take-over, the other process)."""
        return read_holder(self.path)
