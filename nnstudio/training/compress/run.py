"""From a project and a trained checkpoint to a compressed model on disk and its report.

Everything runs on the CPU: quantised kernels are CPU kernels, and latency is reported for the CPU. The job is
the one `nnstudio train` would build, so scores are those `nnstudio evaluate` prints for the same split.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import torch

from nnstudio.training.compress import prune as pruning
from nnstudio.training.compress import quantize as quant
from nnstudio.training.compress.methods import METHODS, SWEEP_AMOUNTS, CompressError, CompressOptions
from nnstudio.training.compress.report import CompressionReport, ReportRow

PRUNED_FILE = "model.safetensors"
QUANTISED_FILE = "model_int8.pt"
HEADLINES = ("accuracy", "r2", "rmse", "loss")  # the score a table shows, first one the task reports


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder or weights file as given; a run folder means its best (else last) checkpoint."""
    path = Path(path)
    if not path.exists():
        raise CompressError(f"{path}: no such checkpoint")
    for kind in ("best", "last"):
        if (path / "checkpoints" / kind).is_dir():
            return path / "checkpoints" / kind
    return path


def load_trained(project, base_dir: Path | None, checkpoint: str | Path):
    """The project's training job on the CPU, with the checkpoint's weights loaded (strictly). The load is
    recorded as the job's init report, so fine-tuning keeps data-initialised parts (k-means RBF centres)."""
    from nnstudio.compile.weights import WeightsError, load_weights
    from nnstudio.training.init_weights import load_matching, read_weight_source
    from nnstudio.training.job import TrainingInputError, prepare

    path = resolve_checkpoint(checkpoint)
    try:
        job = prepare(project, base_dir)
    except TrainingInputError as exc:
        raise CompressError(str(exc)) from None
    job.settings = dataclasses.replace(job.settings, device="cpu", precision="fp32")
    try:
        load_weights(job.compiled.network, path, strict=True)
        tensors, description = read_weight_source(path)
    except WeightsError as exc:
        raise CompressError(str(exc)) from None
    job.init_report = load_matching(job.compiled.network, tensors, job.compiled, source=description)
    job.compiled.network.to("cpu").eval()
    return job


def compress(job, options: CompressOptions, out_dir: str | Path | None = None) -> CompressionReport:
    """Compress the job's model as `options` say; write the model and report.json into `out_dir` when given.
    Pruning changes the job's network in place (a sweep puts the original weights back at the end)."""
    options.check()
    out = _out_folder(out_dir)
    pruning = METHODS[options.method].kind == "prune"
    report = _prune(job, options, out) if pruning else _quantize(job, options, out)
    if out is not None:
        report.write(out)
    return report


def _out_folder(out_dir: str | Path | None) -> Path | None:
    if out_dir is None:
        return None
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise CompressError(f"{out}: not a folder (--out names the folder that receives the compressed model)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CompressError(f"{out}: cannot write there ({exc.strerror or exc})") from None
    return out


def headline(metrics: dict[str, float]) -> str:
    for name in HEADLINES:
        found = [key for key in metrics if key == name or key.endswith("_" + name)]
        if found:
            return found[0]
    return next(iter(metrics), "loss")


def _prune(job, options: CompressOptions, out: Path | None) -> CompressionReport:
    from nnstudio.training.evaluation import evaluate_job

    network = job.compiled.network
    if not pruning.prunable_layers(network):
        raise CompressError("nothing to prune: the model has no Linear or convolution layer with weights")
    structured = options.method == "structured"
    evaluated: dict[str, str] = {}

    def evaluate() -> dict[str, float]:
        try:
            result = evaluate_job(job, options.split)
        except ValueError as exc:  # a split the dataset lacks
            raise CompressError(str(exc)) from None
        evaluated["split"] = result.split
        return result.metrics

    original = {k: v.clone() for k, v in network.state_dict().items()}
    rows = [_prune_row("original", network, evaluate())]
    report = CompressionReport(METHODS[options.method].title, evaluated["split"], headline(rows[0].metrics), rows)
    amounts = [a for a in SWEEP_AMOUNTS if a > 0] if options.sweep else [options.amount]
    for amount in amounts:
        network.load_state_dict(original)
        metrics, notes = pruning.prune_network(job, amount, structured, options.finetune, evaluate)
        rows.append(_prune_row(f"pruned {amount:.0%}", network, metrics))
        report.notes += [n for n in notes if n not in report.notes]
    if options.sweep:
        network.load_state_dict(original)
    elif out is not None:
        from nnstudio.compile.weights import save_weights

        save_weights(network, out / PRUNED_FILE, metadata={"pruned": f"{options.method} {options.amount:g}"})
        report.files.append(str(out / PRUNED_FILE))
    return report


def _prune_row(label: str, network, metrics: dict[str, float]) -> ReportRow:
    total, nonzero, sparsity = pruning.parameter_counts(network)
    return ReportRow(label, metrics, params_total=total, params_nonzero=nonzero, sparsity=sparsity)


def _quantize(job, options: CompressOptions, out: Path | None) -> CompressionReport:
    from nnstudio.training.evaluation import choose_split
    from nnstudio.training.recipes.registry import RECIPES

    if job.compiled.objective is not None or RECIPES[job.recipe].evaluator_function() is not None:
        raise CompressError(
            "quantisation needs a plain model scored by its dataset's task; this graph has loss "
            "nodes or a recipe that scores its own way (prune it instead)"
        )
    try:
        split = choose_split(job, options.split)
    except ValueError as exc:
        raise CompressError(str(exc)) from None
    module = job.compiled.module.to("cpu").eval()
    train_x = job.data.train.x.to("cpu")
    sample = train_x[:1]
    if options.method == "static":
        quantised, notes = quant.static_int8(module, train_x, job.settings.batch_size)
    else:
        quantised, notes = quant.dynamic_int8(module)
    size, traced = quant.scripted_size(module, sample)
    rows = [
        ReportRow(
            "original (fp32)",
            _score(job, module, split),
            size_bytes=size,
            latency_ms=quant.latency_ms(traced, sample, options.repeats),
        )
    ]
    with tempfile.TemporaryDirectory() as folder:
        path = (out or Path(folder)) / QUANTISED_FILE
        q_traced = quant.torchscript(quantised, sample, path)
        rows.append(
            ReportRow(
                f"int8 {options.method}",
                _score(job, quantised, split),
                size_bytes=path.stat().st_size,
                latency_ms=quant.latency_ms(q_traced, sample, options.repeats),
            )
        )
    notes.append(
        f"latency: median of {options.repeats} runs of one sample after {quant.LATENCY_WARMUP} warm-up "
        f"runs, {torch.get_num_threads()} CPU thread(s); size: the TorchScript file"
    )
    report = CompressionReport(METHODS[options.method].title, split, headline(rows[0].metrics), rows, notes)
    if out is not None:
        report.files.append(str(out / QUANTISED_FILE))
    return report


def _score(job, module, split: str) -> dict[str, float]:
    """The split's scores for a module standing in for the job's model (a quantised copy)."""
    from nnstudio.metrics.scores import TaskScores
    from nnstudio.training.evaluation import score
    from nnstudio.training.factories import decision_threshold, make_loss

    criterion = make_loss(job.settings.loss, job.task, len(job.ends.output_type.shape), torch.device("cpu"))
    scores = TaskScores(job.task, job.data.num_classes, decision_threshold(job.settings.loss, job.task))
    chosen = job.data.splits()[split]
    with torch.no_grad():
        return score(module, criterion, chosen.x.to("cpu"), chosen.y.to("cpu"), scores).compute()
