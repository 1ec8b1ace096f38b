"""The ``lesionlens`` command line, the outermost layer of the engine: the entry point and
``predict``/``synth``/``info`` (``main``), data, training and evaluation (``data``), review
export and prefill (``review``) and the model checks (``checks``). ``lesionlens`` alone or
``gui`` starts the review app by module name (``app.main``), so the engine never imports
Qt and the app never imports the command line.
"""
