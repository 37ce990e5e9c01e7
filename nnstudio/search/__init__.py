"""Hyperparameter and structure search over a project, with Optuna (the `search` extra).

    space, problems = parse_search(project)            # never raises; (place, message) problems
    context = start_study(project, source, url, name, base_dir, runs, overrides)
    runner = StudyRunner(context, on_trial=print_line)   # on any thread
    runner.run()                                         # request_stop() from any other thread

Only runner, context and storage import Optuna, and only when called; the space and its parsing need neither
Optuna nor torch.
"""

from __future__ import annotations

from nnstudio.util.lazy import lazy_exports

_EXPORTS = {
    "parse_search": "nnstudio.search.study",
    "StudySettings": "nnstudio.search.study",
    "SearchSpace": "nnstudio.search.space",
    "Dimension": "nnstudio.search.space",
    "apply_sample": "nnstudio.search.sample",
    "SearchError": "nnstudio.search.storage",
    "open_storage": "nnstudio.search.storage",
    "default_url": "nnstudio.search.storage",
    "StudyContext": "nnstudio.search.context",
    "start_study": "nnstudio.search.context",
    "join_study": "nnstudio.search.context",
    "StudyRunner": "nnstudio.search.runner",
    "TrialReport": "nnstudio.search.runner",
    "summarize_study": "nnstudio.search.report",
    "best_project": "nnstudio.search.report",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_exports("nnstudio.search", _EXPORTS)
