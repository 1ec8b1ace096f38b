"""Versions and licences of the components LesionLens ships with, and the data attribution.

``write_notices`` gathers every bundled distribution's licence texts into one file
(``THIRD_PARTY_NOTICES.txt`` in the installer); the About box lists the same components.
"""

from __future__ import annotations

import logging
import os
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

#: Distributions inside the desktop bundle.
BUNDLED = (
    "lesionlens",
    "openvino",
    "torch",
    "numpy",
    "opencv-python-headless",
    "pillow",
    "safetensors",
    "PySide6-Essentials",
    "shiboken6",
    "pyqtgraph",
    "tqdm",
)
#: Left out of the CPU-only installer (OpenVINO runs the network there); listed when present.
OPTIONAL = ("torch",)

IDRID_ATTRIBUTION = (
    "The bundled model was trained on the Indian Diabetic Retinopathy Image Dataset (IDRiD), "
    "P. Porwal et al., IEEE Dataport 2018, doi:10.21227/H25W98, licensed CC BY 4.0. "
    "No IDRiD image is bundled."
)

SAMPLE_ATTRIBUTION = (
    "The sample photograph normal_fundus_cc0.jpg is 'Fundus photograph of normal left eye' by "
    "Mikael Häggström (Wikimedia Commons; WikiJournal of Medicine 2014, doi:10.15347/wjm/2014.008), "
    "dedicated to the public domain under CC0 1.0, as scikit-image ships it (skimage.data.retina). "
    "The other samples are synthetic drawings."
)

QT_NOTE = (
    "Qt and PySide6 are used under the GNU LGPL v3: the bundle contains them as separate, "
    "replaceable shared libraries; their source is available from https://download.qt.io and "
    "https://code.qt.io/cgit/pyside/pyside-setup.git."
)


def licence_of(distribution: str) -> str:
    """The licence a distribution declares (SPDX expression, License field or classifiers)."""
    try:
        meta = metadata.metadata(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"
    # the metadata is an email.message.Message; its typing protocol leaves out .get
    expression = meta.get("License-Expression")  # type: ignore[attr-defined]
    if expression:
        return expression
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    field = (meta.get("License") or "").strip()  # type: ignore[attr-defined]
    if field and len(field) < 80 and "\n" not in field:
        return field
    return ", ".join(classifiers) or (field.splitlines()[0][:80] if field else "see its distribution")


def components() -> list[tuple[str, str, str]]:
    """(name, version, licence) of every bundled distribution (optional ones when present)."""
    rows = []
    for name in BUNDLED:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            if name in OPTIONAL:
                continue
            version = "not installed"
        rows.append((name, version, licence_of(name)))
    return rows


def _licence_texts(distribution: str) -> list[tuple[str, str]]:
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError:
        return []
    texts = []
    for item in files:
        name = Path(str(item)).name.upper()
        if name.startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE")) and ".dist-info" in str(item):
            try:
                texts.append((str(item), Path(item.locate()).read_text(encoding="utf-8", errors="replace")))
            except OSError:
                continue
    return texts


def notices_text(leave_out: tuple[str, ...] = ()) -> str:
    """The full notices: components, the Qt note, the data attribution, every licence text found.

    ``leave_out``: distributions installed here but not shipped (torch in the CPU installer).
    """
    lines = ["LesionLens: third-party components and data", "=" * 44, ""]
    rows = [row for row in components() if row[0] not in leave_out]
    lines += [f"{name} {version}: {licence}" for name, version, licence in rows]
    lines += ["", QT_NOTE, "", IDRID_ATTRIBUTION, "", SAMPLE_ATTRIBUTION, ""]
    for name in (name for name in BUNDLED if name not in leave_out):
        for path, text in _licence_texts(name):
            lines += ["", "-" * 78, f"{name}: {path}", "-" * 78, text.rstrip()]
    return "\n".join(lines) + "\n"


def write_notices(path: str | os.PathLike[str], leave_out: tuple[str, ...] = ()) -> Path:
    """Write :func:`notices_text` to ``path`` (atomically)."""
    from core.imaging.io import write_bytes_atomic

    write_bytes_atomic(path, notices_text(leave_out).encode("utf-8"))
    return Path(path)
