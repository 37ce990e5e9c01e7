"""The `training` section of a project file as typed dataclasses.

Every field is declared once with a ParamSpec, which drives parsing, error messages, the GUI's generated
editors and the docs. `parse_settings` never raises: it returns the settings (bad values replaced by their
defaults) plus (place, message) problems such as ("training.optimizer.lr", "expected a number > 0, got -1").
`when` metadata says for which choice of the section's `name` a field matters, so editors can hide the rest.
"""

# `setting()` and `section()` return dataclasses.field(...) objects, which RUF009 cannot see through.
# ruff: noqa: RUF009
from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any

from nnstudio.layers.params import (
    ParamKind,
    ParamSpec,
    ParamValueError,
    bool_param,
    choice_param,
    float_param,
    int_param,
)

TASKS = ("auto", "classification", "binary", "regression", "reconstruction")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "lamb")
LOSSES = ("auto", "cross_entropy", "nll", "bce", "bce_with_logits", "mse", "l1", "huber")
SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine", "cosine_restarts", "warmup_cosine",
             "one_cycle", "plateau")
MONITORS = ("val_loss", "val_accuracy", "val_rmse", "val_mae", "val_r2", "train_loss")
DEVICES = ("auto", "cpu", "cuda", "mps")
PRECISIONS = ("fp32", "bf16", "fp16")

Problem = tuple[str, str]  # (place, message)


def setting(spec: ParamSpec, *, positive: bool = False, when: tuple[str, ...] = ()) -> Any:
    """A dataclass field declared by a ParamSpec. `positive` refuses 0; `when` lists the `name`s it serves."""
    meta = {"spec": spec, "positive": positive, "when": when}
    if isinstance(spec.default, list):
        default = list(spec.default)
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=spec.default, metadata=meta)


def section(cls: type) -> Any:
    """A nested settings section."""
    return field(default_factory=cls, metadata={"section": cls})


def specs_of(cls: type) -> list[ParamSpec]:
    """The ParamSpecs of a section, in declaration order, for generated editors."""
    return [f.metadata["spec"] for f in fields(cls) if "spec" in f.metadata]


def applies(cls: type, name: str, choice: str) -> bool:
    """Whether field `name` of section `cls` matters when the section's `name` is `choice`."""
    meta = next(f.metadata for f in fields(cls) if f.name == name)
    return not meta.get("when") or choice in meta["when"]


@dataclass
class OptimizerSettings:
    name: str = setting(choice_param("name", "adam", OPTIMIZERS, "The update rule."))
    lr: float = setting(float_param("lr", 1e-3, "Learning rate: the size of each update step."), positive=True)
    weight_decay: float = setting(float_param(
        "weight_decay", 0.0, "L2 regularisation strength; AdamW and LAMB decouple it from the gradient.", 0.0))
    momentum: float = setting(float_param("momentum", 0.0, "Share of the previous update kept in the next.",
                                          0.0, 0.999), when=("sgd", "rmsprop"))
    nesterov: bool = setting(bool_param("nesterov", False, "Nesterov look-ahead momentum (needs momentum > 0)."),
                             when=("sgd",))
    beta1: float = setting(float_param("beta1", 0.9, "Decay of the running mean of gradients.", 0.0, 0.999),
                           when=("adam", "adamw", "lamb"))
    beta2: float = setting(float_param("beta2", 0.999, "Decay of the running mean of squared gradients.",
                                       0.0, 0.99999), when=("adam", "adamw", "lamb"))
    alpha: float = setting(float_param("alpha", 0.99, "Decay of the running mean of squared gradients.",
                                       0.0, 0.99999), when=("rmsprop",))
    eps: float = setting(float_param("eps", 1e-8, "Added to denominators for numerical stability."),
                         positive=True, when=("adam", "adamw", "rmsprop", "adagrad", "lamb"))
    amsgrad: bool = setting(bool_param("amsgrad", False, "Keep the maximum of past squared-gradient means."),
                            when=("adam", "adamw"))


@dataclass
class LossSettings:
    name: str = setting(choice_param(
        "name", "auto", LOSSES, "What training minimises. 'auto' picks one for the task."))
    class_weights: list[float] | None = setting(ParamSpec(
        "class_weights", ParamKind.FLOAT_LIST, None, "One weight per class, to count rare classes more.",
        minimum=0.0, optional=True), when=("cross_entropy", "nll", "auto"))
    label_smoothing: float = setting(float_param(
        "label_smoothing", 0.0, "Share of the target probability spread over all classes.", 0.0, 0.999),
        when=("cross_entropy", "auto"))
    huber_delta: float = setting(float_param(
        "huber_delta", 1.0, "Errors smaller than this are squared, larger ones count linearly."),
        positive=True, when=("huber",))


