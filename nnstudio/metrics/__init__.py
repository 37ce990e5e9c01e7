"""Metrics: task scores, per-layer instruments and the history that plots observe. Qt-free."""

from nnstudio.metrics.history import JsonLinesWriter, MetricHistory, Series, clean_json
from nnstudio.metrics.layers import (
    ActivationProbe,
    GradientNorms,
    node_modules,
    node_parameters,
    weight_summaries,
)
from nnstudio.metrics.scores import TaskScores, higher_is_better, metric_names
from nnstudio.metrics.stats import TensorSummary, summary_row

__all__ = [
    "ActivationProbe",
    "GradientNorms",
    "JsonLinesWriter",
    "MetricHistory",
    "Series",
    "TaskScores",
    "TensorSummary",
    "clean_json",
    "higher_is_better",
    "metric_names",
    "node_modules",
    "node_parameters",
    "summary_row",
    "weight_summaries",
]
