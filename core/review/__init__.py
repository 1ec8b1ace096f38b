"""A reader's review of a folder, without any GUI: what the app needs for one photograph
(``engine``), the one owner of what is shown and saved (``state``), editable masks with undo
(``editable_mask``), the map helpers for the screen (``display``, ``lesion_stats``,
``navigation``; numpy only), the session on disk with its lock, schema and files
(``session``, ``session_lock``, ``session_schema``, ``session_files``), export of reviewed
masks (``export``, ``session_export``) and the overnight prefill (``prefill``). Never
imports :mod:`core.learning`.
"""
