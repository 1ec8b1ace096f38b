"""Bundled assets (models, sample images); located through ``core.paths``."""
