"""Making and judging models (torch): training tiles and their cache (``training_data``),
augmentation (``augment``), losses (``losses``), the training loop (``train``), named
recipes (``recipes``), running a model for scoring (``model_evaluation``) and the checks
beyond the validation split: simulated other camera, healthy eye, field-of-view border
(``robustness``). Nothing that serves a reader imports this package.
"""
