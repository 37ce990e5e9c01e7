"""Write train.py, data.npz and initial.pt: the run's data and settings, reproducible with torch alone.

The optimizer and loss lines are read off the very objects nnstudio's training factories build,
so they carry the same arguments; helpers the engine defines (a loss wrapper, a schedule factor)
are copied into the script by source. A graph with loss nodes gets an Objective class instead of a
loss (python_objective), and frozen nodes or per-node learning rates get the code that applies them.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import torch
from torch import nn

from nnstudio.io.export.disk import serialised, write_bytes, write_text
from nnstudio.io.export.job import Job
from nnstudio.io.export.objective_template import OBJECTIVE, OBJECTIVE_SETTINGS
from nnstudio.io.export.python_model import check_standalone, import_block, literal
from nnstudio.io.export.source_copy import CopiedSource, copy_sources, is_internal
from nnstudio.io.export.train_template import (
    COMMON,
    COMMON_SETTINGS,
    HEAD,
    IMPORTS,
    MAIN,
    MAKERS,
    NODE_TRAINING,
    NODE_TRAINING_SETTINGS,
    PLAIN,
    PLAIN_LOSS,
    PLAIN_SETTINGS,
)


def write_training(job: Job, target: Path) -> tuple[bool, list[str]]:
    """(whether train.py was written, notes). A project without data or settings gets no train.py."""
    from nnstudio.training.job import TrainingInputError, prepare

    try:
        training = prepare(job.project, job.base_dir)
    except TrainingInputError as exc:
        return False, [f"train.py was not written: the project cannot be trained as it is ({exc})"]
    from nnstudio.training.recipes import RECIPES

    recipe = RECIPES[training.recipe]
    if not recipe.objective:  # a map learnt by competition, say: no loss and optimizer for train.py to print
        return False, [f"train.py was not written: the {recipe.name} recipe trains without an objective, which "
                       "train.py does not reproduce; retrain with nnstudio train"]
    splits = training.data.splits()
    arrays = {f"{kind}_{name}": getattr(split, kind).detach().cpu().numpy()
              for name, split in splits.items() for kind in ("x", "y")}
    write_bytes(target / "data.npz", serialised(lambda buffer: np.savez(buffer, **arrays)))
    # Where the app's run starts: initialised, then init.weights loaded over it; the whole network, so an
    # objective's teacher starts alike too.
    initial = training.compiled.network.state_dict()
    initial = {k: v.detach().cpu().contiguous() for k, v in initial.items()}
    write_bytes(target / "initial.pt", serialised(lambda buffer: torch.save(initial, buffer)))
    text = render_train(job.project.metadata.name, training)
    check_standalone(text, "train.py")
    write_text(target / "train.py", text)
    sizes = ", ".join(f"{name} {len(split)}" for name, split in splits.items())
    notes = [f"train.py with the dataset's splits in data.npz ({sizes} samples)"]
    if training.compiled.plan is not None:
        notes.append(f"train.py minimises the graph's objective: {training.loss}")
    return True, notes


def render_train(title: str, training: Any) -> str:
    """The text of train.py for a prepared TrainingJob."""
    from nnstudio.io.export.python_objective import objective_values
    from nnstudio.training.factories import decision_threshold, make_loss, make_optimizer

    settings, task = training.settings, training.task
    copied = CopiedSource()
    optimizer = make_optimizer([nn.Parameter(torch.zeros(1))], settings.optimizer)
    has_val = training.data.val is not None
    early = settings.early_stopping
    nodes = node_training_values(training)
    objective = training.compiled.plan is not None
    network = "objective" if objective else "model"
    values = {
        "title": title,
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "seed": settings.seed,
        "device": _text(settings.device),
        "precision": _text(settings.precision),
        "l1": settings.regularization.l1,
        "l2": settings.regularization.l2,
        "clip": _text(settings.regularization.clip),
        "max_norm": settings.regularization.max_norm,
        "clip_value": settings.regularization.clip_value,
        "early_stopping": (f"({_text(_monitor(early.monitor, has_val))}, {early.patience}, {early.min_delta!r}, "
                           f"{early.restore_best})") if early.enabled else "None",
        "network": network,
        "optimizer": optimizer_code(optimizer, f"param_groups({network})" if nodes else f"{network}.parameters()",
                                    copied),
        "freeze": f"    freeze_nodes({network})\n" if nodes else "",
        **nodes,
    }
    scheduler, per_step, monitor = scheduler_code(settings, optimizer, copied, has_val, grouped=bool(nodes))
    values.update(scheduler=scheduler, per_step=per_step, monitor=_text(monitor))
    if objective:
        values.update(objective_values(training, copied))
    else:
        values.update(what="the same data splits, initial weights and settings", model_imports="Model",
                      task=_text(task), threshold=decision_threshold(settings.loss, task),
                      loss=module_code(make_loss(settings.loss, task, len(training.ends.output_type.shape)), copied))
    values["imports"] = import_block([*IMPORTS, *copied.imports])
    parts = ("\n".join(copied.constants), *copied.blocks, values.pop("objective_class", ""))
    helpers = "\n\n\n".join(part.rstrip() for part in parts if part.strip())
    values["helpers"] = helpers + "\n\n\n" if helpers else ""
    return Template(_pieces(objective, bool(nodes))).substitute(values)


def _pieces(objective: bool, nodes: bool) -> str:
    """The template of one train.py: the pieces it needs, in file order."""
    settings = [HEAD, COMMON_SETTINGS, OBJECTIVE_SETTINGS] if objective else [HEAD, PLAIN_SETTINGS, COMMON_SETTINGS]
    return "".join([*settings, *([NODE_TRAINING_SETTINGS] if nodes else []), MAKERS,
                    *([] if objective else [PLAIN_LOSS]), *([NODE_TRAINING] if nodes else []), COMMON,
                    OBJECTIVE if objective else PLAIN, MAIN])


def node_training_values(training: Any) -> dict[str, str]:
    """FROZEN, FIXED_STATISTICS, LR and LR_SCALES for nodes trained differently; empty when none is.

    They name submodule attributes, which is what the exported classes have; the training code mirrors
    nnstudio.training.node_training, so the optimizer gets the same parameter groups in the same order."""
    from nnstudio.training.node_training import customised

    wanted = customised(training.project.graph)
    if not wanted:
        return {}
    modules_of = training.compiled.modules_of
    frozen = [a for node_id, t in wanted.items() if t.frozen for a in modules_of.get(node_id, [])]
    fixed = [a for node_id, t in wanted.items() if t.frozen and not t.update_stats for a in modules_of.get(node_id, [])]
    scales = {a: t.lr_scale for node_id, t in wanted.items() if not t.frozen and t.lr_scale != 1.0
              for a in modules_of.get(node_id, [])}
    return {"frozen": strings(frozen), "fixed_statistics": strings(fixed),
            "lr": repr(training.settings.optimizer.lr),
            "lr_scales": "{" + ", ".join(f"{_text(a)}: {s!r}" for a, s in scales.items()) + "}"}


def strings(values: list[str]) -> str:
    """A tuple of string constants, in double quotes like the rest of the script."""
    items = ", ".join(_text(v) for v in values)
    return f"({items},)" if len(values) == 1 else f"({items})"


def _text(value: str | None) -> str:
    """A string constant in double quotes, as the rest of the script writes them."""
    return "None" if value is None else json.dumps(value)


def _monitor(name: str, has_val: bool) -> str:
    """Validation metrics need a validation split; without one, watch the training loss."""
    return name if has_val or not name.startswith("val_") else "train_loss"


def _differs(value: Any, default: Any) -> bool:
    if default is inspect.Parameter.empty:
        return True
    try:
        return bool(value != default)
    except (TypeError, RuntimeError):
        return True


def optimizer_code(optimizer: torch.optim.Optimizer, params: str = "model.parameters()",
                   copied: CopiedSource | None = None) -> str:
    """Constructor code for the optimizer. One of nnstudio's own (LAMB) has its source copied into `copied`,
    so train.py still needs only torch."""
    cls = type(optimizer)
    if is_internal(cls) and copied is not None:
        copied.merge(copy_sources([cls]))
        maker = cls.__name__
    elif getattr(torch.optim, cls.__name__, None) is cls:
        maker = f"torch.optim.{cls.__name__}"
    else:
        raise ValueError(f"optimizer {cls.__name__} is not one of torch.optim's")
    args = [params]
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in optimizer.defaults and _differs(optimizer.defaults[name], parameter.default):
            args.append(f"{name}={literal(optimizer.defaults[name], 'optimizer')}")
    return f"{maker}({', '.join(args)})"


def module_code(module: nn.Module, copied: CopiedSource) -> str:
    """Constructor code for a loss module: its arguments are read back from its attributes."""
    cls = type(module)
    if is_internal(cls):
        helper = copy_sources([cls])
        for line in helper.imports:
            copied.add_import(line)
        copied.blocks.extend(b for b in helper.blocks if b not in copied.blocks)
        name = cls.__name__
    elif getattr(nn, cls.__name__, None) is cls:
        name = f"nn.{cls.__name__}"
    else:
        raise ValueError(f"loss {cls.__name__} is neither a torch.nn module nor one of nnstudio's")
    args = []
    for arg, parameter in inspect.signature(cls.__init__).parameters.items():
        if arg == "self" or not hasattr(module, arg):
            continue
        value = getattr(module, arg)
        if isinstance(value, nn.Module):
            args.append(f"{arg}={module_code(value, copied)}")
        elif isinstance(value, torch.Tensor):
            args.append(f"{arg}=torch.tensor({literal(value.tolist(), 'loss')})")
        elif _differs(value, parameter.default):
            args.append(f"{arg}={literal(value, 'loss')}")
    return f"{name}({', '.join(args)})"


_LR = "optimizer.defaults[\"lr\"]"  # the base rate; a scaled node's group holds base · scale
_TOTAL = "max(1, epochs * steps_per_epoch)"  # the epochs this run trains (--epochs), not the exported count


def scheduler_code(settings: Any, optimizer: torch.optim.Optimizer, copied: CopiedSource,
                   has_val: bool, grouped: bool = False) -> tuple[str, bool, str | None]:
    """(body of make_scheduler, per-step?, monitored metric). Mirrors nnstudio.training.schedules."""
    from nnstudio.metrics.scores import higher_is_better
    from nnstudio.training.schedules import PER_STEP, warmup_cosine_factor

    s = settings.schedule
    per_step = s.name in PER_STEP
    sched = "torch.optim.lr_scheduler"
    monitor = None
    if s.name == "constant":
        return "return None", False, None
    if s.name == "step":
        code = f"{sched}.StepLR(optimizer, step_size={s.step_size}, gamma={s.gamma!r})"
    elif s.name == "multistep":
        code = f"{sched}.MultiStepLR(optimizer, milestones={list(s.milestones)!r}, gamma={s.gamma!r})"
    elif s.name == "exponential":
        code = f"{sched}.ExponentialLR(optimizer, gamma={s.decay_rate!r})"
    elif s.name == "cosine":
        code = f"{sched}.CosineAnnealingLR(optimizer, T_max={_TOTAL}, eta_min={s.min_lr!r})"
    elif s.name == "cosine_restarts":
        code = (f"{sched}.CosineAnnealingWarmRestarts(optimizer, T_0={s.restart_epochs} * steps_per_epoch, "
                f"T_mult={s.restart_mult}, eta_min={s.min_lr!r})")
    elif s.name == "warmup_cosine":
        helper = copy_sources([warmup_cosine_factor])
        copied.blocks.extend(b for b in helper.blocks if b not in copied.blocks)
        for line in helper.imports:
            copied.add_import(line)
        code = (f"{sched}.LambdaLR(optimizer, warmup_cosine_factor(\n"
                f"        {s.warmup_epochs} * steps_per_epoch, {_TOTAL}, min(1.0, {s.min_lr!r} / {_LR})))")
    elif s.name == "one_cycle":
        group = optimizer.param_groups[0]
        cycle = "betas" in group or group.get("momentum", 0) > 0
        # with param groups, one peak per group, so a node's learning-rate scale survives the cycle
        peak = f"[{_LR} * group[\"lr_scale\"] for group in optimizer.param_groups]" if grouped else _LR
        code = (f"{sched}.OneCycleLR(optimizer, max_lr={peak}, total_steps={_TOTAL}, "
                f"pct_start={s.pct_start!r}, cycle_momentum={cycle})")
    elif s.name == "plateau":
        monitor = _monitor(s.monitor, has_val)
        mode = "max" if higher_is_better(monitor) else "min"
        code = (f"{sched}.ReduceLROnPlateau(optimizer, mode={mode!r}, factor={s.gamma!r}, "
                f"patience={s.patience}, min_lr={s.min_lr!r})")
    else:
        raise ValueError(f"unknown schedule {s.name!r}")
    return f"return {code}", per_step, monitor
