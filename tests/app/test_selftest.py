"""``lesionlens --self-test`` and what the desktop bundle may leave out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_self_test_passes_from_source(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LESIONLENS_SETTINGS": str(tmp_path / "s.ini")}
    proc = subprocess.run(
        [sys.executable, "-m", "app", "--self-test"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "self-test passed" in proc.stdout
    assert proc.stdout.count("ok  ") >= 8 and "FAIL" not in proc.stdout


def test_the_app_runs_without_what_the_bundle_excludes(tmp_path: Path) -> None:
    """The PyInstaller spec leaves out matplotlib, SciPy and scikit-learn: the app must not need them."""
    code = (
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        f"os.environ['LESIONLENS_SETTINGS'] = {str(tmp_path / 's.ini')!r}\n"
        "from app.selftest import run_self_test\n"
        "code = run_self_test()\n"
        "excluded = {'matplotlib', 'scipy', 'sklearn', 'tkinter'}\n"
        "bad = sorted({m.split('.')[0] for m in sys.modules} & excluded)\n"
        "print('EXCLUDED-LOADED', bad)\n"
        "from app.main import _leave\n"
        "_leave(code)  # as the console script ends: no interpreter teardown of Qt objects\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "EXCLUDED-LOADED []" in proc.stdout
