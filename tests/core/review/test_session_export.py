"""From a session to exported files, and the ``export`` and ``evaluate`` commands on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.data.synthetic import write_plain_layout
from core.errors import LesionLensError
from core.inference.prediction_cache import PredictionCache
from core.inference.predictor import run_to_end
from core.lesions import LESIONS, Lesion
from core.review.editable_mask import EditableMask
from core.review.engine import ReviewEngine
from core.review.export import ExportError
from core.review.session import ReviewSession, ReviewStatus
from core.review.session_export import export_session, find_session, reviewed_image


@pytest.fixture
def reviewed(tmp_path: Path, tiny_checkpoint: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("LESIONLENS_CACHE_DIR", str(tmp_path / "cache"))
    photo = write_plain_layout(tmp_path / "data", 1, 240, 360, seed=4)[0]
    engine = ReviewEngine(tiny_checkpoint, PredictionCache(tmp_path / "cache"), device="cpu")
    analysis = run_to_end(engine.iter_analyse(photo))
    session = ReviewSession.open(photo.parent)
    session.model = {**engine.loaded.provenance(), "path": str(tiny_checkpoint)}
    session.thresholds = dict.fromkeys(LESIONS, 0.5)
    review = session.image(photo.name)
    review.status = ReviewStatus.REVIEWED
    mask = EditableMask.adopt(analysis.prediction[Lesion.EX], 0.5)
    mask.fill_polygon([(10, 10), (10, 40), (40, 40), (40, 10)])
    review.lesions[Lesion.EX].mask = mask
    review.lesions[Lesion.EX].adopted_threshold = 0.5
    session.save()
    return photo, engine, analysis, session, mask


def test_reviewed_image_takes_edits_and_falls_back_to_the_prediction(reviewed) -> None:
    _, _, analysis, session, mask = reviewed
    item = reviewed_image(session, analysis, dict.fromkeys(LESIONS, 0.5))
    np.testing.assert_array_equal(item.masks[Lesion.EX], mask.mask())
    assert (
        item.sources[Lesion.EX] == "reviewed: edited" and item.edited[Lesion.EX] == mask.edited_pixels() > 0
    )
    np.testing.assert_array_equal(item.masks[Lesion.MA], analysis.prediction.mask(Lesion.MA, 0.5))
    assert item.sources[Lesion.MA] == "model at threshold" and item.status == "reviewed"


def test_export_session_round_trip(reviewed, tmp_path: Path) -> None:
    photo, engine, _, _, mask = reviewed
    session = find_session(photo.parent / ".lesionlens" / "session.json")
    written = export_session(session, tmp_path / "export", engine)
    assert tmp_path / "export" / f"{photo.stem}_EX.tif" in written
    from core.imaging.io import read_mask

    np.testing.assert_array_equal(read_mask(tmp_path / "export" / f"{photo.stem}_EX.tif"), mask.mask())
    with pytest.raises(ExportError, match="already exist"):
        export_session(session, tmp_path / "export", engine)


def test_export_refuses_another_model(reviewed, tmp_path: Path) -> None:
    _, engine, _, session, _ = reviewed
    session.model["sha256"] = "0" * 64
    with pytest.raises(ExportError, match="reviewed with model"):
        export_session(session, tmp_path / "export", engine)


def test_export_command_and_evaluate_on_the_export(reviewed, tmp_path: Path, capsys) -> None:
    photo, engine, _, _, _ = reviewed
    out = tmp_path / "cli-export"
    assert main(["export", str(photo.parent), "--out", str(out), "--format", "png"]) == 0
    printed = capsys.readouterr().out
    assert f"{photo.stem}_MA.png" in printed and "manifest.csv" in printed
    manifest = json.loads((out / f"{photo.stem}.json").read_text())
    assert manifest["model"]["sha256"] == engine.loaded.sha256
    assert main(["export", str(photo.parent), "--out", str(out), "--format", "png"]) == 2
    assert "already exist" in capsys.readouterr().err
    # the export is ground truth for 'evaluate --pred/--gt' (flat layout)
    pred = tmp_path / "pred"
    assert main(["predict", str(photo), "--out", str(pred), "--model", str(engine.loaded.path)]) == 0
    report = tmp_path / "report"
    code = main(["evaluate", "--pred", str(pred), "--gt", str(out), "--split", "all", "--out", str(report)])
    assert code == 0
    assert list(report.glob("*.json"))


def test_no_session_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LesionLensError, match="no review session"):
        find_session(tmp_path)
