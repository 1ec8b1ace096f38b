"""The shape every ``session.json`` must have, checked whole before any of it is used.

A session file is written by LesionLens, but it lives in a shared folder where people,
spreadsheets and sync tools can change it. :func:`validate_session` returns the document
when every value has the type and range LesionLens writes, and otherwise raises one
:class:`SchemaError` naming the first bad value by its path (``images["a.jpg"].lesions.MA``).
Nothing here touches the disk.
"""

from __future__ import annotations

import json
import math
from typing import Any

from core.lesions import LESIONS

MAX_TEXT = 20_000
MAX_NAME = 255
MAX_PIXELS = 2**40
STATUSES = ("not started", "in progress", "reviewed", "flagged")  # core.review.session.ReviewStatus
LESION_CODES = tuple(lesion.code for lesion in LESIONS)


class SchemaError(ValueError):
    """A value of the document is missing, of the wrong type or out of range."""


def parse_session_text(text: str) -> Any:
    """JSON text -> document, refusing NaN and Infinity (no LesionLens value is one).

    Raises:
        SchemaError: a non-finite number. ``ValueError`` (bad JSON) and ``RecursionError``
        (thousands of nested brackets) come from the parser; callers treat all three alike.
    """

    def refuse_constant(name: str) -> None:
        raise SchemaError(f"{name} is not a number LesionLens writes")

    return json.loads(text, parse_constant=refuse_constant)


def _text(value: Any, where: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str):
        raise SchemaError(f"{where}: expected text, found {type(value).__name__}")
    if len(value) > limit or "\x00" in value:
        raise SchemaError(f"{where}: text longer than {limit} characters or with a NUL character")
    return value


def _probability(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SchemaError(f"{where}: expected a number in 0..1, found {type(value).__name__}")
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise SchemaError(f"{where}: {value!r} is not a threshold in 0..1")
    return float(value)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaError(f"{where}: expected an object, found {type(value).__name__}")
    return value


def _flag(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(f"{where}: expected true or false, found {value!r}")
    return value


def _status(value: Any, where: str) -> str:
    if value not in STATUSES:
        raise SchemaError(f"{where}: {value!r} is not one of {', '.join(STATUSES)}")
    return str(value)


def _file_name(name: str, where: str) -> str:
    _text(name, where, MAX_NAME)
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise SchemaError(f"{where}: {name!r} is not a file name inside the folder")
    return name


def _lesion(item: Any, where: str) -> None:
    item = _mapping(item, where)
    _status(item.get("status", "not started"), f"{where}.status")
    threshold = item.get("adopted_threshold")
    if threshold is not None:
        _probability(threshold, f"{where}.adopted_threshold")
    pixels = item.get("edited_pixels", 0)
    if isinstance(pixels, bool) or not isinstance(pixels, int) or not 0 <= pixels <= MAX_PIXELS:
        raise SchemaError(f"{where}.edited_pixels: {pixels!r} is not a pixel count")
    _text(item.get("updated", ""), f"{where}.updated", 64)
    for key in ("accepted_with_photograph", "prefilled"):
        _flag(item.get(key, False), f"{where}.{key}")


def _export(item: Any, where: str) -> None:
    item = _mapping(item, where)
    _text(item.get("at"), f"{where}.at", 64)
    _text(item.get("folder"), f"{where}.folder", 4096)
    if item.get("format", "tif") not in ("tif", "png"):
        raise SchemaError(f"{where}.format: {item.get('format')!r} is not tif or png")
    items = _mapping(item.get("items", {}), f"{where}.items")
    if len(items) > 64:
        raise SchemaError(f"{where}.items: {len(items)} items, more than an export records")
    for key, value in items.items():
        _text(key, f"{where}.items key", 64)
        _text(value, f"{where}.items[{key!r}]", 128)


def _image(name: str, item: Any) -> None:
    where = f"images[{name!r}]"
    _file_name(name, where)
    item = _mapping(item, where)
    _text(item.get("digest", ""), f"{where}.digest", 128)
    _status(item.get("status", "not started"), f"{where}.status")
    _text(item.get("comment", ""), f"{where}.comment")
    _text(item.get("created", ""), f"{where}.created", 64)
    _text(item.get("updated", ""), f"{where}.updated", 64)
    if item.get("exported") is not None:
        _export(item["exported"], f"{where}.exported")
    for code, lesion in _mapping(item.get("lesions", {}), f"{where}.lesions").items():
        if code not in LESION_CODES:
            raise SchemaError(f"{where}.lesions: {code!r} is not one of {', '.join(LESION_CODES)}")
        _lesion(lesion, f"{where}.lesions.{code}")


def validate_session(document: Any, expected_format: int) -> dict[str, Any]:
    """The document, if it is a session LesionLens could have written.

    Raises:
        SchemaError: naming the first value that is wrong.
    """
    document = _mapping(document, "the file")
    if document.get("format") != expected_format:
        raise SchemaError(f"format {document.get('format')!r}, expected {expected_format}")
    _text(document.get("reviewer", ""), "reviewer", 200)
    _text(document.get("created", ""), "created", 64)
    model = _mapping(document.get("model", {}), "model")
    for key, value in model.items():
        if not isinstance(value, (str, int, float, bool)) and value is not None:
            raise SchemaError(f"model.{key}: expected text or a number, found {type(value).__name__}")
    for code, value in _mapping(document.get("thresholds", {}), "thresholds").items():
        if code not in LESION_CODES:
            raise SchemaError(f"thresholds: {code!r} is not one of {', '.join(LESION_CODES)}")
        _probability(value, f"thresholds.{code}")
    for name, item in _mapping(document.get("images", {}), "images").items():
        _image(name, item)
    return document
