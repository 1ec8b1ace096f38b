"""LesionLens engine: diabetic-retinopathy lesion segmentation without any GUI dependency."""

__version__ = "0.1.0"
