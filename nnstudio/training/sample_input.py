"""A sample given by hand for the Inference panel: drawn, typed per column, or typed as token ids.

Each way ends in `inference.check_sample`, as `nnstudio predict` does, so a sample the panel accepts is one the
command line accepts too. What this module adds is the panel's own wording: a typed value is named by its
column, a token id by its position and the embedding's vocabulary, and a drawing of any size is resampled to
the Input's shape (area averaging, the way small digit images were made from larger scans) and put on the
training data's value range, with a note saying so. Qt-free.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from nnstudio.metrics.layers import node_modules
from nnstudio.training.inference import (
    InferenceError,
    check_sample,
    encode_text,
    field_names,
    input_label,
    integer_input,
)

if TYPE_CHECKING:
    from nnstudio.training.job import TrainingJob

EDITORS = ("draw", "values", "tokens")  # how a sample can be given by hand, besides picking one from a split


def editor_for(job: TrainingJob) -> str:
    """'tokens' for integer inputs, 'draw' for one- or three-channel images, else 'values'."""
    shape = tuple(job.data.input_shape)
    if integer_input(job):
        return "tokens"
    if (len(shape) == 3 and shape[0] in (1, 3)) or (len(shape) == 2 and job.data.kind == "image"):
        return "draw"
    return "values"


def value_range(job: TrainingJob) -> tuple[float, float]:
    """The training inputs' minimum and maximum: a blank canvas is the minimum, full ink the maximum."""
    x = job.data.train.x
    if x.numel() == 0:
        return 0.0, 1.0
    return float(x.min()), float(x.max())


def drawn_sample(job: TrainingJob, ink: np.ndarray) -> tuple[torch.Tensor, str]:
    """A drawing ([h, w], ink 0..1) as the Input's sample, and a note on how it was resampled."""
    shape = tuple(job.data.input_shape)
    if editor_for(job) != "draw":
        raise InferenceError(f"drawing: {input_label(job)} is not an image")
    ink = np.asarray(ink, dtype=np.float32)
    if ink.ndim != 2 or ink.size == 0:
        raise InferenceError(f"drawing: expected a 2-D picture, got shape {list(ink.shape)}")
    height, width = shape[-2:]
    picture = torch.from_numpy(np.clip(ink, 0.0, 1.0))[None, None]
    resized = nn.functional.interpolate(picture, size=(height, width), mode="area")[0, 0]
    lo, hi = value_range(job)
    values = lo + resized * (hi - lo)
    if len(shape) == 3:
        values = values.expand(shape[0], height, width)
    note = "drawn at the Input's size" if ink.shape == (height, width) else (
        f"drawn at {ink.shape[1]}×{ink.shape[0]}, resampled to the Input's {width}×{height}")
    return check_sample(job, values.contiguous(), "drawing"), f"{note}, values {lo:.3g} to {hi:.3g}"


def split_row(text: str) -> list[str]:
    """A pasted CSV row (commas, semicolons, tabs) as its cells."""
    return [cell.strip() for cell in re.split(r"[,;\t]", text.strip())] if text.strip() else []


def typed_sample(job: TrainingJob, cells: list[str]) -> torch.Tensor:
    """One text per input column, in the Input's order; a cell that is no number is named by its column."""
    names = field_names(job)
    if len(cells) != len(names):
        raise InferenceError(f"{len(cells)} value(s) given, but {input_label(job)} takes {len(names)}"
                             + (f" ({', '.join(names)})" if len(names) <= 12 else ""))
    values = []
    for name, cell in zip(names, cells):
        try:
            value = float(cell)
        except ValueError:
            raise InferenceError(f"column {name!r}: {cell.strip()!r} is not a number" if cell.strip()
                                 else f"column {name!r}: no value typed") from None
        if not np.isfinite(value):
            raise InferenceError(f"column {name!r}: {cell.strip()!r} is not a finite number")
        values.append(value)
    return check_sample(job, np.asarray(values, dtype=np.float32), "typed values")


def vocabulary(job: TrainingJob) -> tuple[int | None, str]:
    """(size, what has it): the first Embedding node's num_embeddings, or the dataset's vocabulary where that is
    smaller (ids the embedding takes but training never showed are refused, as `nnstudio predict` does)."""
    data = job.data.vocab_size
    for node_id, modules in node_modules(job.compiled).items():
        for module in modules:
            if isinstance(module, nn.Embedding):
                size, name = int(module.num_embeddings), job.names.get(node_id, node_id)
                if data is not None and data < size:
                    return data, f"the dataset's vocabulary has {data} ids (the embedding '{name}' takes {size})"
                return size, f"the embedding '{name}' has {size} ids"
    return data, f"the dataset's vocabulary has {data} ids"


def token_sample(job: TrainingJob, text: str) -> torch.Tensor:
    """Token ids separated by commas or spaces; one out of the vocabulary is named by its position. A model
    trained on a CSV text column also takes the text itself, tokenised with its own vocabulary (issue 16)."""
    parts = [part for part in re.split(r"[\s,;]+", text.strip()) if part]
    if getattr(job.data, "vocabulary", None) is not None and not all(_whole(part) for part in parts):
        return check_sample(job, encode_text(text, job)[0].numpy(), "typed text")
    size, owner = vocabulary(job)
    ids = []
    for position, part in enumerate(parts):
        try:
            token = int(part)
        except ValueError:
            raise InferenceError(f"token ids: position {position} ({part!r}) is not a whole number") from None
        if token < 0 or (size is not None and token >= size):
            limit = f"0 to {size - 1}: {owner}" if size is not None else "0 or more"
            raise InferenceError(f"token ids: position {position} is {token}, out of range ({limit})")
        ids.append(token)
    count = int(np.prod(job.data.input_shape))
    if len(ids) != count:
        raise InferenceError(f"token ids: {len(ids)} given, but {input_label(job)} takes {count}")
    return check_sample(job, np.asarray(ids, dtype=np.int64), "token ids")


def _whole(text: str) -> bool:
    return text.lstrip("-").isdigit()
