"""What a search can be made of, declared once: dimension kinds, samplers, pruners and second objectives.

Parsing (space.py), its error messages, the runner's choice of Optuna classes, `nnstudio search --help` and
docs/search.md all read these tables, so a new sampler or kind is one new row here (plus its factory).
Nothing here imports Optuna: the factories name Optuna classes and are resolved only when a study starts.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DimensionKind:
    """One kind of search dimension: what it varies and which keys its entry in `search.space` takes."""

    name: str
    doc: str
    required: tuple[str, ...]  # keys besides "kind" that must be present
    optional: tuple[str, ...] = ()
    structure: bool = False  # changes the graph (a block kept or bypassed, repeated) rather than a value
    numeric: bool = True  # a number range: what CMA-ES can sample
    whole: bool = False  # its values are whole numbers (sampled with suggest_int)
    flag: bool = False  # its values are True and False (kept or bypassed)

    @property
    def keys(self) -> tuple[str, ...]:
        return ("kind", *self.required, *self.optional)


DIMENSION_KINDS: dict[str, DimensionKind] = {kind.name: kind for kind in (
    DimensionKind("float", "a number in [low, high]; log spaces it logarithmically (low must then be > 0); "
                  "step makes it a grid", ("low", "high"), ("param", "node", "log", "step")),
    DimensionKind("int", "a whole number in [low, high], every step (default 1); log spaces it logarithmically",
                  ("low", "high"), ("param", "node", "log", "step"), whole=True),
    DimensionKind("choice", "one of the listed values (numbers, strings or booleans)", ("choices",),
                  ("param", "node"), numeric=False),
    DimensionKind("optional", "a block of nodes kept or bypassed (its input then feeds its consumers)",
                  ("nodes",), structure=True, numeric=False, flag=True),
    DimensionKind("repeat", "a block of nodes repeated low..high times in series (0 bypasses it)",
                  ("nodes", "low", "high"), structure=True, whole=True),
)}


@dataclass(frozen=True)
class SamplerSpec:
    name: str
    doc: str
    factory: str  # "module:attribute" of the Optuna class
    multi_objective: bool  # can optimise two objectives (a Pareto front)
    single_objective: bool = True
    numeric_only: bool = False  # refuses choice and optional dimensions
    grid: bool = False  # enumerates a finite grid: every float dimension needs a step
    needs: str = ""  # an extra package the Optuna class imports, named in the refusal when it is missing


SAMPLERS: dict[str, SamplerSpec] = {spec.name: spec for spec in (
    SamplerSpec("tpe", "Bayesian search (tree-structured Parzen estimator); the default for one objective",
                "optuna.samplers:TPESampler", multi_objective=True),
    SamplerSpec("random", "independent uniform draws: the baseline every other sampler should beat",
                "optuna.samplers:RandomSampler", multi_objective=True),
    SamplerSpec("grid", "every combination once (int and choice dimensions, float dimensions with a step)",
                "optuna.samplers:GridSampler", multi_objective=True, grid=True),
    SamplerSpec("cmaes", "CMA-ES evolution strategy over number ranges only; one objective",
                "optuna.samplers:CmaEsSampler", multi_objective=False, numeric_only=True, needs="cmaes"),
    SamplerSpec("nsga2", "NSGA-II genetic search; the default with a second objective (a Pareto front)",
                "optuna.samplers:NSGAIISampler", multi_objective=True),
)}


@dataclass(frozen=True)
class PrunerSpec:
    name: str
    doc: str
    factory: str | None  # None: never prune


PRUNERS: dict[str, PrunerSpec] = {spec.name: spec for spec in (
    PrunerSpec("none", "train every trial for all its epochs (the default)", None),
    PrunerSpec("median", "stop a trial whose metric is worse than the median of earlier trials at the same "
               "epoch", "optuna.pruners:MedianPruner"),
    PrunerSpec("halving", "successive halving: keep the best share of trials at each rung of epochs",
               "optuna.pruners:SuccessiveHalvingPruner"),
    PrunerSpec("hyperband", "Hyperband: successive halving over several budgets at once",
               "optuna.pruners:HyperbandPruner"),
)}


@dataclass(frozen=True)
class SecondObjective:
    name: str
    doc: str
    summary_field: str  # the nnstudio.compile.summary.Summary field it reads


SECOND_OBJECTIVES: dict[str, SecondObjective] = {spec.name: spec for spec in (
    SecondObjective("params", "the inference model's parameter count (minimised)", "inference_params"),
    SecondObjective("flops", "multiply-adds counted as FLOPs for one sample (minimised)", "total_flops"),
)}

DIRECTIONS = ("auto", "minimize", "maximize")
DEFAULT_TRIALS = 20
STUDY_KEYS = ("name", "metric", "direction", "second", "sampler", "pruner", "trials", "seed")


def choices_text(table: dict) -> str:
    return ", ".join(table)


def help_text(table: dict) -> str:
    """The rows of a table as `name (doc)` for --help."""
    return "; ".join(f"{name}: {row.doc}" for name, row in table.items())
