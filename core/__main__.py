"""``python -m core`` is the ``lesionlens`` console script (also what ``torchrun -m core train`` runs)."""

import sys

from core.cli.main import launch

sys.exit(launch())
