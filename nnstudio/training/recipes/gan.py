"""The GAN recipe's declaration: two networks in one graph, trained against each other.

The generator is everything downstream of the Input bound to field `noise` (N(0, I), drawn by the recipe) up
to its Output, the fake sample; the discriminator is everything downstream of the Input bound to field `x`
(the real samples) up to its Output, one logit per sample. Which node belongs to which player follows from
the wiring alone (`players`), so the canvas can colour them and the trainer can give each player its own
optimizer. The recipe supplies the losses, so the graph has no loss nodes. This module is a declaration: it
never imports torch (the trainer lives in gan_trainer.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nnstudio.analysis.diagnostics import Diagnostic, error
from nnstudio.layers.params import ParamKind, ParamSpec, choice_param, float_param, int_param
from nnstudio.layers.registry import default_registry
from nnstudio.training.recipes.spec import RecipeSpec
from nnstudio.training.settings import parse_settings

if TYPE_CHECKING:
    from nnstudio.analysis.validate import Analysis
    from nnstudio.compile.builder import CompiledModel
    from nnstudio.model.graph import Graph
    from nnstudio.model.project import Project

GENERATOR, DISCRIMINATOR = "generator", "discriminator"
LOSSES = ("nonsaturating", "wgan_gp")
# Adam's betas when the project file does not set training.optimizer.beta1/beta2: DCGAN's (Radford et al.
# 2016) for the non-saturating loss, and WGAN-GP's own (Gulrajani et al. 2017) for the critic.
BETAS = {"nonsaturating": (0.5, 0.999), "wgan_gp": (0.0, 0.9)}

PARAMS = (
    choice_param("loss", "nonsaturating", LOSSES, "nonsaturating: D minimises binary cross-entropy and G "
                 "maximises log D(G(z)); wgan_gp: a Wasserstein critic with a gradient penalty."),
    int_param("d_steps", 1, "Discriminator steps (one batch of real samples each) per generator step.", 1, 100),
    float_param("gp_weight", 10.0, "λ of WGAN-GP's gradient penalty λ·(‖∇D(x̂)‖ − 1)².", 0.0),
    ParamSpec("lr_generator", ParamKind.FLOAT, None, "The generator's learning rate; empty: training.optimizer.lr.",
              minimum=0.0, optional=True),
    ParamSpec("lr_discriminator", ParamKind.FLOAT, None, "The discriminator's learning rate; empty: "
              "training.optimizer.lr.", minimum=0.0, optional=True),
    int_param("samples_every", 1, "Log a batch of generated samples (from the same fixed noise) every this many "
              "epochs, for the live grid or scatter (0: only at the end).", 0),
)


@dataclass(frozen=True)
class GanEnds:
    """The four nodes a GAN is trained through, by graph node id."""

    noise: str  # the generator's Input (field noise)
    fake: str  # the generator's Output
    real: str  # the discriminator's Input (field x)
    logit: str  # the discriminator's Output


def _role(graph: Graph, node_id: str) -> str | None:
    spec = default_registry().get(graph.nodes[node_id].type)
    return spec.role if spec is not None else None


def _field(graph: Graph, node_id: str) -> str:
    return graph.nodes[node_id].params.get("field", "x")


def _reach(graph: Graph, starts: list[str]) -> set[str]:
    """The start nodes and everything wired downstream of them."""
    after: dict[str, list[str]] = {}
    for edge in graph.edges.values():
        after.setdefault(edge.source.node, []).append(edge.target.node)
    seen, stack = set(starts), list(starts)
    while stack:
        for target in after.get(stack.pop(), []):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _inputs(graph: Graph, field: str) -> list[str]:
    return [n for n in graph.nodes if _role(graph, n) == "input" and _field(graph, n) == field]


def players(project: Project) -> dict[str, str]:
    """Node id → "generator" or "discriminator", from the wiring alone (it works on a graph being edited).

    The generator is what the noise Input reaches, the discriminator what the x Input reaches. A node both
    reach (which the recipe refuses) or neither reaches is left out.
    """
    graph = project.graph
    generator, discriminator = _reach(graph, _inputs(graph, "noise")), _reach(graph, _inputs(graph, "x"))
    result = {n: GENERATOR for n in graph.nodes if n in generator and n not in discriminator}
    result.update({n: DISCRIMINATOR for n in graph.nodes if n in discriminator and n not in generator})
    return result


def gan_ends(project: Project) -> GanEnds:
    """The noise Input, the generator's Output, the x Input and the discriminator's Output of a checked graph."""
    graph, roles = project.graph, players(project)
    outputs = [n for n in graph.nodes if _role(graph, n) == "output"]
    (noise,), (real,) = _inputs(graph, "noise"), _inputs(graph, "x")
    (fake,) = [n for n in outputs if roles.get(n) == GENERATOR]
    (logit,) = [n for n in outputs if roles.get(n) == DISCRIMINATOR]
    return GanEnds(noise, fake, real, logit)


def _graph_problems(project: Project, analysis: Analysis) -> list[Diagnostic]:
    """The first thing that keeps the graph from being a generator and a discriminator, in one line."""
    graph, structure = project.graph, analysis.structure
    name = {n: f"'{node.name}'" for n, node in graph.nodes.items()}
    for node_id in structure.order:
        if structure.specs[node_id].role == "loss":  # the loss first: a Target is there only to feed it
            return [error("recipe-graph", f"{name[node_id]}: the gan recipe supplies its own losses "
                          "(non-saturating or WGAN-GP); remove this loss node", node_id=node_id)]
    for node_id in structure.order:
        role = structure.specs[node_id].role
        if role == "target":
            return [error("recipe-graph", f"{name[node_id]}: a GAN compares no predictions with targets; "
                          "remove this Target", node_id=node_id)]
        if role == "input" and _field(graph, node_id) not in ("noise", "x"):
            return [error("recipe-graph", f"{name[node_id]}: reads field {_field(graph, node_id)}; a GAN's "
                          "Inputs read noise (the generator's) and x (the discriminator's)", node_id=node_id)]
    for field, player in (("noise", "the generator's noise"), ("x", "the discriminator's real samples")):
        found = _inputs(graph, field)
        if len(found) != 1:
            return [error("recipe-graph", f"the gan recipe needs exactly one Input bound to field {field} "
                          f"({player}); the graph has {len(found)}", node_id=found[1] if found else None)]
    (noise,), (real,) = _inputs(graph, "noise"), _inputs(graph, "x")
    for node_id in (noise, real):
        if structure.params[node_id]["dtype"] != "float32":
            return [error("recipe-graph", f"{name[node_id]}: a GAN's Inputs are float32 (noise and samples); "
                          f"this one is {structure.params[node_id]['dtype']}", node_id=node_id)]
    generator, discriminator = _reach(graph, [noise]), _reach(graph, [real])
    for node_id in structure.order:
        if node_id in generator and node_id in discriminator:
            return [error("recipe-graph", f"{name[node_id]}: both the generator (from {name[noise]}) and the "
                          f"discriminator (from {name[real]}) reach this node; each node belongs to one player",
                          node_id=node_id)]
    for player, reached in (("generator", generator), ("discriminator", discriminator)):
        if not any(structure.specs[n].has_weights and not graph.nodes[n].training.frozen for n in reached):
            return [error("recipe-graph", f"the {player} has no weights to train (none, or all frozen); a GAN "
                          "trains both players", node_id=noise if player == "generator" else real)]
    return _output_problems(project, analysis, generator, discriminator, noise, real)


def _output_problems(project: Project, analysis: Analysis, generator: set[str], discriminator: set[str],
                     noise: str, real: str) -> list[Diagnostic]:
    graph, structure = project.graph, analysis.structure
    name = {n: f"'{node.name}'" for n, node in graph.nodes.items()}
    outputs = [n for n in structure.order if structure.specs[n].role == "output"]
    for node_id in outputs:
        if node_id not in generator and node_id not in discriminator:
            return [error("recipe-graph", f"{name[node_id]}: neither the generator nor the discriminator reaches "
                          "this Output", node_id=node_id)]
    ends = {}
    for player, reached, start in (("generator", generator, noise), ("discriminator", discriminator, real)):
        own = [n for n in outputs if n in reached]
        if len(own) != 1:
            return [error("recipe-graph", f"the {player} (from {name[start]}) must end in exactly one Output; it "
                          f"reaches {len(own)}", node_id=own[1] if own else start)]
        ends[player] = own[0]
    fake, logit = ends["generator"], ends["discriminator"]
    fake_type, real_type = analysis.shapes.of(fake, ""), analysis.shapes.of(real)
    if fake_type is None or real_type is None or list(fake_type.shape) != list(real_type.shape):
        gives = list(fake_type.shape) if fake_type is not None else "an unknown shape"
        takes = list(real_type.shape) if real_type is not None else "an unknown shape"
        return [error("recipe-graph", f"{name[fake]}: the generator gives {gives} but the discriminator's Input "
                      f"{name[real]} takes {takes}; they must be equal, since the discriminator judges both",
                      node_id=fake)]
    logit_type = analysis.shapes.of(logit, "")
    if logit_type is None or list(logit_type.shape) not in ([1], []):
        gives = list(logit_type.shape) if logit_type is not None else "an unknown shape"
        return [error("recipe-graph", f"{name[logit]}: the discriminator gives {gives} per sample; it must end in "
                      "one logit ([1])", node_id=logit)]
    return []


def _settings_problems(project: Project) -> list[Diagnostic]:
    settings, _ = parse_settings(project.training)  # the settings' own problems are reported elsewhere
    found = []
    if settings.precision != "fp32":
        found.append(("training.precision", f"the gan recipe trains in fp32, not {settings.precision}"))
    if settings.early_stopping.enabled:
        found.append(("training.early_stopping.enabled", "GAN losses do not measure progress, so the gan recipe "
                      "never stops early; turn early stopping off"))
    if settings.schedule.name == "plateau":
        found.append(("training.schedule.name", "reduce-on-plateau watches a loss that a GAN does not minimise; "
                      "choose another schedule"))
    return [error("training-setting", f"{place}: {message}", param=place) for place, message in found]


def _data_problems(project: Project, analysis: Analysis, data: Any) -> list[Diagnostic]:
    (real,) = _inputs(project.graph, "x")
    takes = analysis.shapes.of(real)
    if takes is not None and list(data.input_shape) != list(takes.shape):
        return [error("data-shape", f"dataset: samples are {list(data.input_shape)} but the discriminator's Input "
                      f"'{project.graph.nodes[real].name}' takes {list(takes.shape)}; change the Input's shape "
                      "(and the generator's Output) or the dataset", node_id=real)]
    if data.input_dtype != "float32":
        return [error("data-shape", f"dataset: samples are {data.input_dtype}; a GAN generates float samples, so "
                      "it needs a float dataset", param="dataset")]
    return []


def _check(project: Project, analysis: Analysis, params: Mapping[str, Any], data: Any) -> list[Diagnostic]:
    problems = _graph_problems(project, analysis) + _settings_problems(project)
    if not problems and data is not None:
        problems += _data_problems(project, analysis, data)
    return problems


def export_generator(compiled: CompiledModel, project: Project) -> CompiledModel:
    """What export writes for a GAN: the generator alone, noise → fake sample, sharing the trained layers."""
    from nnstudio.compile.parts import part_model

    ends = gan_ends(project)
    return part_model(compiled, [ends.noise], [ends.fake], class_name="NNStudioGenerator")


SPEC = RecipeSpec(
    name="gan",
    title="Generative adversarial network",
    summary="A generator and a discriminator trained against each other, to draw new samples.",
    explanation=(
        "The generator turns noise z ~ N(0, I) into a fake sample; the discriminator scores a sample, real or "
        "fake, with one logit. They take turns: d_steps discriminator steps (each on a batch of real samples and "
        "one of fakes), then one generator step that moves the fakes toward what the discriminator calls real. "
        "With the non-saturating loss the discriminator learns to tell real from fake by binary cross-entropy and "
        "the generator maximises log D(G(z)); with wgan_gp the discriminator is a critic that estimates the "
        "Wasserstein distance, kept 1-Lipschitz by a gradient penalty. Each player has its own optimizer "
        "(Adam's betas default to 0.5, 0.999, or 0.0, 0.9 for WGAN-GP, unless the optimizer settings give them). "
        "The canvas colours the nodes of each player. The live views show both losses, D(real) and D(fake) "
        "(probabilities: at equilibrium both near 0.5), and generated samples from a fixed noise batch: a grid "
        "of images, or a scatter against the real points for 2-D data, where the modes covered and the share "
        "of high-quality samples are reported too. Export writes the generator."
    ),
    trainer="nnstudio.training.recipes.gan_trainer.GanTrainer",
    params=PARAMS,
    logs=("d_loss", "g_loss", "d_real", "d_fake", "modes_covered", "high_quality"),
    live_views=("gan_losses", "gan_scores", "gan_samples"),
    evaluation_views=("gan_samples",),
    exports="the generator: noise → fake sample",
    distributed="the gan recipe does not run under --distributed: its two players take turns on one process; "
                "train it without --distributed",
    check=_check,
    objective=False,
    export_part=export_generator,
    evaluator="nnstudio.training.recipes.gan_trainer.evaluate_gan",
)
