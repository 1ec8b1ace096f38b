"""docs/benchmarks.md is shared by several benchmarks: each owns a section between markers."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
_SECTION = re.compile(r"<!-- (\w+):begin -->.*?<!-- \1:end -->", re.DOTALL)


def owned_sections(text: str) -> list[str]:
    """Every marked section of a document, in order."""
    return [match.group(0) for match in _SECTION.finditer(text)]


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    """Replace (or append) the section ``name``; the rest of the document is kept."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    section = f"{begin}\n{body.strip()}\n{end}"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if begin in text:
        text = text[: text.index(begin)] + section + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text)


def write_unowned(markdown: str, doc: Path = DOC) -> None:
    """Write the part outside any marked section, keeping every marked section after it."""
    kept = owned_sections(doc.read_text()) if doc.exists() else []
    doc.write_text(markdown.rstrip() + "\n" + "".join(f"\n{section}\n" for section in kept))
