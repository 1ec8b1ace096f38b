"""``lesionlens`` with rule 18's candidate filter patched in (a record of how A and B were scored).

python docs/training/rules/rule18_patched_cli.py {2d|rows} evaluate|check ARGS...
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rule18_stripes import patch_predictor

from core.cli.main import main

if __name__ == "__main__":
    patch_predictor(sys.argv[1])
    sys.exit(main(sys.argv[2:]))
