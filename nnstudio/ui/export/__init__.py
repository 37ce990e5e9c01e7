"""File ▸ Export Model…: the dialog (dialog.py) and what it offers and runs, kept free of Qt (sources.py).

The TrainingController opens the dialog, since it knows the project's runs and which one is training.
"""

from __future__ import annotations

from nnstudio.ui.export.dialog import ExportContext, ExportDialog

__all__ = ["ExportContext", "ExportDialog"]
