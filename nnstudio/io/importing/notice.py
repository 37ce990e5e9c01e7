"""The warning shown before a model's Python code is run, in one place for the CLI and the GUI.

It lives apart from source.py, which imports torch, so the GUI can show it before torch has loaded.
"""

RUNS_CODE_WARNING = (
    "importing a model runs its Python code (the file is imported and the class "
    "instantiated); only import code you trust"
)
