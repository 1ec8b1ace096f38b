"""The ``lesionlens`` console script: app by default, engine commands otherwise, screenshots."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from app.main import SCREENSHOT_SIZE
from core.cli.main import app_arguments, launch
from core.data.synthetic import write_idrid_layout


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "LESIONLENS_SETTINGS": str(tmp_path / "settings.ini"),
        "LESIONLENS_CACHE_DIR": str(tmp_path / "cache"),
    }


def _lesionlens(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = shutil.which("lesionlens", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "app"]
    return subprocess.run(
        [*command, *args], cwd=tmp_path, env=_env(tmp_path), capture_output=True, text=True, timeout=600
    )


def test_screenshot_of_an_image_with_ground_truth(tmp_path: Path, tiny_checkpoint: Path) -> None:
    image = write_idrid_layout(tmp_path / "data", 1, 480, 720, seed=2)[0]
    out = tmp_path / "shots" / "window.png"
    proc = _lesionlens(
        "gui", str(image), "--model", str(tiny_checkpoint), "--screenshot", str(out), tmp_path=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    shot = QImage(str(out))
    assert (shot.width(), shot.height()) == SCREENSHOT_SIZE
    assert not list(out.parent.glob(".*tmp*"))


def test_screenshot_of_a_bad_file_fails_cleanly(tmp_path: Path, tiny_checkpoint: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    out = tmp_path / "window.png"
    proc = _lesionlens(
        "gui", str(bad), "--model", str(tiny_checkpoint), "--screenshot", str(out), tmp_path=tmp_path
    )
    assert proc.returncode == 1
    assert "bad.png" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_screenshot_names_a_missing_file_given_with_valid_ones(tmp_path: Path, tiny_checkpoint: Path) -> None:
    image = write_idrid_layout(tmp_path / "data", 1, 480, 720, seed=2)[0]
    missing = tmp_path / "IDRiD_99.jpg"
    out = tmp_path / "window.png"
    proc = _lesionlens(
        "gui",
        str(image),
        str(missing),
        "--model",
        str(tiny_checkpoint),
        "--screenshot",
        str(out),
        tmp_path=tmp_path,
    )
    assert proc.returncode == 1
    assert "IDRiD_99.jpg: no such file or folder" in proc.stderr and "Traceback" not in proc.stderr
    assert QImage(str(out)).width() == SCREENSHOT_SIZE[0]  # the photograph that opens is still shown


def test_a_bad_model_file_is_reported(tmp_path: Path) -> None:
    model = tmp_path / "model.safetensors"
    model.write_bytes(b"nonsense")
    proc = _lesionlens(
        "gui", "--model", str(model), "--screenshot", str(tmp_path / "x.png"), tmp_path=tmp_path
    )
    assert proc.returncode == 2 and "model.safetensors" in proc.stderr


def test_engine_commands_still_work(capsys: pytest.CaptureFixture[str], tiny_checkpoint: Path) -> None:
    assert launch(["info", str(tiny_checkpoint)]) == 0
    assert '"name": "tiny-test"' in capsys.readouterr().out


@pytest.mark.slow
def test_default_opens_the_bundled_samples_with_the_bundled_model(tmp_path: Path) -> None:
    """``lesionlens`` alone = the app on its built-in default; rendered here as a screenshot."""
    out = tmp_path / "default.png"
    proc = _lesionlens("gui", "--screenshot", str(out), tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert QImage(str(out)).width() == SCREENSHOT_SIZE[0]
    assert "predictor: lesionlens-idrid-w025" in proc.stderr
    assert list((tmp_path / "cache").glob("*.npz")), "the prediction was cached"


def test_no_arguments_means_the_app_on_the_bundled_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    import app.main as app_main

    seen = {}
    monkeypatch.setattr(app_main, "run_gui", lambda args: seen.setdefault("args", args) and 0)
    launch([])
    args = seen["args"]
    assert args.paths == [] and args.model is None and args.screenshot is None and not args.self_test


@pytest.mark.parametrize(
    ("argv", "for_app"),
    [
        ([], []),
        (["gui", "a.jpg", "--model", "m.safetensors"], ["a.jpg", "--model", "m.safetensors"]),
        (["--self-test"], ["--self-test"]),
        (["--log-level", "DEBUG", "gui", "x"], ["--log-level", "DEBUG", "x"]),
        (["predict", "a.jpg"], None),
        (["--log-level", "DEBUG", "info"], None),
    ],
)
def test_the_console_script_sends_app_arguments_to_the_app(
    argv: list[str], for_app: list[str] | None
) -> None:
    assert app_arguments(argv) == for_app
