"""Run one of ``scripts/`` in-process, as ``python scripts/NAME.py ARGS`` would."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def run_script(monkeypatch: pytest.MonkeyPatch, name: str, *args: str) -> int:
    """The exit status of ``scripts/<name>`` run with ``args`` (its ``sys.exit`` caught)."""
    script = SCRIPTS / name
    monkeypatch.setattr(sys, "argv", [str(script), *args])
    with pytest.raises(SystemExit) as stopped:
        runpy.run_path(str(script), run_name="__main__")
    return int(stopped.value.code or 0)
