"""Export of reviewed masks: IDRiD-style mask files, a label map, a colour overlay and
manifests, written atomically into a chosen folder and never over existing files unless
asked.

Per photograph ``<stem>``: ``<stem>_MA.<png|tif>`` (and HE, EX, SE; lesion = 255),
``<stem>_labels.png`` (0 none, 1 MA, 2 HE, 3 EX, 4 SE; higher-priority lesion on top),
``<stem>_overlay.png`` and ``<stem>.json``; for the folder ``manifest.csv`` (one row per
photograph, rows of photographs exported earlier are kept).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from core.errors import LesionLensError
from core.imaging.io import encode_png
from core.imaging.lesion_stats import mask_stats
from core.inference.predict_files import DISCLAIMER
from core.lesions import LESIONS, PAINT_ORDER, Lesion
from core.review.display import lesion_labels

FORMATS = ("png", "tif")
CSV_NAME = "manifest.csv"
_CSV_FIELDS = ["image", "status", "reviewer", "exported", "model", "model_sha256", "inference", "comment"] + [
    f"{lesion.code}_{column}"
    for lesion in LESIONS
    for column in ("source", "status", "threshold", "count", "area_px", "edited_px")
]


class ExportError(LesionLensError):
    """The export could not be written (nothing partial is left behind)."""


class ExportConflictError(ExportError):
    """Files of the export exist already; ``files`` lists them."""

    def __init__(self, files: list[Path]) -> None:
        self.files = files
        shown = ", ".join(p.name for p in files[:4]) + (
            f" and {len(files) - 4} more" if len(files) > 4 else ""
        )
        super().__init__(
            f"{files[0].parent}: {shown} already exist; choose another folder or allow overwriting"
        )


@dataclass(frozen=True)
class ReviewedImage:
    """One photograph's reviewed result, ready to export.

    Attributes:
        name: the photograph's file name (its stem names the outputs).
        image: H x W x 3 uint8 RGB (for the overlay).
        masks: per lesion, H x W bool.
        sources: per lesion, whether and how a person reviewed it (``reviewed: edited``,
            ``reviewed: adopted unchanged``, ``accepted unopened when the photograph was
            marked reviewed``) or ``model at threshold`` (nobody looked at it).
        thresholds: per lesion, the threshold of the adopted or exported prediction.
        edited: per lesion, pixels the reviewer added or removed.
        statuses: per lesion, the review status.
        status, comment, created, updated: the image's review record.
        fov_pixels: field-of-view pixels (for area fractions).
    """

    name: str
    image: np.ndarray
    masks: dict[Lesion, np.ndarray]
    sources: dict[Lesion, str]
    thresholds: dict[Lesion, float | None]
    edited: dict[Lesion, int]
    statuses: dict[Lesion, str]
    status: str
    comment: str
    created: str
    updated: str
    fov_pixels: int

    @property
    def stem(self) -> str:
        return Path(self.name).stem


def _check_name(stem: str) -> str:
    if not stem or "/" in stem or "\\" in stem or stem in (".", "..") or os.sep in stem:
        raise ExportError(f"{stem!r}: not usable as an output file name")
    return stem


def output_names(item: ReviewedImage, fmt: str) -> list[str]:
    """File names written for one photograph (manifest JSON last).

    Raises:
        ExportError: the photograph's name is not a plain file name.
    """
    if Path(item.name).name != item.name or "\\" in item.name:
        raise ExportError(
            f"{item.name!r}: not a plain file name; outputs are only written inside the chosen folder"
        )
    stem = _check_name(item.stem)
    return [f"{stem}_{lesion.code}.{fmt}" for lesion in LESIONS] + [
        f"{stem}_labels.png",
        f"{stem}_overlay.png",
        f"{stem}.json",
    ]


def blend_overlay(image: np.ndarray, masks: dict[Lesion, np.ndarray], opacity: float = 0.55) -> np.ndarray:
    """The photograph with each lesion's mask blended in its colour (H x W x 3 uint8)."""
    out = image.astype(np.float32)
    for lesion in PAINT_ORDER:
        mask = masks.get(lesion)
        if mask is not None and mask.any():
            out[mask] = out[mask] * (1 - opacity) + np.array(lesion.colour, np.float32) * opacity
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _encode_mask(mask: np.ndarray, fmt: str) -> bytes:
    values = mask.astype(np.uint8) * 255
    if fmt == "png":
        return encode_png(values)
    ok, buffer = cv2.imencode(".tif", values)
    if not ok:
        raise ExportError("TIFF encoding failed")
    return buffer.tobytes()


