"""The Objective class of train.py, for a graph that declares its own objective with loss nodes.

Like model.py's class, it is written from the compiled objective graph itself: `__init__` takes the model's own
layers (the same objects, so training the objective trains the model, as in the app) and constructs what only
the losses use (loss terms, Target transforms, a teacher) with the app's constructor calls; `forward` is the fx
graph's generated code, so the total is Σ weight · term computed exactly as nnstudio computes it. Loss and
helper classes of nnstudio are copied in by source; those model.py defines already are imported from it.
"""

from __future__ import annotations

import json
import textwrap
from string import Template
from typing import Any

from nnstudio.compile.objective import ObjectivePlan
from nnstudio.io.export.objective_template import OBJECTIVE_CLASS
from nnstudio.io.export.python_model import (
    attribute_owners,
    constructor,
    copy_internal,
    forward_source,
    module_constructs,
)
from nnstudio.io.export.source_copy import CopiedSource, is_internal


def objective_values(training: Any, copied: CopiedSource) -> dict[str, str]:
    """The $placeholders train.py's objective pieces need, with the Objective class under 'objective_class'.

    `training` is the prepared TrainingJob; sources and imports the class needs are added to `copied`."""
    from nnstudio.training.objective import describe_objective

    compiled = training.compiled
    plan: ObjectivePlan = compiled.plan
    constructs = module_constructs(compiled, compiled.objective)
    shared = {name for name, _ in compiled.module.named_children()}
    owner = attribute_owners(compiled, training.project.graph)
    in_model = {c.resolve().__name__ for a, c in constructs.items() if a in shared and is_internal(c.resolve())}
    extras = {a: c for a, c in constructs.items() if a not in shared}
    copied.merge(copy_internal({a: c for a, c in extras.items() if c.resolve().__name__ not in in_model}, owner))
    imported = sorted({c.resolve().__name__ for c in extras.values() if c.resolve().__name__ in in_model})
    inits = [f"        self.{a} = " + (f"model.{a}" if a in shared else constructor(c, copied, owner.get(a, a)))
             for a, c in constructs.items()]
    total = describe_objective(plan)
    text = Template(OBJECTIVE_CLASS).substitute(objective=total, about=_about(list(extras)), inits="\n".join(inits),
                                                forward=forward_source(compiled.objective, copied))
    return {
        "what": f"the same objective ({total}), data splits, initial weights and settings",
        "model_imports": ", ".join([*imported, "Model"]),
        "objective": total,
        "fields": _tuple(json.dumps(f) for f in plan.fields),
        "terms": _tuple(json.dumps(t.name) for t in plan.terms),
        "heads": _tuple(f"({json.dumps(h.name)}, {json.dumps(h.task)}, {h.threshold!r})" for h in plan.heads),
        "objective_class": text,
        "unused": str(_has_unused_parameters(training)),
    }


def _has_unused_parameters(training: Any) -> bool:
    """Whether DDP must look for parameters without gradients (a detached teacher), probed as the app's
    distributed trainer probes it: with frozen nodes frozen, the RNG and buffers left as they were."""
    from nnstudio.training.distributed import unused_parameters
    from nnstudio.training.node_training import apply_node_training

    network = training.compiled.network
    flags = [p.requires_grad for p in network.parameters()]
    nodes = apply_node_training(training.compiled, training.project.graph, training.settings.optimizer.lr)
    was_training = network.training
    try:
        batch = training.data.train
        size = training.settings.batch_size
        return unused_parameters(network.train(), training.compiled.plan, batch.x[:size], batch.y[:size])
    finally:
        nodes.remove_hooks()
        network.train(was_training)
        for parameter, flag in zip(network.parameters(), flags):
            parameter.requires_grad_(flag)


def _about(extras: list[str]) -> str:
    """The class docstring's body, wrapped like the rest of the file."""
    parts = f" ({', '.join(extras)})" if extras else ""
    text = (f"It holds the model's own layers (the same objects: training the objective trains the model) and the "
            f"parts only the losses use{parts}. forward() takes the Inputs and Targets and returns (total, terms, "
            "predictions, targets): the weighted total a step minimises, every term unweighted, and the pairs the "
            "metrics score.")
    return textwrap.fill(text, 112, initial_indent="    ", subsequent_indent="    ")


def _tuple(items) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"
