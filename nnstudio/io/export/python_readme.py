"""README.md for the python export folder: what each file is and how to use it."""

from __future__ import annotations

import torch

from nnstudio.io.export.formats import nnstudio_version
from nnstudio.io.export.job import Job
from nnstudio.io.export.weights_format import tensor_types
from nnstudio.training.objective import describe_objective


def _signature(job: Job, node_ids: list[str]) -> str:
    return ", ".join(f"`{t['name']}` [{', '.join(str(d) for d in t['shape'] or [])}] {t['dtype']}"
                     for t in tensor_types(job, node_ids))


def render_readme(job: Job, cls: str, has_training: bool) -> str:
    title = job.project.metadata.name
    weights = ("the trained weights from the checkpoint" if job.checkpoint is not None
               else "freshly initialised weights: no checkpoint was given, so this model is untrained")
    lines = [
        f"# {title}",
        "",
        f"Exported by nnstudio {nnstudio_version()} with torch {torch.__version__}. "
        "Everything here runs with only torch and numpy installed; nnstudio is not needed.",
        "",
        "| File | What it is |",
        "| --- | --- |",
        f"| `model.py` | The network as a plain `nn.Module` (`{cls}`, also importable as `Model`). "
        "Attribute names are the node names of the graph. |",
        f"| `model.pt` | The weights, a state dict for `torch.load(..., weights_only=True)`: {weights}. |",
        "| `project.nnstudio` | The project the model came from, to open it in nnstudio again. |",
    ]
    plan = job.compiled.plan
    if has_training:
        trains = "the model" if plan is None else f"the graph's objective, {describe_objective(plan)} (`Objective`)"
        lines += [
            f"| `train.py` | Trains {trains} from `initial.pt` with the run's data and settings. |",
            "| `data.npz` | The train / validation / test splits as nnstudio prepared them (NumPy arrays). |",
            "| `initial.pt` | The weights nnstudio initialised before training, so training starts alike. |",
        ]
    if plan is not None:
        lines += [
            "",
            "The graph declares its own objective with loss nodes. `model.py` and `model.pt` hold the inference "
            "model alone (its Inputs to its Outputs); the losses, the Targets and anything only they use (such as "
            "a distillation teacher) are not part of it" + (": `train.py`'s `Objective` adds them around the "
            "model's layers to train it." if has_training else "."),
        ]
    lines += [
        "",
        "## Use the model",
        "",
        f"Inputs: {_signature(job, job.compiled.input_nodes)}. "
        f"Outputs: {_signature(job, job.compiled.output_nodes)}. `N` is the batch size.",
        "",
        "```python",
        "import torch",
        "from model import load_model",
        "",
        "model = load_model()  # Model() with model.pt loaded, in eval mode",
        "with torch.no_grad():",
        "    prediction = model(*inputs)",
        "```",
        "",
        "`python model.py` runs the model once on random inputs and prints the output shapes.",
        "",
        "When this folder was written, nnstudio loaded `model.py` and `model.pt` back and compared their "
        "outputs with its own on a held-out batch; the export is refused when any output differs by more "
        "than 1e-5.",
    ]
    if has_training:
        lines += [
            "",
            "## Train it again",
            "",
            "```bash",
            "python train.py             # prints metrics per epoch, then saves trained.pt",
            "python train.py --epochs 5",
            "torchrun --nproc_per_node=2 train.py   # the same run on 2 processes (gloo on CPU, nccl on GPUs)",
            "```",
            "",
            "The settings (optimizer, learning rate, loss, schedule, epochs, batch size, seed) are constants at "
            "the top of `train.py`; edit them there.",
        ]
    return "\n".join(lines) + "\n"