def manifest(
    item: ReviewedImage, model: dict[str, Any], reviewer: str, exported: str, fmt: str
) -> dict[str, Any]:
    """The JSON manifest of one exported photograph."""
    lesions = {}
    for lesion in LESIONS:
        stats = mask_stats(item.masks[lesion], item.fov_pixels)
        lesions[lesion.code] = {
            "file": f"{item.stem}_{lesion.code}.{fmt}",
            "source": item.sources[lesion],
            "looked_at_by_reviewer": item.sources[lesion].startswith("reviewed"),
            "status": item.statuses[lesion],
            "threshold": item.thresholds[lesion],
            "count": stats.count,
            "area_px": stats.area_px,
            "area_fraction_of_fov": stats.area_fraction,
            "edited_px": item.edited[lesion],
        }
    return {
        "image": item.name,
        "height": int(item.image.shape[0]),
        "width": int(item.image.shape[1]),
        "status": item.status,
        "comment": item.comment,
        "reviewer": reviewer,
        "review_started": item.created,
        "review_updated": item.updated,
        "exported": exported,
        "model": model,
        "lesions": lesions,
        "mask_encoding": "lesion = 255, background = 0",
        "labels": {
            "file": f"{item.stem}_labels.png",
            "values": {lesion.code: LESIONS.index(lesion) + 1 for lesion in LESIONS},
        },
        "disclaimer": DISCLAIMER,
    }


def inference_text(model: dict[str, Any]) -> str:
    """How the maps were made, for the manifest: "openvino cpu float32, head 4"; what the session
    did not record is left out (sessions before 2026-12-03 lack the backend, device and format)."""
    compute = " ".join(str(model[key]) for key in ("backend", "device", "precision") if model.get(key))
    parts = [compute] if compute else []
    if model.get("head"):
        parts.append(f"head {model['head']}")
    if model.get("flip_tta"):
        parts.append("mirrored tiles")
    return ", ".join(parts)


def _csv_row(document: dict[str, Any]) -> dict[str, Any]:
    row = {
        "image": document["image"],
        "status": document["status"],
        "reviewer": document["reviewer"],
        "exported": document["exported"],
        "model": document["model"].get("name", ""),
        "model_sha256": document["model"].get("sha256", ""),
        "inference": inference_text(document["model"]),
        "comment": document["comment"],
    }
    for code, entry in document["lesions"].items():
        for column in ("source", "status", "threshold", "count", "area_px", "edited_px"):
            row[f"{code}_{column}"] = entry[column]
    return row


def _read_manifest_text(path: Path) -> str:
    """An existing manifest.csv as text, whatever a spreadsheet saved it as (UTF-8 with or
    without BOM, UTF-16 with BOM, Windows-1252)."""
    data = path.read_bytes()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="strict")


