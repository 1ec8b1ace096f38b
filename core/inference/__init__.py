"""Whole photographs through a network: field-of-view crop, scaling, tiles, batches,
stitching and the way back to the original pixels (``predictor``); folders of files with
reader and writer threads (``predict_files``); the on-disk prediction cache
(``prediction_cache``); the engine half of the installation self-test (``selftest``).
Never imports :mod:`core.learning` or :mod:`core.review`.
"""
