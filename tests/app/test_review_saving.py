"""Saving a review: journaled within a second, a full disk said plainly, closing with unsaved
work, a folder another window holds (app/review_saving.py; pytest-qt, offscreen)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from app.controller import Controller
from core.lesions import Lesion
from core.review.session import ReviewSession
from tests.app.conftest import drag, wait_displayed


def _mask(controller: Controller, lesion: Lesion = Lesion.EX):
    return controller.review.mask(lesion, adopt=False)


def _saving_fails_except_under(monkeypatch, rescue: Path) -> None:
    """Every save fails (a read-only or full disk) unless the session was moved under ``rescue``."""
    from core.review.session import ReviewSession, SessionError

    original = ReviewSession.write

    def write(self, snapshot):  # type: ignore[no-untyped-def]
        if not self.location.is_relative_to(rescue):
            raise SessionError(
                f"{self.location}: could not save the review session (No space left on device)"
            )
        return original(self, snapshot)

    monkeypatch.setattr(ReviewSession, "write", write)


def test_closing_with_unsaved_work_offers_to_save_it_elsewhere(
    qtbot, opened: Controller, tmp_path: Path, monkeypatch
) -> None:
    """Issue 13, defect 2: closing after failed saves had no prompt and lost the work."""
    from app.review_saving import SAVE_ELSEWHERE, STAY

    c = opened
    rescue = tmp_path / "usb"
    rescue.mkdir()
    _saving_fails_except_under(monkeypatch, rescue)
    c.review.panel.comment.setText("microaneurysms near the fovea")
    c.review.panel.comment.textEdited.emit("microaneurysms near the fovea")
    answers = [STAY, SAVE_ELSEWHERE]
    asked: list[str] = []
    c.notifier.choose = lambda _t, text, _o: asked.append(text) or answers.pop(0)  # type: ignore[method-assign]
    c.notifier.choose_folder = lambda _t: rescue  # type: ignore[method-assign]
    c.window.close()
    assert c.window.isVisible(), "going back to the review keeps the window open"
    assert "could not be saved" in asked[0] and "No space left" in asked[0]
    c.window.close()
    assert not c.window.isVisible()
    [saved] = list(rescue.glob("lesionlens-review-*/session.json"))
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert any(image["comment"] == "microaneurysms near the fovea" for image in document["images"].values())


def test_a_folder_another_window_reviews_opens_read_only_with_a_banner(
    qtbot, controller: Controller, dataset: list[Path]
) -> None:
    """Issue 13, defect 1: two windows on one folder each said "saved"; the last writer won."""
    from core.review.session_lock import LOCK_FILE, SessionLock

    folder = dataset[0].parent / ".lesionlens"
    folder.mkdir(exist_ok=True)
    holder = {**SessionLock(folder, "dr-b").mine.to_dict(), "host": "ward-pc-2"}
    (folder / LOCK_FILE).write_text(json.dumps(holder))
    c = controller
    c.open_paths(list(dataset))

    wait_displayed(qtbot, c, dataset[0])
    label = c.review.panel.save_label.text()
    assert label.startswith("READ-ONLY") and "dr-b on ward-pc-2" in label
    c.review.panel.comment.setText("my notes")
    c.review.panel.comment.textEdited.emit("my notes")
    qtbot.wait(1500)  # the journal's delay
    assert not (folder / "session.json").exists(), "the other window's review was not overwritten"
    assert json.loads((folder / LOCK_FILE).read_text())["owner"] == "dr-b"


def test_edits_are_journaled_within_a_second(qtbot, opened: Controller, dataset: list[Path]) -> None:
    c = opened
    c.window.action("tool_brush").trigger()
    drag(qtbot, c, [(300, 300), (300, 340)])
    session_file = dataset[0].parent / ".lesionlens" / "session.json"
    qtbot.waitUntil(lambda: session_file.is_file(), timeout=1000)
    qtbot.waitUntil(
        lambda: (
            not ReviewSession.open(dataset[0].parent).dirty_masks()
            and c.review.panel.save_label.text().startswith("saved")
        ),
        timeout=2000,
    )
    restored = ReviewSession.open(dataset[0].parent)
    states = restored.load_mask(dataset[0].name, Lesion.EX, (480, 720)).states
    np.testing.assert_array_equal(states, _mask(c).states)


def test_full_disk_keeps_the_session_and_says_so(
    qtbot, opened: Controller, dataset: list[Path], monkeypatch
) -> None:
    import errno

    import core.review.session as session_module

    c = opened
    c.window.action("tool_brush").trigger()
    drag(qtbot, c, [(300, 300), (300, 340)])
    qtbot.waitUntil(lambda: c.review.panel.save_label.text().startswith("saved"), timeout=3000)
    saved = (dataset[0].parent / ".lesionlens" / "session.json").read_bytes()

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(session_module, "write_json", full)
    c.review.panel.comment.textEdited.emit("after the disk filled up")
    with qtbot.waitSignal(c.error, timeout=3000) as blocker:
        pass
    assert "No space left" in blocker.args[0] and "kept in memory" in blocker.args[0]
    assert c.review.panel.save_label.text().startswith("NOT SAVED")
    assert (dataset[0].parent / ".lesionlens" / "session.json").read_bytes() == saved
    monkeypatch.undo()
    c.review.panel.comment.textEdited.emit("disk free again")
    qtbot.waitUntil(
        lambda: c.review.panel.save_label.text().startswith("saved"),
        timeout=3000,
    )
    assert ReviewSession.open(dataset[0].parent).images[dataset[0].name].comment == "disk free again"
