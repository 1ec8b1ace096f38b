"""What a bundle folder is made of: total size and the largest parts (Markdown on stdout).

Run: ``python packaging/size_report.py build/dist/LesionLens``.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path


def _group(relative: Path) -> str:
    parts = relative.parts
    if parts[0] == "_internal" and len(parts) > 2:
        top = parts[1]
        if top in ("torch", "openvino", "PySide6", "cv2", "numpy", "PIL") and len(parts) > 3:
            return f"{top}/{parts[2]}"
        return top
    return parts[0]


def main() -> int:
    root = Path(sys.argv[1])
    sizes: Counter[str] = Counter()
    files: list[tuple[int, str]] = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            relative = path.relative_to(root)
            sizes[_group(relative)] += size
            files.append((size, str(relative)))
    total = sum(sizes.values())
    lines = [
        f"# Bundle size: {total / 2**20:.0f} MiB unpacked ({len(files)} files)",
        "",
        "| part | MiB | share |",
        "|---|---|---|",
    ]
    for name, size in sizes.most_common(15):
        lines.append(f"| {name} | {size / 2**20:.1f} | {100 * size / total:.1f} % |")
    lines += ["", "| largest files | MiB |", "|---|---|"]
    lines += [f"| {name} | {size / 2**20:.1f} |" for size, name in sorted(files, reverse=True)[:12]]
    print("\n".join(lines))  # noqa: T201 - the report
    return 0


if __name__ == "__main__":
    sys.exit(main())
