"""The on-image legend: what each colour means in the current display mode."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QWidget

from app.overlay_state import OverlayStyle, Rgb, TruthMode
from core.lesions import LESIONS, Lesion
from core.review.display import FALSE_NEGATIVE_COLOUR, FALSE_POSITIVE_COLOUR, TRUE_POSITIVE_COLOUR
from core.review.state import Layer

#: The ground-truth entry of the outline mode, drawn as a hollow square: the outlines take each
#: lesion's own paler colour, so a filled swatch read as one more lesion colour.
OUTLINE_ENTRY = "hollow: ground-truth outline, in each lesion's paler colour"
_OUTLINE_GREY: Rgb = (225, 225, 225)


def legend_entries(
    layers: dict[Lesion, Layer], overlay: OverlayStyle, truth: TruthMode, has_truth: bool
) -> tuple[str, list[tuple[Rgb, str]]]:
    """The legend's title and (colour, meaning) lines for the current display mode."""
    visible = [lesion for lesion in LESIONS if layers[lesion].visible]
    if not visible:
        return "all overlays hidden (O shows them)", []
    mode = truth if has_truth else TruthMode.OFF
    codes = ", ".join(lesion.code for lesion in visible)
    if mode is TruthMode.COMPARE:
        return f"TP / FP / FN of {codes} (same colours for every lesion)", [
            (TRUE_POSITIVE_COLOUR, "found: marked and in the ground truth"),
            (FALSE_POSITIVE_COLOUR, "marked, not in the ground truth"),
            (FALSE_NEGATIVE_COLOUR, "missed: in the ground truth, not marked"),
        ]
    if mode is TruthMode.TRUTH:
        return "ground truth (not the prediction)", [
            (layers[lesion].colour, lesion.title) for lesion in visible
        ]
    title = "prediction, filled" if overlay is OverlayStyle.FILL else "prediction, contours"
    entries = [(layers[lesion].colour, lesion.title) for lesion in visible]
    if mode is TruthMode.OUTLINE:
        entries += [(_OUTLINE_GREY, OUTLINE_ENTRY)]
    return title, entries


def _symbol(text: str) -> str:
    return "&#9633;" if text == OUTLINE_ENTRY else "&#9632;"  # hollow / filled square


class Legend(QLabel):
    """A small translucent box in the image view's top-left corner."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setStyleSheet(
            "background-color: rgba(20, 20, 20, 200); color: #eee; padding: 4px; border-radius: 3px;"
        )
        self.move(8, 8)

    def show_entries(self, title: str, entries: list[tuple[Rgb, str]]) -> None:
        lines = [f"<b>{html.escape(title)}</b>"]
        lines += [
            f"<span style='color: rgb{colour}; font-size: 14pt;'>{_symbol(text)}</span> {html.escape(text)}"
            for colour, text in entries
        ]
        self.setText("<br>".join(lines))
        self.adjustSize()
        self.raise_()
