"""LesionLens engine: diabetic-retinopathy lesion segmentation without any GUI dependency.

Packages, lowest layer first (each imports only the ones listed before it; the rules are
import-linter contracts in ``pyproject.toml``, see ``docs/architecture.md``):

- :mod:`core.imaging`: photographs, masks, field of view, working image, tiles, probability maps.
- :mod:`core.assets`: the bundled model, samples, model card, licences.
- :mod:`core.data`: dataset layouts, a photograph's ground truth, synthetic photographs.
- :mod:`core.scoring`: precision-recall, AUPR, evaluation reports, reader agreement (pure).
- :mod:`core.network`: UNet++, the model file, the torch and OpenVINO backends.
- :mod:`core.inference`: whole photographs and folders through a network; prediction cache.
- :mod:`core.learning` and :mod:`core.review`, side by side: training and model checks;
  a reader's review session, editing and export.
- :mod:`core.cli`: the ``lesionlens`` command line.

``errors``, ``lesions`` and ``config`` are the vocabulary every layer shares.
"""

__version__ = "0.1.0"
