"""Guards against Qt-binding releases that break a long review session."""

from __future__ import annotations

import sys

from PySide6.QtGui import QImage, QPainter, qRgba


def test_qt_calls_do_not_drop_references_to_none() -> None:
    """PySide6 6.12.0 released a reference to None per call; on Python 3.11 the app then aborted."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    indexed = QImage(8, 8, QImage.Format.Format_Indexed8)
    table = [qRgba(1, 2, 3, 4)] * 256
    painter = QPainter()
    before = sys.getrefcount(None)
    for _ in range(2000):
        painter.begin(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.end()
        indexed.setColorTable(table)
    assert sys.getrefcount(None) - before > -100
