"""What a study found: counts, the best trial (or the Pareto front), every trial, and the best as a project.

`summarize_study` returns plain JSON-ready data; `report_text` turns it into the `--report` text. The best
trial's project is rebuilt with `apply_sample` from the stored project and the trial's params, so it is the
project that trial trained, structure included.
"""

from __future__ import annotations

from typing import Any

from nnstudio.model.project import Project
from nnstudio.search.context import StudyContext
from nnstudio.search.runner import RESULT_ATTR
from nnstudio.search.sample import apply_sample, describe_params
from nnstudio.search.storage import LOST_ATTR, WORKER_ATTR, SearchError, is_lost

STATES = ("complete", "pruned", "fail", "running", "waiting")


def _trial(trial: Any) -> dict[str, Any]:
    state = trial.state.name.lower()
    result = trial.user_attrs.get(RESULT_ATTR) or {}
    running = trial.user_attrs.get(WORKER_ATTR) or {}
    reason = trial.user_attrs.get(LOST_ATTR) or result.get("reason") or ""
    seconds = result.get("seconds")
    if seconds is None and trial.datetime_start and trial.datetime_complete:
        seconds = (trial.datetime_complete - trial.datetime_start).total_seconds()
    return {"number": trial.number, "state": "lost" if is_lost(trial) else state, "values": trial.values,
            "params": dict(trial.params), "seconds": seconds, "reason": reason,
            "run": result.get("run") or running.get("run")}


def best_trials(context: StudyContext) -> list[Any]:
    """The best trial in a list, or the Pareto front (best first objective first); empty before any completes."""
    study = context.study
    if not any(t.state.name == "COMPLETE" for t in study.get_trials(deepcopy=False)):
        return []
    if len(study.directions) == 1:
        return [study.best_trial]
    maximize = context.space.study.direction == "maximize"
    return sorted(study.best_trials, key=lambda t: -t.values[0] if maximize else t.values[0])


def summarize_study(context: StudyContext) -> dict[str, Any]:
    trials = [_trial(t) for t in context.study.get_trials(deepcopy=False)]
    counts = {state: sum(t["state"] == state for t in trials) for state in (*STATES, "lost")}
    study = context.space.study
    return {"study": context.name, "storage": context.url, "metric": study.metric, "direction": study.direction,
            "second": study.second, "sampler": study.sampler, "pruner": study.pruner, "counts": counts,
            "best": [_trial(t) for t in best_trials(context)], "trials": trials,
            "space": context.space.describe()}


def report_text(summary: dict[str, Any]) -> str:
    names = [summary["metric"], *([summary["second"]] if summary["second"] else [])]
    counts = ", ".join(f"{n} {state}" for state, n in summary["counts"].items() if n)
    lines = [f"study {summary['study']!r} in {summary['storage']}: {counts or 'no trials'}", summary["space"]]
    best = summary["best"]
    heading = "Pareto front" if summary["second"] else "best trial"
    lines.append(f"{heading}:" if best else "no trial has completed yet")
    lines += [f"  {_row(t, names)}" for t in best]
    lines.append("trials:")
    lines += [f"  {_row(t, names)}" for t in summary["trials"]]
    return "\n".join(lines)


def _row(trial: dict[str, Any], names: list[str]) -> str:
    values = "  ".join(f"{n} {v:.6g}" for n, v in zip(names, trial["values"] or [])) or "-"
    seconds = f", {trial['seconds']:.1f} s" if isinstance(trial["seconds"], (int, float)) else ""
    reason = f" ({trial['reason']})" if trial["reason"] else ""
    return f"trial {trial['number']}: {trial['state']}{reason}, {values}{seconds}; {describe_params(trial['params'])}"


def best_project(context: StudyContext) -> tuple[Project, Any]:
    """The best trial's project (for a Pareto front: its best first objective) and that trial."""
    best = best_trials(context)
    if not best:
        raise SearchError(f"study {context.name!r} has no completed trial to apply yet")
    trial = best[0]
    sampled = apply_sample(context.project, context.space, dict(trial.params))
    if sampled.invalid:  # the stored project changed under the study; a completed trial trained it once
        raise SearchError(f"trial {trial.number}'s structure no longer validates: {sampled.invalid}")
    project = sampled.project
    project.search = {}  # the result is a project to train or edit, not another search
    note = f"best trial {trial.number} of study {context.name!r}: {describe_params(dict(trial.params))}"
    project.metadata.description = (project.metadata.description + "\n\n" + note).strip()
    return project, trial
