"""Entry point of the PyInstaller bundle (``LesionLens``).

torch is imported before anything Qt: on Windows both ship OpenMP/MSVC runtime DLLs and
the first one loaded wins; torch's must be first.
"""

import sys

import torch  # noqa: F401

from app.main import main

if __name__ == "__main__":
    sys.exit(main())
