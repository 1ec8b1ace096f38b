"""An on-image legend for every display mode that recolours (issue 11, defect 4)."""

from __future__ import annotations

from app.controller import Controller
from app.legend import legend_entries
from app.overlay_state import OverlayStyle, TruthMode
from core.lesions import LESIONS, Lesion
from core.review.display import FALSE_NEGATIVE_COLOUR, FALSE_POSITIVE_COLOUR, TRUE_POSITIVE_COLOUR
from core.review.state import Layer


def _layers() -> dict[Lesion, Layer]:
    return {lesion: Layer(True, lesion.colour, 0.6) for lesion in LESIONS}


def test_every_mode_has_entries_and_comparison_colours_are_no_lesion_colour() -> None:
    for overlay in OverlayStyle:
        for truth in TruthMode:
            title, entries = legend_entries(_layers(), overlay, truth, has_truth=True)
            assert title and entries
    title, entries = legend_entries(_layers(), OverlayStyle.FILL, TruthMode.COMPARE, has_truth=True)
    colours = [colour for colour, _ in entries]
    assert colours == [TRUE_POSITIVE_COLOUR, FALSE_POSITIVE_COLOUR, FALSE_NEGATIVE_COLOUR]
    assert "every lesion" in title
    for colour in colours:
        for lesion in LESIONS:
            assert sum(abs(a - b) for a, b in zip(colour, lesion.colour, strict=True)) > 120, (
                f"{colour} looks like the {lesion.code} colour {lesion.colour}"
            )
    _, without_truth = legend_entries(_layers(), OverlayStyle.FILL, TruthMode.COMPARE, has_truth=False)
    assert [text for _, text in without_truth] == [lesion.title for lesion in LESIONS]


def test_the_legend_is_on_the_image_and_follows_the_mode(qtbot, opened: Controller) -> None:
    c = opened
    assert c.modes.legend.isVisible() and c.modes.legend.parent() is c.view
    c.panel.select(c.panel.truth_box, TruthMode.COMPARE)
    assert "TP / FP / FN" in c.modes.legend.text() and "missed" in c.modes.legend.text()
    c.panel.select(c.panel.truth_box, TruthMode.TRUTH)
    assert "ground truth" in c.modes.legend.text()
    c.panel.select(c.panel.truth_box, TruthMode.OUTLINE)
    assert "ground-truth outline" in c.modes.legend.text()
    assert "&#9633;" in c.modes.legend.text(), "the truth entry is a hollow square, not a lesion swatch"
    c.window.action("toggle_SE").trigger()
    assert "Soft exudate" not in c.modes.legend.text()


def test_the_reader_can_hide_the_legend_when_it_covers_the_photograph(qtbot, opened: Controller) -> None:
    c = opened
    assert c.modes.legend.isVisible()
    c.window.action("toggle_legend").trigger()
    assert not c.modes.legend.isVisible()
    c.panel.select(c.panel.truth_box, TruthMode.COMPARE)  # a mode change does not bring it back
    assert not c.modes.legend.isVisible()
    c.window.action("toggle_legend").trigger()
    assert c.modes.legend.isVisible() and "TP / FP / FN" in c.modes.legend.text()
