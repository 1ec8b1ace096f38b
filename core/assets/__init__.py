"""What ships with LesionLens and where it lives: the bundled model, samples and self-test
reference (``paths``), the model card read for a doctor (``model_card``), and the versions and
licences of every component (``notices``). Imports only :mod:`core.imaging`.
"""
