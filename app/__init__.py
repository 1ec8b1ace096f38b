"""LesionLens review GUI (PySide6 + pyqtgraph); views and controllers only, maths in ``core``."""
