"""Exceptions raised by the engine.

Every message names what failed (file, value), why, and what the user can do about it,
so that the CLI and the GUI can show it verbatim.
"""

from __future__ import annotations


class LesionLensError(Exception):
    """Base class of every error the engine raises on purpose."""


class ImageReadError(LesionLensError):
    """An image or mask file cannot be used."""


class FovNotFoundError(LesionLensError):
    """No circular fundus field of view could be found in an image."""


class CheckpointError(LesionLensError):
    """A model file is missing, damaged, foreign or incompatible."""


class DatasetError(LesionLensError):
    """A dataset folder does not have the expected layout or content."""


class ConfigError(LesionLensError, ValueError):
    """A configuration value is out of range or inconsistent."""


class Cancelled(LesionLensError):  # noqa: N818 - name fixed by ARCHITECTURE.md
    """Long work was stopped at the user's request."""
