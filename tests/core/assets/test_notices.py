"""Licence notices of the bundled components and the data attribution."""

from __future__ import annotations

from pathlib import Path

from core.assets.notices import BUNDLED, components, write_notices


def test_every_bundled_component_has_a_version_and_a_licence() -> None:
    rows = {name: (version, licence) for name, version, licence in components()}
    assert set(rows) == set(BUNDLED)
    for name in ("torch", "PySide6-Essentials", "numpy", "pyqtgraph"):
        version, licence = rows[name]
        assert version != "not installed" and licence and licence != "not installed"
    assert "LGPL" in rows["PySide6-Essentials"][1]


def test_notices_file_has_licence_texts_and_the_idrid_attribution(tmp_path: Path) -> None:
    text = write_notices(tmp_path / "NOTICES.txt").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "IDRiD" in text and "LGPL" in text
    assert "normal_fundus_cc0.jpg" in text and "CC0 1.0" in text  # the bundled photograph
    assert text.count("-" * 78) >= 4, "licence texts of several distributions were found"
    assert "Permission is hereby granted" in text  # an MIT text (pyqtgraph)