@dataclass
class ScheduleSettings:
    name: str = setting(choice_param("name", "constant", SCHEDULES, "How the learning rate changes."))
    step_size: int = setting(int_param("step_size", 10, "Epochs between drops.", 1), when=("step",))
    milestones: list[int] = setting(ParamSpec(
        "milestones", ParamKind.SHAPE, [10, 20], "Epochs at which the learning rate drops.", minimum=1),
        when=("multistep",))
    gamma: float = setting(float_param("gamma", 0.1, "Factor applied to the learning rate at each drop.",
                                       0.0, 1.0), positive=True, when=("step", "multistep", "plateau"))
    decay_rate: float = setting(float_param("decay_rate", 0.95, "Factor applied to the learning rate per "
                                            "epoch.", 0.0, 1.0), positive=True, when=("exponential",))
    min_lr: float = setting(float_param("min_lr", 0.0, "The lowest learning rate the schedule reaches.", 0.0),
                            when=("cosine", "cosine_restarts", "warmup_cosine", "plateau"))
    restart_epochs: int = setting(int_param("restart_epochs", 10, "Epochs until the first restart.", 1),
                                  when=("cosine_restarts",))
    restart_mult: int = setting(int_param("restart_mult", 1, "Each cycle is this many times longer.", 1),
                                when=("cosine_restarts",))
    warmup_epochs: int = setting(int_param("warmup_epochs", 1, "Epochs of linear warm-up from zero.", 1),
                                 when=("warmup_cosine",))
    pct_start: float = setting(float_param("pct_start", 0.3, "Share of the run spent raising the rate.",
                                           0.0, 1.0), positive=True, when=("one_cycle",))
    patience: int = setting(int_param("patience", 5, "Epochs without improvement before a drop.", 0),
                            when=("plateau",))
    monitor: str = setting(choice_param("monitor", "val_loss", MONITORS, "The metric watched for plateaus."),
                           when=("plateau",))


@dataclass
class RegularizationSettings:
    l1: float = setting(float_param("l1", 0.0, "L1 penalty on the weights, added to the loss.", 0.0))
    l2: float = setting(float_param(
        "l2", 0.0, "L2 penalty on the weights, added to the loss (with l1: elastic net).", 0.0))
    clip: str = setting(choice_param("clip", "none", ("none", "norm", "value"), "Gradient clipping."))
    max_norm: float = setting(float_param("max_norm", 1.0, "Largest global gradient norm when clipping by "
                                          "norm."), positive=True)
    clip_value: float = setting(float_param("clip_value", 1.0, "Largest gradient entry when clipping by "
                                            "value."), positive=True)


@dataclass
class EarlyStoppingSettings:
    enabled: bool = setting(bool_param("enabled", False, "Stop when the monitored metric stops improving."))
    monitor: str = setting(choice_param("monitor", "val_loss", MONITORS,
                                        "The metric that decides early stopping and the best checkpoint."))
    patience: int = setting(int_param("patience", 10, "Epochs without improvement before stopping.", 1))
    min_delta: float = setting(float_param("min_delta", 0.0, "Smallest change that counts as an improvement.",
                                           0.0))
    restore_best: bool = setting(bool_param("restore_best", True, "End with the best epoch's weights."))


@dataclass
class InstrumentationSettings:
    enabled: bool = setting(bool_param("enabled", True, "Collect step losses, gradient norms, activations "
                                       "and weight histograms."))
    loss_every: int = setting(int_param("loss_every", 10, "Fetch the training loss every this many steps.", 1))
    grads_every: int = setting(int_param("grads_every", 50, "Gradient norms every this many steps (0: never).",
                                         0))
    activations_every: int | None = setting(int_param(
        "activations_every", None, "Activation statistics every this many steps (0: never; empty: about 100 "
        "samples per run).", 0, optional=True))
    weight_histograms: bool = setting(bool_param("weight_histograms", True, "Weight histograms every epoch."))
    histogram_bins: int = setting(int_param("histogram_bins", 30, "Bins per histogram.", 2, 512))
    tensorboard: str = setting(ParamSpec(
        "tensorboard", ParamKind.STRING, "", "Folder for TensorBoard event files (scalars, histograms, graph); "
        "relative to the run's folder. Empty: none."))


