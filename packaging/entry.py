"""Entry point of the PyInstaller bundle (``LesionLens``).

The CPU installer runs the network with OpenVINO and has no torch. Where a build does bundle
torch (a GPU build), it is imported before anything Qt: on Windows both ship OpenMP/MSVC
runtime DLLs and the first one loaded wins; torch's must be first.
"""

import sys
from importlib.util import find_spec

if find_spec("torch") is not None:
    import torch  # noqa: F401

from core.cli.main import launch

if __name__ == "__main__":
    sys.exit(launch())
