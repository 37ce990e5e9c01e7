"""The Search panel: a study of the project's search space, run in the background (see panel.py)."""