def _merged_csv(path: Path, rows: list[dict[str, Any]]) -> bytes:
    """The folder's manifest: the rows already there (other photographs) and the new ones.

    Raises:
        ExportError: the existing file cannot be read as a manifest (nothing was written yet).
    """
    kept: dict[str, dict[str, Any]] = {}
    if path.exists():
        try:
            reader = csv.DictReader(io.StringIO(_read_manifest_text(path), newline=""))
            if reader.fieldnames is None or "image" not in reader.fieldnames:
                raise ValueError("it has no 'image' column")
            for row in reader:
                kept[row.get("image", "")] = row
        except (OSError, ValueError, csv.Error) as exc:
            raise ExportError(
                f"{path}: the existing manifest cannot be read ({exc}); nothing was exported. Move it "
                "away or choose another folder"
            ) from exc
    for row in rows:
        kept[row["image"]] = row
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for name in sorted(kept):
        writer.writerow(kept[name])
    return buffer.getvalue().encode("utf-8")


def export_reviews(
    items: list[ReviewedImage],
    out_dir: str | os.PathLike[str],
    model: dict[str, Any],
    reviewer: str,
    exported: str,
    fmt: str = "tif",
    overwrite: bool = False,
) -> list[Path]:
    """Write every photograph's files into ``out_dir``; returns the paths written.

    All files are first written into a temporary folder inside ``out_dir`` and then
    renamed into place, so a full or read-only disk leaves nothing partial.

    Raises:
        ExportConflictError: files exist and ``overwrite`` is False (nothing was written).
        ExportError: the folder cannot be written.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format {fmt!r}: use png or tif")
    out = Path(out_dir).resolve()
    names = [name for item in items for name in output_names(item, fmt)]
    if len(set(names)) != len(names):
        raise ExportError(f"{out}: two photographs share a file stem; export them into separate folders")
    existing = [out / name for name in names if (out / name).exists()]
    if existing and not overwrite:
        raise ExportConflictError(existing)
    try:
        out.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".lesionlens-export-", dir=out))
    except OSError as exc:
        raise ExportError(
            f"{out}: cannot write here ({exc.strerror or exc}); choose a writable folder"
        ) from exc
    try:
        documents = []
        for item in items:
            for lesion in LESIONS:
                (staging / f"{item.stem}_{lesion.code}.{fmt}").write_bytes(
                    _encode_mask(item.masks[lesion], fmt)
                )
            (staging / f"{item.stem}_labels.png").write_bytes(encode_png(lesion_labels(item.masks)))
            (staging / f"{item.stem}_overlay.png").write_bytes(
                encode_png(blend_overlay(item.image, item.masks))
            )
            document = manifest(item, model, reviewer, exported, fmt)
            (staging / f"{item.stem}.json").write_text(
                json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            documents.append(document)
        (staging / CSV_NAME).write_bytes(_merged_csv(out / CSV_NAME, [_csv_row(d) for d in documents]))
        return _move_into_place(staging, out, [*names, CSV_NAME])
    except OSError as exc:
        raise ExportError(
            f"{out}: the export could not be written ({exc.strerror or exc}); nothing was changed. "
            "Free disk space or choose another folder"
        ) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(staging: Path, out: Path, names: list[str]) -> list[Path]:
    """Rename every staged file onto its place in ``out``: all of them, or (on any failure)
    none, the files they replaced put back.

    Raises:
        ExportError: a target is a folder or other non-file (checked before anything moves).
        OSError: a rename failed; everything done so far has been undone.
    """
    for name in names:
        target = out / name
        if target.parent != out:
            raise ExportError(f"{name!r}: would be written outside {out}")
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise ExportError(
                f"{target}: exists and is not a file (a folder or link); nothing was exported. "
                "Move it away or choose another folder"
            )
    previous = staging / ".replaced"
    previous.mkdir()
    moved: list[tuple[Path, Path | None]] = []  # (target, its former file kept aside)
    try:
        for name in names:
            target = out / name
            kept = None
            if target.exists():
                kept = previous / name
                target.replace(kept)
            moved.append((target, kept))
            (staging / name).replace(target)
    except OSError:
        for target, kept in reversed(moved):
            target.unlink(missing_ok=True)
            if kept is not None and kept.exists():
                kept.replace(target)
        raise
    return [target for target, _ in moved]
