"""Write train.py, data.npz and initial.pt: the run's data and settings, reproducible with torch alone.

The optimizer and loss lines are read off the very objects nnstudio's training factories build,
so they carry the same arguments; helpers the engine defines (a loss wrapper, a schedule factor)
are copied into the script by source.
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

from nnstudio.compile import build_module
from nnstudio.io.export.job import Job
from nnstudio.io.export.python_model import literal
from nnstudio.io.export.source_copy import CopiedSource, copy_sources, is_internal
from nnstudio.io.export.train_template import TRAIN_PY

_TEMPLATE_IMPORTS = {"import argparse", "import math", "import sys", "import numpy as np", "import torch",
                     "from torch import nn", "from pathlib import Path"}


def write_training(job: Job, target: Path) -> tuple[bool, list[str]]:
    """(whether train.py was written, notes). A project without data or settings gets no train.py."""
    from nnstudio.training.job import TrainingInputError, prepare

    try:
        training = prepare(job.project, job.base_dir)
    except TrainingInputError as exc:
        return False, [f"train.py was not written: the project cannot be trained as it is ({exc})"]
    splits = training.data.splits()
    arrays = {f"{kind}_{name}": getattr(split, kind).detach().cpu().numpy()
              for name, split in splits.items() for kind in ("x", "y")}
    np.savez(target / "data.npz", **arrays)
    initial = build_module(job.project).module.state_dict()
    torch.save({k: v.detach().cpu().contiguous() for k, v in initial.items()}, target / "initial.pt")
    (target / "train.py").write_text(render_train(job.project.metadata.name, training), encoding="utf-8")
    sizes = ", ".join(f"{name} {len(split)}" for name, split in splits.items())
    return True, [f"train.py with the dataset's splits in data.npz ({sizes} samples)"]


def render_train(title: str, training: Any) -> str:
    from nnstudio.training.factories import decision_threshold, make_loss, make_optimizer

    settings, task = training.settings, training.task
    copied = CopiedSource()
    optimizer = make_optimizer([nn.Parameter(torch.zeros(1))], settings.optimizer)
    output_rank = len(training.ends.output_type.shape)
    has_val = training.data.val is not None
    early = settings.early_stopping
    values = {
        "title": title,
        "task": _text(task),
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
        "threshold": decision_threshold(settings.loss, task),
        "optimizer": optimizer_code(optimizer),
        "loss": module_code(make_loss(settings.loss, task, output_rank), copied),
    }
    scheduler, per_step, monitor = scheduler_code(settings, optimizer, copied, has_val)
    values.update(scheduler=scheduler, per_step=per_step, monitor=_text(monitor))
    imports = [line for line in copied.imports if line not in _TEMPLATE_IMPORTS]
    helpers = "\n\n\n".join(part for part in ("\n".join(imports + copied.constants), *copied.blocks) if part)
    values["helpers"] = helpers.rstrip() + "\n\n\n" if helpers else ""
    return Template(TRAIN_PY).substitute(values)


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


def optimizer_code(optimizer: torch.optim.Optimizer) -> str:
    cls = type(optimizer)
    if getattr(torch.optim, cls.__name__, None) is not cls:
        raise ValueError(f"optimizer {cls.__name__} is not one of torch.optim's")
    args = ["model.parameters()"]
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name in optimizer.defaults and _differs(optimizer.defaults[name], parameter.default):
            args.append(f"{name}={literal(optimizer.defaults[name], 'optimizer')}")
    return f"torch.optim.{cls.__name__}({', '.join(args)})"


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


_LR = "optimizer.param_groups[0][\"lr\"]"
_TOTAL = "max(1, EPOCHS * steps_per_epoch)"


def scheduler_code(settings: Any, optimizer: torch.optim.Optimizer, copied: CopiedSource,
                   has_val: bool) -> tuple[str, bool, str | None]:
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
        code = (f"{sched}.OneCycleLR(optimizer, max_lr={_LR}, total_steps={_TOTAL}, "
                f"pct_start={s.pct_start!r}, cycle_momentum={cycle})")
    elif s.name == "plateau":
        monitor = _monitor(s.monitor, has_val)
        mode = "max" if higher_is_better(monitor) else "min"
        code = (f"{sched}.ReduceLROnPlateau(optimizer, mode={mode!r}, factor={s.gamma!r}, "
                f"patience={s.patience}, min_lr={s.min_lr!r})")
    else:
        raise ValueError(f"unknown schedule {s.name!r}")
    return f"return {code}", per_step, monitor
