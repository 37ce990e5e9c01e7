"""The per-sample pages for a graph that declares its own objective, and samples drawn from a VAE's prior.

The heads of the objective say what each prediction is compared with, so they choose the pages: the first
classification head gives the confusion matrix and the misclassified samples, the first regression head the
predicted-vs-true plot, and a head compared with the input itself (or a VAE) the reconstructions. A VAE is a
graph whose GaussianSample leads to an Output; its prior samples are z ~ N(0, I) fed through the layers after
that node (compile.subgraph.decoder_from), which share the trained weights.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch
from torch import nn

from nnstudio.compile.objective import Head
from nnstudio.metrics.scores import CLASSIFYING
from nnstudio.training.evaluation import head_class_names
from nnstudio.training.objective import field_args

BATCH = 1024
PRIOR_SAMPLES = 32


@dataclass
class PriorSampler:
    """Decodes z ~ N(0, I) drawn from a seed; the same seed always gives the same samples."""

    decoder: nn.Module  # on the CPU, in eval mode
    latent_shape: tuple[int, ...]
    node_name: str  # the GaussianSample the samples replace
    sample_shape: tuple[int, ...] | None  # the data's per-sample shape, when the decoded output has its size
    count: int = PRIOR_SAMPLES

    @torch.no_grad()
    def draw(self, seed: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(int(seed))
        z = torch.randn((self.count, *self.latent_shape), generator=generator)
        decoded = self.decoder(z)
        decoded = decoded[0] if isinstance(decoded, tuple) else decoded
        values = decoded.float().numpy()
        if self.sample_shape is not None and values[0].size == math.prod(self.sample_shape):
            values = values.reshape(len(values), *self.sample_shape)
        return values


@dataclass
class ObjectivePages:
    """What the objective's heads contribute to an EvaluationResult."""

    task: str
    probabilities: np.ndarray | None = None  # first classifying head: [N, classes]
    truth: np.ndarray | None = None  # its class indices (or the first regression head's targets)
    predicted: np.ndarray | None = None  # the first regression head's predictions
    class_names: list[str] | None = None
    binary: bool = False


def reads_input(compiled, node_id: str) -> bool:
    """Whether a value is (derived from) a Target on the dataset's x field: a reconstruction target."""
    structure = compiled.analysis.structure
    for source in {node_id, *nx.ancestors(structure.digraph, node_id)}:
        if structure.specs[source].role == "target" and structure.params[source].get("field") == "x":
            return True
    return False


def objective_pages(job, x: torch.Tensor, y: torch.Tensor, max_scatter: int) -> ObjectivePages:
    """Run the objective over a split and keep the pairs of the heads that get a page."""
    compiled, plan = job.compiled, job.compiled.plan
    # A head compared with the input itself is a reconstruction, even when a BCE loss scores it per pixel.
    own = [i for i, h in enumerate(plan.heads) if not reads_input(compiled, h.target.node)]
    classifier = next((i for i in own if plan.heads[i].task in CLASSIFYING), None)
    regressor = next((i for i in own if plan.heads[i].task == "regression"), None)
    wanted = [i for i in (classifier, regressor) if i is not None]
    pairs = _collect(compiled.objective, plan, x, y, wanted)
    if classifier is not None and _per_sample(plan.heads[classifier], *pairs[classifier]):
        head = plan.heads[classifier]
        logits, truth = pairs[classifier]
        pages = ObjectivePages(head.task, class_names=head_class_names(job, classifier))
        if head.task == "classification":
            pages.probabilities = torch.softmax(logits.float(), dim=-1).numpy()
            pages.truth = truth.reshape(-1).numpy()
        else:
            pages.binary = True
            pages.probabilities = _binary_probabilities(head, logits)
            pages.truth = (truth.reshape(-1).float() > 0.5).long().numpy()
        return pages
    if regressor is not None:
        prediction, target = pairs[regressor]
        return ObjectivePages("regression", truth=target.float().reshape(-1).numpy()[:max_scatter],
                              predicted=prediction.float().reshape(target.shape).reshape(-1).numpy()[:max_scatter])
    return ObjectivePages("objective")  # no per-sample pages from the heads (a reconstruction, say)


def _per_sample(head: Head, prediction: torch.Tensor, target: torch.Tensor) -> bool:
    """One decision per sample (a class, or yes/no): what the mistakes browser can show sample by sample."""
    count = target.shape[0]
    if head.task == "classification":
        return prediction.ndim == 2 and target.numel() == count
    return prediction.numel() == count and target.numel() == count


def _binary_probabilities(head: Head, output: torch.Tensor) -> np.ndarray:
    positive = torch.sigmoid(output.float()) if head.threshold == 0.0 else output.float().clamp(0, 1)
    positive = positive.reshape(-1)
    return torch.stack([1 - positive, positive], dim=1).numpy()


@torch.no_grad()
def _collect(objective: nn.Module, plan, x: torch.Tensor, y: torch.Tensor,
             heads: list[int]) -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """(prediction, target) of each wanted head over the whole split, on the CPU."""
    if not heads:
        return {}
    objective.eval()
    parts: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {i: ([], []) for i in heads}
    for start in range(0, len(x), BATCH):
        _total, _terms, predictions, targets = objective(*field_args(plan, x[start:start + BATCH],
                                                                     y[start:start + BATCH]))
        for i in heads:
            parts[i][0].append(predictions[i].detach().cpu())
            parts[i][1].append(targets[i].detach().cpu())
    return {i: (torch.cat(p), torch.cat(t)) for i, (p, t) in parts.items()}


def reconstruction_output(job) -> int | None:
    """Which of the inference model's outputs reconstructs the input: the one a VAE's latent decodes to, else
    the Output of a head compared with the input itself; None when there is none."""
    from nnstudio.compile.subgraph import decoded_outputs, latent_nodes

    compiled = job.compiled
    latents = latent_nodes(compiled)
    if latents:
        return compiled.output_nodes.index(decoded_outputs(compiled, latents[0])[0])
    for head in compiled.plan.heads:
        if head.output_id in compiled.output_nodes and reads_input(compiled, head.target.node):
            return compiled.output_nodes.index(head.output_id)
    return None


def prior_sampler(job, sample_shape: tuple[int, ...]) -> tuple[PriorSampler | None, str | None]:
    """A sampler for the first GaussianSample that leads to an Output, or a note saying why there is none."""
    from nnstudio.compile.subgraph import SubgraphError, decoder_from, latent_nodes, latent_shape

    compiled = job.compiled
    latents = latent_nodes(compiled)
    if not latents:
        return None, None
    node_id = latents[0]
    name = job.names.get(node_id, node_id)
    shape = latent_shape(compiled, node_id)
    if shape is None:
        return None, f"no samples from the prior: the size of '{name}' is not fixed"
    try:
        decoder = decoder_from(compiled, node_id).cpu().eval()
    except SubgraphError as exc:
        return None, f"no samples from the prior: {exc}"
    return PriorSampler(decoder, shape, name, sample_shape), None
