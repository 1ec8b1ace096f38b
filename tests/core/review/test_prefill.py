"""Prefilling a folder headlessly: resumable, journaled like the app, never mistaken for a review."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.data.synthetic import write_plain_layout
from core.errors import LesionLensError
from core.inference.prediction_cache import PredictionCache
from core.lesions import LESIONS
from core.review.engine import ReviewEngine
from core.review.prefill import prefill_folder
from core.review.session import ReviewSession, ReviewStatus
from core.review.session_export import SOURCE_PREFILLED, export_session, lesion_source


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_plain_layout(tmp_path / "data", 2, 160, 240, seed=2)[0].parent


@pytest.fixture
def engine(tiny_checkpoint: Path, tmp_path: Path) -> ReviewEngine:
    return ReviewEngine(tiny_checkpoint, PredictionCache(tmp_path / "cache"), device="cpu")


def test_prefill_adopts_every_lesion_at_the_thresholds_and_resumes(
    folder: Path, engine: ReviewEngine
) -> None:
    seen: list[str] = []
    report = prefill_folder(folder, engine, on_image=lambda i, n, path: seen.append(path.name))
    assert sorted(report.prefilled) == sorted(seen) and len(seen) == 2
    session = ReviewSession.open(folder)
    assert session.model["sha256"] == engine.loaded.sha256
    name = report.prefilled[0]
    prediction = engine.open(folder / name).prediction
    for lesion in LESIONS:
        item = session.image(name).lesions[lesion]
        assert item.prefilled and item.status is ReviewStatus.NOT_STARTED
        assert item.adopted_threshold == pytest.approx(engine.default_thresholds[lesion])
        mask = session.load_mask(name, lesion, prediction.probs.shape[1:])
        np.testing.assert_array_equal(mask.mask(), prediction.mask(lesion, item.adopted_threshold))
        assert lesion_source(item, mask.edited_pixels()) == SOURCE_PREFILLED
    again = prefill_folder(folder, engine)
    assert again.prefilled == [] and sorted(again.already_done) == sorted(seen), "a second run resumes"


def test_prefill_refuses_a_folder_reviewed_with_another_model(folder: Path, engine: ReviewEngine) -> None:
    session = ReviewSession.open(folder)
    session.model = {"name": "other", "sha256": "0" * 64}
    session.image(next(iter(sorted(p.name for p in folder.glob("*.jpg"))))).status = ReviewStatus.FLAGGED
    session.save()
    with pytest.raises(LesionLensError, match="another|not tiny|reviewed with model other"):
        prefill_folder(folder, engine)


def test_review_prefill_command_and_export(
    folder: Path, tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("LESIONLENS_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["review", str(folder), "--prefill", "--model", str(tiny_checkpoint), "--device", "cpu"]) == 0
    assert main(["review", str(folder)]) == 0
    assert "EX prefilled" in capsys.readouterr().out
    session = ReviewSession.open(folder)
    engine = ReviewEngine(tiny_checkpoint, PredictionCache(tmp_path / "cache"), device="cpu")
    written = export_session(session, tmp_path / "out", engine, everything=True)
    manifest = next(p for p in written if p.suffix == ".json")
    text = manifest.read_text()
    assert SOURCE_PREFILLED in text and '"looked_at_by_reviewer": false' in text
    assert main(["review", str(tmp_path / "nowhere"), "--prefill"]) == 2


def test_prefill_with_mirrored_tiles_is_recorded_and_exported_the_same_way(
    folder: Path, tiny_checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LESIONLENS_CACHE_DIR", str(tmp_path / "cache"))
    args = ["review", str(folder), "--prefill", "--model", str(tiny_checkpoint), "--device", "cpu"]
    assert main([*args, "--flip-tta"]) == 0
    session = ReviewSession.open(folder)
    assert session.model["flip_tta"] is True and session.model["sha256"]
    assert main(["export", str(folder), "--out", str(tmp_path / "out"), "--all", "--device", "cpu"]) == 0
    manifest = next((tmp_path / "out").glob("*.json"))
    assert '"flip_tta": true' in manifest.read_text()
