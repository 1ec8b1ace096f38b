"""Soak test of the review journal: hundreds of edits, the writer killed at random points
(issue 13). After every kill the session must open, and every edit whose save had returned
must be in it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.review.session import ReviewSession
from tests.core.review.soak_session import JOURNAL_EDITS, NAME, saved_edit

ROOT = Path(__file__).resolve().parents[3]
EDITS = 400


@pytest.mark.slow
def test_killed_writers_never_lose_a_saved_edit(tmp_path: Path) -> None:
    rng = random.Random(13)
    confirmed, kills, lost = -1, 0, 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    while confirmed < EDITS:
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.core.review.soak_session", str(tmp_path)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(rng.uniform(0.3, 1.2))  # imports take ~0.3 s: some kills land before any save
        child.send_signal(signal.SIGKILL)
        output, _ = child.communicate()
        kills += 1
        saved = [int(line.split()[1]) for line in output.splitlines() if line.startswith("SAVED ")]
        if saved:
            confirmed = max(confirmed, saved[-1])
        session = ReviewSession.open(tmp_path)  # a kill must never leave anything unreadable
        recorded = int(session.images[NAME].comment.split()[1]) if NAME in session.images else -1
        lost += max(0, confirmed - recorded)
        # killed after a write but before its confirmation: the file is one journal write ahead
        assert recorded - confirmed in (0, JOURNAL_EDITS) or confirmed < 0
        saved_edit(session)  # the mask is a replay of the recorded edits (or one write ahead)
        confirmed = max(confirmed, recorded)
    print(f"soak: {confirmed + 1} edits, {kills} kills survived, {lost} saved edits lost")  # noqa: T201
    assert lost == 0 and kills >= 10
