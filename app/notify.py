"""How the app tells the reader something: error dialogs, status-bar messages, confirmations."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox

from app import dialogs

log = logging.getLogger(__name__)


class Notifier(QObject):
    """The one channel sub-controllers use to reach the reader.

    Signals:
        error(message): an error was shown.
    """

    error = Signal(str)

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.window = window

    def show_error(self, title: str, message: str) -> None:
        log.error("%s: %s", title, message)
        dialogs.show_error(self.window, title, message)
        self.error.emit(message)

    def show_warning(self, title: str, message: str) -> None:
        """A notice the reader must see that is not a failure (no ``error`` signal)."""
        log.warning("%s: %s", title, message)
        dialogs.show_error(self.window, title, message, QMessageBox.Icon.Warning)

    def show_message(self, text: str, milliseconds: int = 5000) -> None:
        self.window.statusBar().showMessage(text, milliseconds)

    def confirm(self, title: str, text: str) -> bool:
        """Ask a yes / no question (default: no)."""
        answer = QMessageBox.question(
            self.window,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def choose(self, title: str, text: str, options: list[str]) -> str | None:
        """Ask the reader to pick one of ``options`` (button texts); None when the box is closed."""
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton, self.window
        )
        buttons = {box.addButton(option, QMessageBox.ButtonRole.ActionRole): option for option in options}
        box.exec()
        return buttons.get(box.clickedButton())

    def choose_folder(self, title: str) -> Path | None:
        """A folder picked by the reader, or None."""
        chosen = QFileDialog.getExistingDirectory(self.window, title)
        return Path(chosen) if chosen else None
