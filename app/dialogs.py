"""Help, About and error dialogs."""

from __future__ import annotations

import html
import math
import platform
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QTextCursor
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMessageBox, QTextBrowser, QVBoxLayout, QWidget

import core
from core.assets.notices import IDRID_ATTRIBUTION, QT_NOTE, SAMPLE_ATTRIBUTION, components
from core.assets.paths import resources_dir
from core.inference.predict_files import DISCLAIMER
from core.lesions import LESIONS
from core.network.model_file import LoadedModel
from core.scoring.agreement import Agreement


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def versions() -> dict[str, str]:
    """Versions of LesionLens and the components it runs on."""
    import cv2
    import numpy
    import pyqtgraph

    return {
        "LesionLens": core.__version__,
        "Python": platform.python_version(),
        "OpenVINO": _version("openvino"),
        "PyTorch": _version("torch"),
        "PySide6 / Qt": f"{pyside_version} / {qVersion()}",
        "pyqtgraph": pyqtgraph.__version__,
        "NumPy": numpy.__version__,
        "OpenCV": cv2.__version__,
        "safetensors": _version("safetensors"),
    }


def _text_dialog(parent: QWidget | None, title: str, body_html: str, name: str) -> QDialog:
    dialog = QDialog(parent)
    dialog.setObjectName(name)
    dialog.setWindowTitle(title)
    browser = QTextBrowser()
    browser.setOpenExternalLinks(True)
    browser.setHtml(body_html)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.resize(640, 560)
    return dialog


def shortcuts_html(actions: list[QAction]) -> str:
    """A table of every action that has a keyboard shortcut."""
    rows = []
    for action in actions:
        keys = ", ".join(k.toString() for k in action.shortcuts())
        if keys:
            text = html.escape(action.text().replace("&", ""))
            rows.append(f"<tr><td><b>{html.escape(keys)}</b></td><td>{text}</td></tr>")
    mouse = (
        "<tr><td><b>wheel</b></td><td>zoom around the cursor</td></tr>"
        "<tr><td><b>drag</b></td><td>pan</td></tr>"
        "<tr><td><b>click a PR curve</b></td><td>set that lesion's threshold to the clicked point</td></tr>"
        "<tr><td><b>drop files or folders</b></td><td>add them to the worklist</td></tr>"
    )
    return f"<h3>Keyboard and mouse</h3><table cellpadding='3'>{''.join(rows)}{mouse}</table>"


def help_dialog(parent: QWidget | None, actions: list[QAction]) -> QDialog:
    return _text_dialog(parent, "LesionLens shortcuts", shortcuts_html(actions), "help_dialog")


def about_html(loaded: LoadedModel | None) -> tuple[str, str]:
    """Versions, the model, the disclaimer (before the card) and licences and data (after it)."""
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in versions().items()
    )
    parts = [
        f"<h2>LesionLens {html.escape(core.__version__)}</h2>",
        f"<p><b>{html.escape(DISCLAIMER)}</b> Every finding must be confirmed by a qualified reader.</p>",
        f"<table cellpadding='2'>{rows}</table>",
    ]
    if loaded is not None:
        meta = loaded.meta
        thresholds = ", ".join(f"{k} {v:.3f}" for k, v in meta.default_thresholds.items())
        parts.append(
            f"<h3>Model</h3><p>{html.escape(meta.name)} ({html.escape(loaded.path.name)})<br>"
            f"sha256 {loaded.sha256}<br>width {meta.model.width}, output {html.escape(meta.default_head)}, "
            f"default thresholds {html.escape(thresholds)}"
            f"{'' if meta.trained else '<br><b>UNTRAINED model: its maps mean nothing</b>'}</p>"
        )
    rows = "".join(
        f"<tr><td>{html.escape(n)}</td><td>{html.escape(v)}</td><td>{html.escape(lic)}</td></tr>"
        for n, v, lic in components()
    )
    tail = [f"<h3>Components and licences</h3><table cellpadding='2'>{rows}</table>"]
    tail.append(f"<p>{html.escape(QT_NOTE)}</p>")
    notices = resources_dir().parent / "THIRD_PARTY_NOTICES.txt"
    if notices.is_file():
        tail.append(f"<p>Full licence texts: {html.escape(str(notices))}</p>")
    tail.append(
        f"<h3>Data</h3><p>{html.escape(IDRID_ATTRIBUTION)}</p><p>{html.escape(SAMPLE_ATTRIBUTION)}</p>"
    )
    return "".join(parts), "".join(tail)


def about_dialog(parent: QWidget | None, loaded: LoadedModel | None, model_card: str | None) -> QDialog:
    """About: versions, the model, its card rendered from Markdown (tables, headings), licences."""
    head, tail = about_html(loaded)
    dialog = _text_dialog(parent, "About LesionLens", head, "about_dialog")
    browser = dialog.findChild(QTextBrowser)
    cursor = browser.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    if model_card:
        cursor.insertBlock()
        cursor.insertMarkdown(model_card)
    cursor.insertBlock()
    cursor.insertHtml(tail)
    browser.moveCursor(QTextCursor.MoveOperation.Start)
    return dialog


def show_error(
    parent: QWidget | None, title: str, message: str, icon: QMessageBox.Icon = QMessageBox.Icon.Critical
) -> QMessageBox:
    """A non-blocking error box (the event loop keeps running; tests can find and close it)."""
    box = QMessageBox(icon, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error_dialog")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def agreement_html(reference: Path, agreement: Agreement) -> str:
    """Dice per lesion for every photograph, pooled per lesion, and overall."""

    def cell(value: float) -> str:
        return "-" if math.isnan(value) else f"{value:.3f}"

    header = "".join(f"<th>{lesion.code}</th>" for lesion in LESIONS)
    rows = []
    for name, overlaps in sorted(agreement.images.items()):
        cells = "".join(f"<td>{cell(overlaps[lesion].dice)}</td>" for lesion in LESIONS)
        rows.append(
            f"<tr><td>{html.escape(name)}</td>{cells}<td>{cell(agreement.image_dice(name))}</td></tr>"
        )
    pooled = "".join(f"<td><b>{cell(agreement.pooled(lesion).dice)}</b></td>" for lesion in LESIONS)
    rows.append(
        f"<tr><td><b>all photographs</b></td>{pooled}<td><b>{cell(agreement.overall().dice)}</b></td></tr>"
    )
    return (
        f"<h3>Agreement with {html.escape(str(reference))}</h3>"
        "<p>Pixel Dice between your reviewed masks and the other reviewer's export "
        "(- where neither marked the lesion).</p>"
        "<table border='1' cellspacing='0' cellpadding='4'>"
        f"<tr><th>photograph</th>{header}<th>all lesions</th></tr>"
        f"{''.join(rows)}</table>"
    )


def agreement_dialog(parent: QWidget | None, reference: Path, agreement: Agreement) -> QDialog:
    return _text_dialog(
        parent, "Agreement between reviewers", agreement_html(reference, agreement), "agreement_dialog"
    )
