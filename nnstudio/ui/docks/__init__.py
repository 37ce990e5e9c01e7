"""Docks around the canvas: Problems, Summary and Code (the last two fed by a background compile)."""

from nnstudio.ui.docks.code import CodePanel
from nnstudio.ui.docks.preview import ModelPreview, PreviewResult
from nnstudio.ui.docks.problems import ProblemsPanel
from nnstudio.ui.docks.summary import SummaryPanel

__all__ = ["CodePanel", "ModelPreview", "PreviewResult", "ProblemsPanel", "SummaryPanel"]