@dataclass
class HealthSettings:
    """The rules of nnstudio.training.health; docs/health.md says why each default is what it is."""

    divergence_factor: float = setting(float_param(
        "divergence_factor", 1000.0, "Stop when the loss rises above this many times its early median (0: never).",
        0.0))
    divergence_patience: int = setting(int_param(
        "divergence_patience", 3, "Sampled losses in a row above that limit before stopping.", 1))
    baseline_samples: int = setting(int_param(
        "baseline_samples", 5, "Early sampled losses whose median is the baseline.", 1))
    stall_epochs: int = setting(int_param(
        "stall_epochs", 10, "Epochs a loss plateau or vanishing gradients must last to be reported.", 2))
    plateau_tolerance: float = setting(float_param(
        "plateau_tolerance", 1e-3, "A loss whose spread stays below this share of its mean has not moved.", 0.0))
    vanishing_gradient_norm: float = setting(float_param(
        "vanishing_gradient_norm", 1e-7, "Gradient norms below this count as vanished.", 0.0))
    overfit_epochs: int = setting(int_param(
        "overfit_epochs", 5, "Epochs the validation loss rises while the training loss falls before reporting.", 1))
    stop_on_findings: bool = setting(bool_param(
        "stop_on_findings", False, "End the run when a stall or overfitting finding is reported."))


@dataclass
class TrainingSettings:
    task: str = setting(choice_param("task", "auto", TASKS, "What the model learns; 'auto' follows the "
                                     "dataset."))
    epochs: int = setting(int_param("epochs", 20, "Passes over the training set.", 1, 1_000_000))
    batch_size: int = setting(int_param("batch_size", 64, "Samples per update step.", 1))
    seed: int = setting(int_param("seed", 0, "Seeds shuffling, dropout and the data split.", 0, 2**63 - 1))
    device: str = setting(choice_param("device", "auto", DEVICES, "Where to train; 'auto' picks cuda, then "
                                       "mps, then cpu."))
    precision: str = setting(choice_param("precision", "fp32", PRECISIONS, "Arithmetic precision; bf16 and "
                                          "fp16 use autocast."))
    optimizer: OptimizerSettings = section(OptimizerSettings)
    loss: LossSettings = section(LossSettings)
    schedule: ScheduleSettings = section(ScheduleSettings)
    regularization: RegularizationSettings = section(RegularizationSettings)
    early_stopping: EarlyStoppingSettings = section(EarlyStoppingSettings)
    instrumentation: InstrumentationSettings = section(InstrumentationSettings)
    health: HealthSettings = section(HealthSettings)
    # Which training recipe runs, and its params: {"name": "gan", "params": {...}}. Each recipe declares its own
    # params, so nnstudio.training.recipes parses this section; here it is only kept.
    recipe: Any = field(default=None, metadata={"raw": True})

    def to_dict(self) -> dict[str, Any]:
        return _to_dict(self)

    @classmethod
    def from_dict(cls, data: Any) -> TrainingSettings:
        """Parse, raising SettingsError with every problem when any value is refused."""
        settings, problems = parse_settings(data)
        if problems:
            raise SettingsError(problems)
        return settings


class SettingsError(ValueError):
    """Training settings that cannot be used; `problems` holds (place, message) pairs."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{place}: {message}" for place, message in problems))


def parse_settings(data: Any, where: str = "training") -> tuple[TrainingSettings, list[Problem]]:
    problems: list[Problem] = []
    return _parse(TrainingSettings, data, where, problems), problems


def _parse(cls: type, data: Any, where: str, problems: list[Problem]) -> Any:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        problems.append((where, f"expected an object, got {_show(data)}"))
        data = {}
    values: dict[str, Any] = {}
    known = set()
    for f in fields(cls):
        known.add(f.name)
        if "section" in f.metadata:
            values[f.name] = _parse(f.metadata["section"], data.get(f.name), f"{where}.{f.name}", problems)
        elif f.metadata.get("raw"):
            values[f.name] = data.get(f.name)
        elif f.name in data:
            value = _coerce(f.metadata, data[f.name], f"{where}.{f.name}", problems)
            if value is not MISSING:
                values[f.name] = value
    for key in data:
        if key not in known:
            problems.append((f"{where}.{key}", f"unknown setting; expected one of {', '.join(sorted(known))}"))
    return cls(**values)


def _coerce(meta: Any, value: Any, place: str, problems: list[Problem]) -> Any:
    spec: ParamSpec = meta["spec"]
    if meta["positive"] and isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
        problems.append((place, f"expected a number > 0, got {_show(value)}"))
        return MISSING
    try:
        return spec.coerce(value)
    except ParamValueError as exc:
        problems.append((place, str(exc)))
        return MISSING


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "an object"
    text = repr(value)
    return text if len(text) < 40 else text[:37] + "..."


def _to_dict(obj: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.metadata.get("raw") and value is None:
            continue
        result[f.name] = _to_dict(value) if "section" in f.metadata else (
            list(value) if isinstance(value, list) else value)
    return result
