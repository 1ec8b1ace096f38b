"""The Review panel shows the record of the photograph on screen, and "reviewed" means every
lesion was looked at or knowingly accepted (issue 11, defects 2 and 3)."""

from __future__ import annotations

import json
from pathlib import Path

from app.controller import Controller
from core.lesions import LESIONS, Lesion
from core.session import ReviewStatus
from tests.app.conftest import answer_questions


def test_a_photograph_that_fails_to_open_shows_no_previous_record(
    qtbot, opened: Controller, tmp_path: Path
) -> None:
    c = opened
    panel = c.review.panel
    panel.comment.setText("first photograph's comment")
    panel.comment.textEdited.emit("first photograph's comment")
    c.window.action("flag_image").trigger()
    assert panel.image_status.currentData() is ReviewStatus.FLAGGED
    broken = tmp_path / "empty.jpg"
    broken.write_bytes(b"")
    c.open_paths([broken], select=True)
    qtbot.waitUntil(lambda: bool(c.review.panel.record_label.text().startswith("empty.jpg")), timeout=10000)
    assert panel.comment.text() == "" and not panel.comment.isEnabled()
    assert panel.image_status.currentData() is ReviewStatus.NOT_STARTED and not panel.image_status.isEnabled()
    assert all(not box.isEnabled() for box in panel.lesion_status.values())
    assert c.panel.truth_label.text() == "ground truth: -"
    assert c.window.pixel_label.text() == ""
    assert c.state.review is None
    c.review.set_comment("typed with nothing open")
    assert "not recorded" in c.window.statusBar().currentMessage()


def test_marking_reviewed_asks_about_unopened_lesions_and_records_them(
    qtbot, opened: Controller, dataset: list[Path], tmp_path: Path
) -> None:
    c = opened
    c.window.action("active_EX").trigger()
    c.window.action("adopt").trigger()
    asked = answer_questions(c, False)
    c.window.action("mark_reviewed").trigger()
    assert len(asked) == 1 and "MA, HE, SE" in asked[0]
    review = c.state.review
    assert review.status is not ReviewStatus.REVIEWED, "declining leaves the photograph as it was"
    assert c.state.mask(Lesion.MA) is None

    answer_questions(c, True)
    c.window.action("mark_reviewed").trigger()
    assert review.status is ReviewStatus.REVIEWED
    assert all(review.lesions[lesion].status is ReviewStatus.REVIEWED for lesion in LESIONS)
    assert c.review.panel.image_status.currentData() is ReviewStatus.REVIEWED
    for lesion in (Lesion.MA, Lesion.HE, Lesion.SE):
        assert review.lesions[lesion].accepted_with_photograph
        shown = c.analysis.prediction.mask(lesion, c.state.thresholds[lesion])
        assert (c.state.shown_mask(lesion) == shown).all(), "accepted exactly as shown"
    out = tmp_path / "export"
    job = c.review.output.export(out)
    with qtbot.waitSignal(job.signals.ended, timeout=30000):
        pass
    lesions = json.loads((out / f"{dataset[0].stem}.json").read_text())["lesions"]
    assert lesions["EX"]["source"] == "reviewed: adopted unchanged" and lesions["EX"]["looked_at_by_reviewer"]
    assert lesions["MA"]["source"] == "accepted unopened when the photograph was marked reviewed"
    assert not lesions["MA"]["looked_at_by_reviewer"]


def test_a_photograph_with_every_lesion_opened_is_marked_without_asking(qtbot, opened: Controller) -> None:
    c = opened
    c.window.action("adopt_all").trigger()
    asked = answer_questions(c, False)
    c.window.action("mark_reviewed").trigger()
    assert asked == [] and c.state.review.status is ReviewStatus.REVIEWED
    c.review.set_lesion_status(Lesion.HE, ReviewStatus.IN_PROGRESS)
    assert c.state.review.status is ReviewStatus.IN_PROGRESS, "reviewed only while every lesion is"


def _saving_fails_except_under(monkeypatch, rescue: Path) -> None:
    """Every save fails (a read-only or full disk) unless the session was moved under ``rescue``."""
    from core.session import ReviewSession, SessionError

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
    from app.review_control import SAVE_ELSEWHERE, STAY

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
    from core.session_lock import LOCK_FILE, SessionLock

    folder = dataset[0].parent / ".lesionlens"
    folder.mkdir(exist_ok=True)
    holder = {**SessionLock(folder, "dr-b").mine.to_dict(), "host": "ward-pc-2"}
    (folder / LOCK_FILE).write_text(json.dumps(holder))
    c = controller
    c.open_paths(list(dataset))
    from tests.app.conftest import wait_displayed

    wait_displayed(qtbot, c, dataset[0])
    label = c.review.panel.save_label.text()
    assert label.startswith("READ-ONLY") and "dr-b on ward-pc-2" in label
    c.review.panel.comment.setText("my notes")
    c.review.panel.comment.textEdited.emit("my notes")
    qtbot.wait(1500)  # the journal's delay
    assert not (folder / "session.json").exists(), "the other window's review was not overwritten"
    assert json.loads((folder / LOCK_FILE).read_text())["owner"] == "dr-b"
