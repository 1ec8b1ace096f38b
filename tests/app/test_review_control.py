"""The Review panel shows the record of the photograph on screen, and "reviewed" means every
lesion was looked at or knowingly accepted (issue 11, defects 2 and 3)."""

from __future__ import annotations

import json
from pathlib import Path

from app.controller import Controller
from core.lesions import LESIONS, Lesion
from core.review.session import ReviewStatus
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


def test_a_folder_predicted_with_mirrored_tiles_warns_when_the_window_runs_without(
    qtbot, controller: Controller, dataset: list[Path]
) -> None:
    from core.review.session import ReviewSession
    from tests.app.conftest import wait_displayed

    session = ReviewSession.open(dataset[0].parent)
    session.model = {**controller.engine.provenance(), "flip_tta": True}
    session.save()
    warnings: list[str] = []
    controller.notifier.show_warning = lambda _title, text: warnings.append(text)  # type: ignore[method-assign]
    controller.open_paths([dataset[0]])
    wait_displayed(qtbot, controller, dataset[0])
    qtbot.waitUntil(lambda: bool(warnings), timeout=10000)
    assert "with mirrored tiles" in warnings[0] and "exports record the current setting" in warnings[0]
    assert controller.review.session_for(dataset[0]).model["flip_tta"] is False
