"""A session file is checked whole when it is read (issue 13, defects 3 and 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.review.session import SESSION_FORMAT, ReviewSession, SessionError


def _good() -> dict:
    return {
        "format": SESSION_FORMAT,
        "reviewer": "dr a",
        "model": {"name": "m", "sha256": "ab", "trained": True, "width": 0.25},
        "thresholds": {"MA": 0.4, "EX": 0.8},
        "created": "2026-12-02T08:00:00+00:00",
        "images": {
            "a.jpg": {
                "digest": "00",
                "status": "in progress",
                "comment": "look again",
                "lesions": {"HE": {"status": "reviewed", "adopted_threshold": 0.3, "edited_pixels": 12}},
            }
        },
    }


def _write(folder: Path, text: str) -> Path:
    (folder / ".lesionlens").mkdir(parents=True, exist_ok=True)
    path = folder / ".lesionlens" / "session.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_session_is_read(tmp_path: Path) -> None:
    _write(tmp_path, json.dumps(_good()))
    session = ReviewSession.open(tmp_path)
    assert session.images["a.jpg"].comment == "look again"


BAD = {
    "deep nesting": f'{{"format": {SESSION_FORMAT}, "model": {"[" * 100000}1{"]" * 100000}}}',
    "edited_pixels 1e400": None,
    "model is text": None,
    "NUL in an image name": None,
    "NaN threshold": None,
    "infinite threshold": None,
    "threshold -3": None,
    "threshold 7.5": None,
    "adopted_threshold abc": None,
    "comment is a number": None,
    "unknown lesion": None,
    "status unknown": None,
}


def _bad_text(case: str) -> str:
    if BAD[case] is not None:
        return BAD[case]  # type: ignore[return-value]
    doc = _good()
    lesion = doc["images"]["a.jpg"]["lesions"]["HE"]
    if case == "edited_pixels 1e400":
        return json.dumps(doc).replace('"edited_pixels": 12', '"edited_pixels": 1e400')
    if case == "model is text":
        doc["model"] = "x"
    elif case == "NUL in an image name":
        doc["images"]["a\u0000.jpg"] = doc["images"].pop("a.jpg")
    elif case == "NaN threshold":
        return json.dumps(doc).replace('"MA": 0.4', '"MA": NaN')
    elif case == "infinite threshold":
        return json.dumps(doc).replace('"MA": 0.4', '"MA": Infinity')
    elif case == "threshold -3":
        doc["thresholds"]["MA"] = -3
    elif case == "threshold 7.5":
        doc["thresholds"]["MA"] = 7.5
    elif case == "adopted_threshold abc":
        lesion["adopted_threshold"] = "abc"
    elif case == "comment is a number":
        doc["images"]["a.jpg"]["comment"] = 5
    elif case == "unknown lesion":
        doc["images"]["a.jpg"]["lesions"]["XX"] = {}
    elif case == "status unknown":
        lesion["status"] = "done"
    return json.dumps(doc)


@pytest.mark.parametrize("case", list(BAD))
def test_a_damaged_value_is_one_clear_error_and_the_file_is_kept(tmp_path: Path, case: str) -> None:
    text = _bad_text(case)
    path = _write(tmp_path, text)
    with pytest.raises(SessionError, match="cannot read the review session") as caught:
        ReviewSession.open(tmp_path)
    assert str(path) in str(caught.value)
    assert path.read_text(encoding="utf-8") == text
