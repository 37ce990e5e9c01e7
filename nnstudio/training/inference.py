"""One sample through a trained model: its outputs, and what every graph node produced for it.

Qt-free, so `nnstudio predict`, `nnstudio explain` and the app's panels share it. A sample comes from a split
(`split_sample`), from typed values (`parse_values`: numbers for tabular inputs, token ids for sequences) or from
a file (`read_input_file`: .npy, or an image resized to the Input's shape). Every way ends in `check_sample`,
so a wrong size or a token id beyond the vocabulary is refused with one line naming the Input.

Per-node outputs come from running the compiled fx graph with an Interpreter: each fx node carries the id of the
graph node it was emitted for (compile.objective.NODE_META_KEY), and the last fx node of a graph node is that
node's output. No hooks stay behind on the module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import fx

from nnstudio.compile.objective import NODE_META_KEY
from nnstudio.training.factories import loss_name

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

FULL_VALUES_LIMIT = 4096  # a node output this small (elements) travels whole in JSON; bigger ones as a summary
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
PILLOW_HINT = 'reading images needs Pillow: pip install "nnstudio[datasets]"'
# how a classifier's raw output becomes probabilities, by the loss it was trained with
PROBABILITIES = {
    "cross_entropy": lambda out: torch.softmax(out, dim=-1),
    "nll": lambda out: torch.exp(out),  # the model ends in log_softmax
    "bce_with_logits": torch.sigmoid,
    "bce": lambda out: out.clamp(0.0, 1.0),
    "mse": lambda out: out.clamp(0.0, 1.0),
}


class InferenceError(ValueError):
    """A sample that cannot be fed to the model; the message is one line naming the place."""


@dataclass
class NodeOutput:
    """What one graph node produced for the sample: its summary, and the values themselves when small."""

    node_id: str
    name: str
    type: str
    shape: tuple[int, ...]
    mean: float
    std: float
    min: float
    max: float
    values: list | None = None

    def to_json(self) -> dict[str, Any]:
        data = {
            "node": self.name,
            "type": self.type,
            "shape": list(self.shape),
            "mean": self.mean,
            "std": self.std,
            "min": self.min,
            "max": self.max,
        }
        if self.values is not None:
            data["values"] = self.values
        return data


@dataclass
class Prediction:
    """The model's answer for one sample: class probabilities (sorted, highest first) or raw values."""

    task: str
    output: list[float]  # the raw output, flattened
    classes: list[tuple[str, float]] = field(default_factory=list)  # (class name, probability), sorted
    nodes: list[NodeOutput] = field(default_factory=list)  # in execution order; empty unless asked for

    @property
    def predicted(self) -> str | None:
        return self.classes[0][0] if self.classes else None

    def to_json(self, top: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {"task": self.task, "output": self.output}
        if self.classes:
            data["predicted"] = self.predicted
            data["probabilities"] = [{"class": name, "probability": p} for name, p in self.classes[:top]]
        if self.nodes:
            data["layers"] = [node.to_json() for node in self.nodes]
        return data


def input_label(job: TrainingJob) -> str:
    """How messages name the Input: `Input 'image' [1, 8, 8]`."""
    return f"Input {job.ends.input_name!r} {list(job.data.input_shape)}"


def integer_input(job: TrainingJob) -> bool:
    """Whether the model reads whole numbers (token ids) rather than values it can be differentiated by."""
    return job.data.input_dtype.startswith("int") or job.data.kind == "tokens"


def field_names(job: TrainingJob) -> list[str]:
    """A name per input value: the CSV's (encoded) columns for tabular data, else the position (token i) or
    the flat index (x[i])."""
    count = math.prod(job.data.input_shape)
    names = job.data.feature_names
    if names and len(names) == count:
        return list(names)
    return [f"token {i}" if integer_input(job) else f"x[{i}]" for i in range(count)]


def split_sample(job: TrainingJob, index: int, split: str = "test") -> torch.Tensor:
    """Sample `index` of a split, as a batch of one; an unknown split or an index out of range is refused."""
    splits = job.data.splits()
    if split not in splits:
        raise InferenceError(f"--split: the dataset has no {split} split (it has {', '.join(splits)})")
    chosen = splits[split]
    if not 0 <= index < len(chosen):
        raise InferenceError(
            f"--sample: {index} is out of range; the {split} split has {len(chosen)} samples (0 to {len(chosen) - 1})"
        )
    return chosen.x[index : index + 1].clone()


def parse_values(text: str, job: TrainingJob) -> torch.Tensor:
    """Comma-separated numbers (or token ids) typed for the Input, as a batch of one."""
    parts = [part.strip() for part in text.replace("\n", ",").split(",")]
    parts = [part for part in parts if part]
    whole = integer_input(job)
    values: list[float] = []
    for position, part in enumerate(parts):
        try:
            values.append(int(part) if whole else float(part))
        except ValueError:
            kind = "a whole number (token id)" if whole else "a number"
            raise InferenceError(f"--input: value {position + 1} ({part!r}) is not {kind}") from None
    array = np.asarray(values, dtype=np.int64 if whole else np.float32)
    return check_sample(job, array, "--input")


def encode_text(text: str, job: TrainingJob) -> torch.Tensor:
    """Typed text as token ids, a batch of one, through the vocabulary the model was trained with."""
    vocabulary = getattr(job.data, "vocabulary", None)
    if vocabulary is None:
        raise InferenceError("--text: this project's input is not a text column (set dataset.params.text_column)")
    return torch.from_numpy(vocabulary.encode([text]))


def read_input_file(path: str | Path, job: TrainingJob) -> torch.Tensor:
    """An .npy array, or an image file resized and greyed (or coloured) to the Input's [C, H, W]."""
    path = Path(path)
    if not path.is_file():
        raise InferenceError(f"{path}: no such file")
    if path.suffix.lower() == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InferenceError(f"{path}: not a readable .npy array ({exc})") from None
        return check_sample(job, array, str(path))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return check_sample(job, _read_image(path, job), str(path))
    raise InferenceError(
        f"{path}: expected an .npy array or an image ({', '.join(IMAGE_SUFFIXES)}); type values with --input 1,2,3"
    )


def _read_image(path: Path, job: TrainingJob) -> np.ndarray:
    """Pixels scaled to 0..1 as the image datasets deliver them, in the Input's channels and size."""
    shape = job.data.input_shape
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise InferenceError(f"{path}: an image file needs an image {input_label(job)} ([1 or 3, H, W])")
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise InferenceError(f"{path}: {PILLOW_HINT}") from None
    try:
        with Image.open(path) as image:
            converted = image.convert("L" if shape[0] == 1 else "RGB").resize((shape[2], shape[1]))
    except (OSError, UnidentifiedImageError) as exc:
        raise InferenceError(f"{path}: not a readable image ({exc})") from None
    pixels = np.asarray(converted, dtype=np.float32) / 255.0
    return pixels[None] if shape[0] == 1 else pixels.transpose(2, 0, 1)


def check_sample(job: TrainingJob, array: np.ndarray | torch.Tensor, place: str) -> torch.Tensor:
    """The sample reshaped to the Input's shape as a batch of one, or one line on what is wrong with it."""
    shape = tuple(job.data.input_shape)
    tensor = torch.as_tensor(np.asarray(array))
    if tensor.shape[:1] == (1,) and tuple(tensor.shape[1:]) == shape:
        tensor = tensor[0]
    count = math.prod(shape)
    if tensor.numel() != count:
        raise InferenceError(
            f"{place}: {tensor.numel()} value(s) given, but {input_label(job)} takes {count}"
            + (f" ({', '.join(field_names(job))})" if len(shape) == 1 and count <= 12 else "")
        )
    if integer_input(job):
        if tensor.is_floating_point() and not bool(torch.all(tensor == tensor.round())):
            raise InferenceError(f"{place}: token ids must be whole numbers")
        tensor = tensor.to(torch.int64)
        vocab = job.data.vocab_size
        low, high = int(tensor.min()), int(tensor.max())
        if low < 0 or (vocab is not None and high >= vocab):
            raise InferenceError(f"{place}: token ids run from 0 to {(vocab or 1) - 1}, got {low if low < 0 else high}")
    else:
        tensor = tensor.to(torch.float32)
        if not bool(torch.isfinite(tensor).all()):
            raise InferenceError(f"{place}: every value must be a finite number")
    return tensor.reshape(1, *shape)


def predict(job: TrainingJob, sample: torch.Tensor, layers: bool = False) -> Prediction:
    """Run one sample (a batch of one) through the job's model in eval mode, without gradients."""
    module = job.compiled.module
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            if layers:
                recorder = NodeRecorder(module)
                output = recorder.run(sample)
            else:
                output = module(sample)
    finally:
        module.train(was_training)
    output = output.detach().float()
    prediction = Prediction(job.task, output.reshape(-1).tolist())
    if job.task in ("classification", "binary"):
        prediction.classes = _ranked(job, output)
    if layers:
        prediction.nodes = [_summary(job, node_id, value) for node_id, value in recorder.outputs.items()]
    return prediction


def _ranked(job: TrainingJob, output: torch.Tensor) -> list[tuple[str, float]]:
    """Class probabilities, highest first; a binary model's single output is the positive class's."""
    fallback = PROBABILITIES["bce_with_logits" if job.task == "binary" else "cross_entropy"]
    transform = PROBABILITIES.get(loss_name(job.settings.loss, job.task), fallback)
    probs = transform(output[0]).reshape(-1)
    names = job.data.class_names or []
    if job.task == "binary" and probs.numel() == 1:
        positive = float(probs[0])
        negative_name, positive_name = [*names, "0", "1"][:2] if len(names) != 2 else names
        pairs = [(positive_name, positive), (negative_name, 1.0 - positive)]
    else:
        pairs = [(names[i] if i < len(names) else str(i), float(p)) for i, p in enumerate(probs)]
    return sorted(pairs, key=lambda pair: -pair[1])


class NodeRecorder(fx.Interpreter):
    """Runs the GraphModule node by node and keeps the value of each graph node's last fx node."""

    def __init__(self, module: fx.GraphModule) -> None:
        super().__init__(module)
        self.outputs: dict[str, torch.Tensor] = {}

    def run_node(self, n: fx.Node) -> Any:
        value = super().run_node(n)
        node_id = n.meta.get(NODE_META_KEY)
        if node_id is not None and isinstance(value, torch.Tensor):
            self.outputs.pop(node_id, None)  # re-insert: the order is that of each node's final value
            self.outputs[node_id] = value
        return value


def _summary(job: TrainingJob, node_id: str, value: torch.Tensor) -> NodeOutput:
    sample = value[0] if value.dim() > 0 and value.shape[0] == 1 else value
    data = sample.detach().float()
    std = float(data.std()) if data.numel() > 1 else 0.0
    small = data.numel() <= FULL_VALUES_LIMIT
    return NodeOutput(
        node_id,
        job.names.get(node_id, node_id),
        job.types.get(node_id, "?"),
        tuple(sample.shape),
        float(data.mean()),
        std,
        float(data.min()),
        float(data.max()),
        data.tolist() if small else None,
    )
