"""Export of reviewed masks: files, manifests, round trip, safety."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from core.data.ground_truth import find_ground_truth_in, load_ground_truth
from core.lesions import LESIONS, Lesion
from core.review.export import ExportConflictError, ExportError, ReviewedImage, export_reviews


def _item(name: str = "eye.jpg", seed: int = 0) -> ReviewedImage:
    rng = np.random.default_rng(seed)
    masks = {lesion: rng.random((60, 80)) < 0.05 for lesion in LESIONS}
    return ReviewedImage(
        name=name,
        image=rng.integers(0, 255, (60, 80, 3), dtype=np.uint8),
        masks=masks,
        sources=dict.fromkeys(LESIONS, "reviewed"),
        thresholds=dict.fromkeys(LESIONS, 0.5),
        edited=dict.fromkeys(LESIONS, 7),
        statuses=dict.fromkeys(LESIONS, "reviewed"),
        status="reviewed",
        comment="ok",
        created="2026-01-01T00:00:00Z",
        updated="2026-01-01T00:10:00Z",
        fov_pixels=4000,
    )


MODEL = {"name": "m", "sha256": "ab" * 32}


@pytest.mark.parametrize("fmt", ["tif", "png"])
def test_round_trip_loads_back_as_ground_truth(tmp_path: Path, fmt: str) -> None:
    item = _item()
    written = export_reviews([item], tmp_path / "out", MODEL, "dr-a", "2026-01-02T00:00:00Z", fmt)
    names = {p.name for p in written}
    assert {f"eye_{lesion.code}.{fmt}" for lesion in LESIONS} <= names
    assert {"eye_labels.png", "eye_overlay.png", "eye.json", "manifest.csv"} <= names
    source = find_ground_truth_in(tmp_path / "out", tmp_path / "photos" / "eye.jpg")
    loaded = load_ground_truth(source, (60, 80))
    for lesion in LESIONS:
        np.testing.assert_array_equal(loaded[lesion], item.masks[lesion])
    document = json.loads((tmp_path / "out" / "eye.json").read_text())
    assert document["model"]["sha256"] == MODEL["sha256"] and document["reviewer"] == "dr-a"
    assert document["lesions"]["MA"]["edited_px"] == 7
    assert document["lesions"]["EX"]["area_px"] == int(item.masks[Lesion.EX].sum())
    assert "not a diagnosis" in document["disclaimer"]
    rows = list(csv.DictReader((tmp_path / "out" / "manifest.csv").read_text().splitlines()))
    assert rows[0]["image"] == "eye.jpg" and rows[0]["MA_threshold"] == "0.5"
    assert rows[0]["inference"] == ""  # the session recorded no inference settings: nothing invented
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")], "no staging left"


def test_existing_files_are_never_overwritten_without_asking(tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_reviews([_item()], out, MODEL, "a", "t1")
    before = (out / "eye_MA.tif").read_bytes()
    with pytest.raises(ExportConflictError) as raised:
        export_reviews([_item(seed=1)], out, MODEL, "a", "t2")
    assert out / "eye_MA.tif" in raised.value.files
    assert (out / "eye_MA.tif").read_bytes() == before
    export_reviews([_item(seed=1)], out, MODEL, "a", "t2", overwrite=True)
    assert (out / "eye_MA.tif").read_bytes() != before


def test_the_manifest_says_how_the_maps_were_made(tmp_path: Path) -> None:
    model = {**MODEL, "backend": "openvino", "device": "cpu", "precision": "float32", "head": "4"}
    export_reviews([_item()], tmp_path, {**model, "flip_tta": True}, "r", "t")
    rows = list(csv.DictReader((tmp_path / "manifest.csv").read_text().splitlines()))
    assert rows[0]["inference"] == "openvino cpu float32, head 4, mirrored tiles"
    export_reviews([_item("b.jpg")], tmp_path, {**model, "flip_tta": False}, "r", "t")
    rows = list(csv.DictReader((tmp_path / "manifest.csv").read_text().splitlines()))
    by_image = {r["image"]: r["inference"] for r in rows}  # an earlier row keeps its own settings
    assert by_image == {
        "eye.jpg": "openvino cpu float32, head 4, mirrored tiles",
        "b.jpg": "openvino cpu float32, head 4",
    }


def test_csv_keeps_rows_of_earlier_exports(tmp_path: Path) -> None:
    export_reviews([_item("a.jpg")], tmp_path, MODEL, "r", "t")
    export_reviews([_item("b.jpg")], tmp_path, MODEL, "r", "t")
    rows = list(csv.DictReader((tmp_path / "manifest.csv").read_text().splitlines()))
    assert [r["image"] for r in rows] == ["a.jpg", "b.jpg"]


def test_no_write_outside_the_chosen_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    for bad in ("../escape.jpg", "sub/eye.jpg"):
        with pytest.raises(ExportError):
            export_reviews([_item(bad)], out, MODEL, "r", "t")
    assert not (tmp_path / "escape_MA.tif").exists()
    assert not list(tmp_path.rglob("*_MA.tif"))


def test_read_only_folder_gives_a_clear_message_and_no_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import tempfile

    out = tmp_path / "locked"
    out.mkdir()

    def refuse(*_args, **_kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkdtemp", refuse)
    with pytest.raises(ExportError, match="locked.*cannot write here.*Read-only"):
        export_reviews([_item()], out, MODEL, "r", "t")
    assert list(out.iterdir()) == []


def test_full_disk_leaves_nothing_partial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    calls = {"n": 0}
    original = Path.write_bytes

    def fill_up(self, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return original(self, data)

    monkeypatch.setattr(Path, "write_bytes", fill_up)
    with pytest.raises(ExportError, match="No space left"):
        export_reviews([_item()], tmp_path / "out", MODEL, "r", "t")
    assert list((tmp_path / "out").iterdir()) == []


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252", "utf-8-sig"])
def test_a_manifest_a_spreadsheet_saved_is_read_and_kept(tmp_path: Path, encoding: str) -> None:
    """Issue 13, defect 8: a UTF-16 manifest.csv failed with a traceback after 14 files moved."""
    export_reviews([_item("a.jpg")], tmp_path, MODEL, "r", "t")
    text = (tmp_path / "manifest.csv").read_text(encoding="utf-8").replace("ok", "vérifié")
    (tmp_path / "manifest.csv").write_bytes(text.encode(encoding))
    export_reviews([_item("b.jpg")], tmp_path, MODEL, "r", "t")
    rows = list(csv.DictReader((tmp_path / "manifest.csv").read_text(encoding="utf-8").splitlines()))
    assert [r["image"] for r in rows] == ["a.jpg", "b.jpg"]
    assert rows[0]["comment"] == "vérifié"


def test_an_unreadable_manifest_stops_the_export_before_any_file(tmp_path: Path) -> None:
    (tmp_path / "manifest.csv").write_bytes(b"\x00\x01 not a table")
    with pytest.raises(ExportError, match="manifest cannot be read.*nothing was exported"):
        export_reviews([_item()], tmp_path, MODEL, "r", "t")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["manifest.csv"]


@pytest.mark.parametrize("folder_name", ["manifest.csv", "eye_HE.tif"])
def test_a_folder_with_an_outputs_name_leaves_everything_as_it_was(tmp_path: Path, folder_name: str) -> None:
    export_reviews([_item()], tmp_path, MODEL, "r", "t")
    before = _files(tmp_path)
    (tmp_path / folder_name).unlink()
    (tmp_path / folder_name).mkdir()
    before.pop(folder_name)
    with pytest.raises(ExportError, match="nothing was export|not a file"):
        export_reviews([_item(seed=2)], tmp_path, MODEL, "r", "t2", overwrite=True)
    assert _files(tmp_path) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".lesionlens-export-")]


def test_a_failure_while_moving_into_place_undoes_every_move(tmp_path: Path, monkeypatch) -> None:
    import errno

    export_reviews([_item()], tmp_path, MODEL, "r", "t")
    before = _files(tmp_path)
    original = Path.replace
    calls = {"n": 0}

    def fail_late(self, target):
        calls["n"] += 1
        if calls["n"] == 9:
            raise OSError(errno.EIO, "Input/output error")
        return original(self, target)

    monkeypatch.setattr(Path, "replace", fail_late)
    with pytest.raises(ExportError, match="nothing was changed"):
        export_reviews([_item(seed=3)], tmp_path, MODEL, "r", "t2", overwrite=True)
    monkeypatch.undo()
    assert _files(tmp_path) == before
