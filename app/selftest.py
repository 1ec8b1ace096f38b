"""``LesionLens --self-test``: check an installation without a screen, print each check, exit 0 or 1."""

from __future__ import annotations

import os
import sys
import time

from core.inference.selftest import SelfTestResult, check_inference


def run_self_test() -> int:
    """The backend, the bundled model and a reference inference, then the main window offscreen."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    result = SelfTestResult()
    started = time.perf_counter()
    try:
        check_inference(result)
        from core.assets.notices import components

        missing = [name for name, version, _ in components() if version == "not installed"]
        result.check(
            not missing, f"versions and licences of {len(components())} components ({missing or 'all found'})"
        )
        from PySide6.QtCore import QSettings, QTemporaryDir
        from PySide6.QtWidgets import QApplication

        from app.controller import Controller
        from app.engine_setup import build_engine
        from app.settings import AppSettings

        app = QApplication.instance() or QApplication(sys.argv[:1])
        scratch = QTemporaryDir()
        engine, problem = build_engine(None, "cpu", None)
        result.check(engine is not None, f"review engine with the bundled model ({problem or 'loaded'})")
        settings = AppSettings(QSettings(scratch.filePath("settings.ini"), QSettings.Format.IniFormat))
        controller = Controller(engine, settings, auto_run=False)
        controller.window.show()
        app.processEvents()
        shot = controller.window.grab()
        result.check(
            shot.width() > 0 and len(controller.window.actions_by_name) > 20,
            f"main window built on the '{app.platformName()}' platform ({shot.width()}x{shot.height()})",
        )
        controller.shutdown()
        controller.window.close()
    except Exception as exc:  # noqa: BLE001 - a self-test reports every failure instead of crashing
        result.check(False, f"unexpected error: {exc!r}")
    for line in result.lines:
        print(line)  # noqa: T201 - the self-test's output
    verdict = "passed" if result.ok else "FAILED"
    print(f"self-test {verdict} in {time.perf_counter() - started:.1f} s")  # noqa: T201
    return 0 if result.ok else 1
