"""TensorBoard event files for a run, written through torch's SummaryWriter: a listener, not part of the loop.

What goes in, and when (nothing here runs on a step the engine does not already sample):
    scalars     every numeric field of the run's step, epoch, grads and end records, tagged like the history's
                series ("epoch/val_loss", "step/loss"), at the record's global step, so TensorBoard's curves
                are the app's curves;
    histograms  the raw values of each layer's parameters at the end of every epoch ("weights/<layer>/weight")
                and of their gradients at the first gradient sample of each epoch ("gradients/<layer>/weight"),
                where the engine has just measured the gradient norms and the gradients are still in place;
    graph       the trained module traced once on one training batch, in eval mode so that batch norm's
                running statistics (and so the run) stay exactly as without TensorBoard. A graph that cannot
                be traced is reported in one line, and everything else is still written.

`training.instrumentation.tensorboard` names the folder (empty: off). A relative folder is inside the run's
output folder, so `tensorboard --logdir runs` shows every run side by side; `nnstudio train --tensorboard DIR`
passes a folder relative to where the command runs.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from nnstudio.training.events import Event, EventInfo

if TYPE_CHECKING:
    from nnstudio.training.engine import Trainer

EXTRA = 'pip install "nnstudio[tensorboard]"'
SETTING = "training.instrumentation.tensorboard"
SCALAR_KINDS = ("step", "epoch", "grads", "end")
_log = logging.getLogger(__name__)


class TensorBoardMissing(RuntimeError):
    """TensorBoard logging was asked for, but the `tensorboard` extra is not installed."""


def missing_extra() -> str | None:
    """Why event files cannot be written here (one line with the install command), or None when they can."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401 - the import is the check
    except ImportError:
        return f"TensorBoard is not installed; {EXTRA}"
    return None


def log_dir(folder: str, out_dir: Path | None) -> Path:
    """Where the event files go: a relative folder is inside the run's output folder when there is one."""
    path = Path(folder).expanduser()
    return path if path.is_absolute() or out_dir is None else out_dir / path


def open_tensorboard(trainer: Trainer) -> TensorBoardLog | None:
    """A TensorBoardLog listening to the trainer when the setting names a folder; None when it is empty, and
    on every process but rank 0 of a distributed run (the one that logs)."""
    folder = trainer.settings.instrumentation.tensorboard.strip()
    if not folder or getattr(trainer, "rank", 0) != 0:
        return None
    problem = missing_extra()
    if problem:
        raise TensorBoardMissing(f"{SETTING}: {problem}")
    from torch.utils.tensorboard import SummaryWriter

    restored = getattr(trainer, "_restored", None)
    # A resumed run drops what an earlier session logged after the checkpoint's step, as the history does.
    writer = SummaryWriter(log_dir=str(log_dir(folder, trainer.out_dir)),
                           purge_step=trainer.state.step if restored is not None else None)
    return TensorBoardLog(trainer, writer)


class TensorBoardLog:
    """Writes a trainer's records, parameter histograms and graph to a SummaryWriter until closed."""

    def __init__(self, trainer: Trainer, writer: Any) -> None:
        self.trainer = trainer
        self.writer = writer
        self.notes: list[str] = []
        self._layers = _layer_parameters(trainer)
        self._gradient_epoch = -1
        self._detach = [
            trainer.history.subscribe(self._record),
            trainer.on(Event.STARTED, self._started),
            trainer.on(Event.EPOCH_ENDED, self._epoch_ended),
        ]

    def close(self) -> None:
        for detach in self._detach:
            detach()
        self.writer.close()

    # --- listeners (training thread) -----------------------------------------------------------
    def _record(self, record: dict[str, Any]) -> None:
        kind = record.get("kind")
        step = int(record.get("step", 0))
        if kind in SCALAR_KINDS:
            for key, value in record.items():
                if key not in ("step", "epoch") and isinstance(value, (int, float)) and not isinstance(value, bool):
                    self.writer.add_scalar(f"{kind}/{key}", value, step)
        if kind == "grads" and int(record.get("epoch", 0)) != self._gradient_epoch:
            self._gradient_epoch = int(record.get("epoch", 0))
            self._histograms("gradients", step, lambda p: p.grad)

    def _epoch_ended(self, info: EventInfo) -> None:
        self._histograms("weights", info.step, lambda p: p)
        self.writer.flush()

    def _histograms(self, group: str, step: int, pick) -> None:
        for tag, param in self._layers:
            values = pick(param)
            if values is not None and values.numel() > 0:
                values = values.detach().float().cpu()
                if bool(torch.isfinite(values).all()):  # a histogram of NaNs fails in numpy
                    self.writer.add_histogram(f"{group}/{tag}", values, step)

    def _started(self, info: EventInfo) -> None:
        trainer = self.trainer
        module = trainer.module
        batch = trainer.x[:max(1, min(trainer.batch_size, len(trainer.x)))]
        was_training = module.training
        module.eval()
        try:
            with warnings.catch_warnings():  # the tracer warns about every data-dependent branch
                warnings.simplefilter("ignore")
                self.writer.add_graph(module, batch)
        except Exception as exc:
            note = (f"tensorboard: the graph could not be traced ({type(exc).__name__}: {_first_line(exc)}); "
                    "scalars and histograms are still written")
            self.notes.append(note)
            _log.warning("warning: %s", note)
        finally:
            module.train(was_training)


def _layer_parameters(trainer: Trainer) -> list[tuple[str, torch.nn.Parameter]]:
    """(tag, parameter) per trained parameter: '<layer name>/<parameter name within the layer>'."""
    names = {id(p): name for name, p in trainer.module.named_parameters()}
    tags: list[tuple[str, torch.nn.Parameter]] = []
    for node_id, params in trainer.weight_groups.items():
        layer = trainer.job.names.get(node_id, node_id)
        parts = [names.get(id(p), f"param{i}").split(".") for i, p in enumerate(params)]
        common = _common_prefix(parts) if len(parts) > 1 else len(parts[0]) - 1 if parts else 0
        for param, name in zip(params, parts):
            tags.append((f"{layer}/{'.'.join(name[common:]) or name[-1]}", param))
    return tags


def _common_prefix(parts: list[list[str]]) -> int:
    """How many leading name parts all the lists share (never all of any one list)."""
    count = 0
    shortest = min(len(p) for p in parts)
    while count < shortest - 1 and all(p[count] == parts[0][count] for p in parts):
        count += 1
    return count


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else ""
