"""Reading a model card (``<model>.md`` beside the weights) for a doctor.

Cards are Markdown written by ``scripts/ship_model.py``. Their section
``## Notes for developers`` (comparisons with earlier models, what was not measured,
how to reproduce) is left out of the card the app shows.
"""

from __future__ import annotations

DEVELOPER_SECTION = "Notes for developers"


def card_for_readers(markdown: str) -> str:
    """The card without its developer section (Markdown in, Markdown out)."""
    kept: list[str] = []
    skipping = False
    for line in markdown.splitlines():
        if line.startswith("## "):
            skipping = line[3:].strip() == DEVELOPER_SECTION
        if not skipping:
            kept.append(line)
    return "\n".join(kept).strip() + "\n"
