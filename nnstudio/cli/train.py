"""`nnstudio train` and `nnstudio evaluate`: the training engine from the command line.

Exit codes: 0 training finished; 1 training failed (e.g. a non-finite loss, a distributed rank that stopped
answering); 2 bad input (settings, data, file or checkpoint, an --out that cannot be written, a --distributed
launch without torchrun), reported as one line naming the place, before anything trains; 130 stopped by Ctrl-C
after saving a checkpoint. With --distributed only rank 0 prints, logs and saves.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from nnstudio.cli.common import CliError, open_project, positive_int
from nnstudio.io.project_file import save
from nnstudio.model.project import Project
from nnstudio.training.dist_timeout import DEFAULT_TIMEOUT, TIMEOUT_ENV

LAUNCH_HINT = "torchrun --nproc_per_node=N -m nnstudio train FILE --distributed"


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser("train", help="train a project's graph on its dataset")
    train.add_argument("file", help="a .nnstudio file, or example:NAME")
    train.add_argument("--epochs", type=int, help="override training.epochs")
    train.add_argument("--batch-size", type=int, help="override training.batch_size")
    train.add_argument("--lr", type=float, help="override training.optimizer.lr")
    train.add_argument("--device", help="override training.device (auto, cpu, cuda, mps)")
    train.add_argument("--seed", type=int, help="override training.seed")
    train.add_argument("--out", help="output folder for checkpoints (default: runs/<project name>)")
    train.add_argument("--resume", metavar="CKPT", help="continue from a checkpoint folder; --lr then replaces "
                       "the checkpoint's learning rate (and says so)")
    train.add_argument("--init-weights", metavar="PATH",
                       help="start from these weights, matched by node name and shape (sets init.weights): a "
                            ".safetensors or torch file, a checkpoint or run folder, an export or a bundle .zip")
    train.add_argument("--metrics", metavar="FILE", help="write every logged record as JSON lines")
    train.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard event files (scalars, histograms, "
                       "graph) to DIR (sets training.instrumentation.tensorboard; needs the tensorboard extra)")
    train.add_argument("--threads", type=positive_int, help="torch intra-op threads (default: torch's choice)")
    train.add_argument("--json", action="store_true", help="print the final metrics as JSON")
    train.add_argument("--distributed", action="store_true",
                       help="train with DistributedDataParallel on the processes torchrun starts: "
                            f"{LAUNCH_HINT}. training.batch_size is then the GLOBAL batch, split evenly "
                            "over the processes (it must be a multiple of their number)")
    train.add_argument("--dist-timeout", metavar="SECONDS", default=None,
                       help="with --distributed: how long a process waits for the others (to join, and in every "
                            "exchange) before the run fails naming the process that stopped answering (default: "
                            f"${TIMEOUT_ENV}, else {DEFAULT_TIMEOUT:g})")
    train.set_defaults(func=run_train)

    evaluate = subparsers.add_parser("evaluate", help="score a checkpoint on the test (or validation) split; "
                                     "classifiers add per-class metrics, ROC/PR AUC, top-k and calibration")
    evaluate.add_argument("file", help="a .nnstudio file, or example:NAME")
    evaluate.add_argument("--checkpoint", required=True, help="a checkpoint folder or weights file")
    evaluate.add_argument("--split", choices=("auto", "test", "val", "train"), default="auto",
                          help="which split to score (auto: test, else validation)")
    evaluate.add_argument("--device", help="override training.device")
    evaluate.add_argument("--json", action="store_true", help="print the result as JSON")
    evaluate.add_argument("--robustness", metavar="fgsm|pgd",
                          help="add a curve of robust accuracy against ε under this attack (a classifier of "
                               "real-valued inputs; attacked inputs are clamped to the data's range)")
    evaluate.add_argument("--eps", help="with --robustness: comma-separated ε in the data's units (default: "
                                        "0 to 0.3 of the data's range)")
    evaluate.add_argument("--pgd-steps", type=positive_int,
                          help="with --robustness pgd: the number of steps (of α = 2.5·ε / steps)")
    evaluate.set_defaults(func=run_evaluate)


class Progress:
    """A tqdm bar with loss and ETA on a terminal (when tqdm is installed); one plain line per epoch otherwise."""

    def __init__(self, trainer, stream: TextIO) -> None:
        from nnstudio.training import Event

        self.trainer, self.stream, self.bar = trainer, stream, None
        try:
            from tqdm import tqdm
        except ImportError:
            tqdm = None
        self._tqdm = tqdm if stream.isatty() else None
        inst = trainer.settings.instrumentation
        trainer.on(Event.STARTED, self._started)
        if self._tqdm is not None:
            trainer.on(Event.STEP, self._step, every=inst.loss_every if inst.enabled else 10)
        trainer.on(Event.EPOCH_ENDED, self._epoch)

    def _started(self, info) -> None:
        t = self.trainer
        self.total = t.settings.epochs * t.steps_per_epoch
        self.first_step = info.step
        if self._tqdm is not None:
            self.bar = self._tqdm(total=self.total, initial=info.step, unit="step", file=self.stream,
                                  dynamic_ncols=True, desc=f"epoch {info.epoch + 1}")

    def _step(self, info) -> None:
        self.bar.update(info.step - self.bar.n)
        if info.loss is not None:
            self.bar.set_postfix(loss=f"{info.loss:.4g}", refresh=False)

    def _epoch(self, info) -> None:
        shown = {k: v for k, v in info.metrics.items() if k != "lr" and v is not None}
        if self.bar is not None:
            self.bar.update(info.step - self.bar.n)
            self.bar.set_description(f"epoch {info.epoch}")
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items()})
            return
        seconds = self.trainer.state.session_seconds()
        done = info.step - self.first_step
        eta = seconds / done * (self.total - info.step) if done else 0.0
        values = "  ".join(f"{k} {v:.4g}" for k, v in shown.items())
        print(f"epoch {info.epoch}/{self.trainer.settings.epochs}  {values}  eta {eta:.0f}s", file=self.stream,
              flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _base_dir(file: str) -> Path | None:
    return None if file.startswith("example:") else Path(file).resolve().parent


def _prepare(args: argparse.Namespace, project: Project, quiet: bool = False, allow_nothing_to_train: bool = False):
    from nnstudio.training import TrainingInputError, prepare, with_overrides

    project.training = with_overrides(project.training, epochs=getattr(args, "epochs", None),
                                      batch_size=getattr(args, "batch_size", None), lr=getattr(args, "lr", None),
                                      device=args.device, seed=getattr(args, "seed", None))
    if getattr(args, "init_weights", None):
        project.init.weights = str(Path(args.init_weights).resolve())  # relative to where the command runs
    from nnstudio.cli.file_progress import FileProgress

    reading = FileProgress()
    try:
        job = prepare(project, _base_dir(args.file), progress=reading, allow_nothing_to_train=allow_nothing_to_train)
    except TrainingInputError as exc:
        raise CliError(str(exc)) from None
    finally:
        reading.close()
    for warning in [] if quiet else job.warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    if job.data.storage and not quiet:  # image folders and CSVs: held in memory or streamed, and why
        print(job.data.storage, file=sys.stderr)
    if job.init_report is not None and not quiet and "init_weights" in vars(args):
        print(f"init.weights: {job.init_report.summary()}", file=sys.stderr)
    return job


def run_train(args: argparse.Namespace) -> int:
    if getattr(args, "distributed", False):
        return _run_distributed(args)
    from nnstudio.training.recipes import create_trainer

    if args.threads is not None:
        from nnstudio.training.threads import configure_torch

        configure_torch(args.threads, leave_for_gui=False)
    project = open_project(args.file)
    job = _prepare(args, project)
    out = _writable_out(_out_dir(args))
    _tensorboard(args, job)
    trainer = create_trainer(job, out, writer=lambda folder: save(project, folder / "project.nnstudio"))
    return _train(args, trainer, lead=True)


def _tensorboard(args: argparse.Namespace, job) -> None:
    """Apply --tensorboard (a folder relative to where the command runs) and refuse, before training, a
    TensorBoard log that cannot be written: the extra is missing, or the folder cannot be made."""
    from nnstudio.training.tensorboard_log import SETTING, log_dir, missing_extra

    inst = job.settings.instrumentation
    if getattr(args, "tensorboard", None):
        inst.tensorboard = str(Path(args.tensorboard).resolve())
    if not inst.tensorboard.strip():
        return
    place = "--tensorboard" if getattr(args, "tensorboard", None) else SETTING
    problem = missing_extra()
    if problem:
        raise CliError(f"{place}: {problem}")
    folder = log_dir(inst.tensorboard, _out_dir(args))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"{place}: cannot make {folder} ({exc.strerror or exc})") from None


def _out_dir(args: argparse.Namespace) -> Path:
    return Path(args.out) if args.out else Path("runs") / (Path(args.file.removeprefix("example:")).stem or "run")


def _writable_out(out: Path) -> Path:
    """`out` once a file could be made in its checkpoints folder: an unwritable --out is bad input (exit 2),
    found before anything trains rather than when the first epoch's checkpoint is written."""
    if out.exists() and not out.is_dir():
        raise CliError(f"{out}: not a folder (--out names the folder that receives the checkpoints)")
    folder = out / "checkpoints"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):  # unnamed where the OS allows: nothing is left even on kill -9
            pass
    except OSError as exc:
        raise CliError(f"{folder}: cannot write checkpoints there ({exc.strerror or exc})") from None
    return out


def _train(args: argparse.Namespace, trainer, lead: bool, prefix: str = "") -> int:
    """Resume if asked, run, report. Only the lead process (rank 0) shows progress, metrics and results."""
    from nnstudio.training import Status

    if args.resume:
        _resume(args, trainer, lead)
    progress = Progress(trainer, sys.stderr) if lead else None
    with _metrics_file(args.metrics if lead else None) as stream, _stop_on_ctrl_c(trainer, lead):
        if stream is not None:
            from nnstudio.metrics import JsonLinesWriter

            trainer.history.subscribe(JsonLinesWriter(stream))
        if lead:  # a change made while it trained, or replayed on resume: one line each (training/interventions.py)
            trainer.history.subscribe(_print_change)
        result = trainer.run()
    if progress is not None:
        progress.close()
    if result.status is Status.FAILED:
        if lead:
            _print_findings(result.findings, sys.stderr)
        print(f"nnstudio train{prefix}: training failed: {result.message}", file=sys.stderr)
        return 1
    if lead:
        _print_result(result, args.json, sys.stdout)
    return 130 if result.status is Status.STOPPED else 0


def _print_change(record: dict) -> None:
    if record.get("kind") == "intervention":
        print(f"change: {record.get('text')}", file=sys.stderr, flush=True)


def _resume(args: argparse.Namespace, trainer, lead: bool) -> None:
    """Restore the checkpoint --resume names, then apply --lr to it; what that changes is said in one line each
    (by the lead process alone). A checkpoint further along than --epochs is refused."""
    from nnstudio.training import CheckpointError, load_checkpoint
    from nnstudio.training.loop_state import check_resume, lr_override_problem, override_lr

    try:
        checkpoint = load_checkpoint(args.resume)
        check_resume(checkpoint, trainer.settings.epochs)
        trainer.restore(checkpoint)
    except CheckpointError as exc:
        raise CliError(str(exc)) from None
    lines = [f"warning: {note}" for note in checkpoint.notes] + trainer.interventions.resume_lines()
    lr = getattr(args, "lr", None)
    if lr is not None:
        problem = lr_override_problem(trainer)
        if problem:
            raise CliError(problem)
        changed = override_lr(trainer, lr, checkpoint)
        lines += [changed] if changed else []
    for line in lines if lead else []:
        print(line, file=sys.stderr)


def _run_distributed(args: argparse.Namespace) -> int:
    """One rank of a torchrun launch.

    Input errors (settings, files, data) come out the same on every process of a machine, so rank 0 reports
    them, plus the first process of each other machine (whose files may differ), prefixed with its rank."""
    from nnstudio.training.dist_timeout import dist_timeout
    from nnstudio.training.distributed import DistributedTrainer, LaunchError, batch_problem, launch_env, session
    from nnstudio.training.rank_watch import RankStalled
    from nnstudio.training.recipes.registry import distributed_recipe_problem

    try:
        timeout = dist_timeout(args.dist_timeout)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    try:
        env = launch_env()
    except LaunchError as exc:
        raise CliError(_recipe_refusal(args.file) or str(exc)) from None
    lead = env.rank == 0
    try:
        if args.threads is not None:
            from nnstudio.training.threads import configure_torch

            configure_torch(args.threads, leave_for_gui=False)
        project = open_project(args.file)
        job = _prepare(args, project, quiet=not lead)
        problem = distributed_recipe_problem(job) or batch_problem(job.settings.batch_size, env.world_size)
        if problem:
            raise CliError(problem)
        out = _writable_out(_out_dir(args)) if lead else _out_dir(args)  # rank 0 alone writes
        if lead:
            _tensorboard(args, job)
        try:
            with session(env, job.settings.device, timeout) as joined:
                trainer = DistributedTrainer(job, joined, out,
                                             writer=lambda folder: save(project, folder / "project.nnstudio"))
                return _train(args, trainer, lead, prefix="" if lead else f" [rank {env.rank}]")
        except LaunchError as exc:
            raise CliError(str(exc)) from None
        except RankStalled as exc:  # while restoring (a run reports it as a failed run itself)
            raise CliError(exc.message, exit_code=1) from None
    except CliError as exc:
        if lead:
            raise
        if env.local_rank == 0:
            raise CliError(f"[rank {env.rank}] {exc}", exc.exit_code) from None
        return exc.exit_code


def _recipe_refusal(file: str) -> str | None:
    """The project's recipe's refusal of --distributed, if it has one: said before how to launch, since no
    launch would help. Only the recipe is read; a project that cannot even be opened is left to the launch."""
    from nnstudio.training.recipes.registry import distributed_recipe_problem, parse_recipe

    try:
        training = open_project(file).training
    except CliError:
        return None
    spec, _, _ = parse_recipe(training.get("recipe") if isinstance(training, dict) else None)
    return distributed_recipe_problem(argparse.Namespace(recipe=spec.name))


@contextlib.contextmanager
def _metrics_file(path: str | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    try:
        stream = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed below, after the run
    except OSError as exc:
        raise CliError(f"{path}: cannot write metrics ({exc.strerror or exc})") from None
    with stream:
        yield stream


@contextlib.contextmanager
def _stop_on_ctrl_c(trainer, lead: bool = True) -> Iterator[None]:
    """First Ctrl-C: stop at the next step boundary and save a checkpoint. Second: abort at once.

    Under torchrun, Ctrl-C reaches torchrun, which passes SIGINT on to every rank; SIGTERM (a scheduler's
    notice, or torchrun after another rank failed) asks for the same orderly stop."""
    distributed = getattr(trainer, "session", None) is not None

    def handler(signum: int, frame: Any) -> None:
        if lead:
            where = "at a step boundary all processes agree on" if distributed else "after this step"
            print(f"\nstopping {where} and saving a checkpoint (Ctrl-C again to abort)", file=sys.stderr)
        trainer.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if distributed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signals = (signal.SIGINT, signal.SIGTERM) if distributed else (signal.SIGINT,)
    try:
        previous = {signum: signal.signal(signum, handler) for signum in signals}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _print_result(result, as_json: bool, out: TextIO) -> None:
    if as_json:
        from nnstudio.metrics import clean_json

        print(json.dumps(clean_json({
            "status": result.status.value, "message": result.message, "epochs": result.epochs,
            "step": result.step, "metrics": result.metrics, "best": result.best,
            "checkpoint": str(result.checkpoint) if result.checkpoint else None,
            "findings": result.findings}), indent=2), file=out)
        return
    print(f"{result.message} after {result.epochs} epoch(s), {result.step} steps", file=out)
    for key, value in result.metrics.items():
        print(f"  {key:<16} {value:.6g}" if isinstance(value, float) else f"  {key:<16} {value}", file=out)
    if result.best:
        print(f"  best {result.best['metric']} {result.best['value']:.6g} at epoch {result.best['epoch']}",
              file=out)
    if result.checkpoint:
        print(f"checkpoint: {result.checkpoint}", file=out)
    _print_findings(result.findings, out)


def _print_findings(findings: list[str], out: TextIO) -> None:
    """The training.health findings, one "finding: ..." line each, after everything else."""
    for finding in findings:
        print(f"finding: {finding}", file=out)


def run_evaluate(args: argparse.Namespace) -> int:
    from nnstudio.compile.weights import WeightsError, load_weights
    from nnstudio.training.evaluation import evaluate_job

    epsilons = _robustness_request(args)
    project = open_project(args.file)
    job = _prepare(args, project)
    if not Path(args.checkpoint).exists():
        raise CliError(f"{args.checkpoint}: no such checkpoint")
    if args.robustness:
        from nnstudio.training.robustness import robustness_problem

        if problem := robustness_problem(job):
            raise CliError(problem)
    try:
        load_weights(job.compiled.network, args.checkpoint, strict=True)  # with an objective: its loss-only parts too
    except WeightsError as exc:
        raise CliError(str(exc)) from None
    try:
        report = evaluate_job(job, args.split)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    curve = _robustness_curve(args, job, epsilons) if args.robustness else None
    if args.json:
        from nnstudio.metrics import clean_json

        data = report.to_json() | ({"robustness": curve.to_json()} if curve is not None else {})
        print(json.dumps(clean_json(data), indent=2))
    else:
        print(report.text() + (f"\n{curve.text()}" if curve is not None else ""))
    return 0


def _robustness_request(args: argparse.Namespace) -> list[float] | None:
    """--robustness, --eps and --pgd-steps checked before anything loads; the ε grid (None: the default)."""
    from nnstudio.training.attacks import ATTACKS
    from nnstudio.training.robustness import RobustnessError, parse_epsilons

    if args.robustness is None:
        for option, value in (("--eps", args.eps), ("--pgd-steps", args.pgd_steps)):
            if value is not None:
                raise CliError(f"{option} needs --robustness {'|'.join(ATTACKS)}")
        return None
    if args.robustness not in ATTACKS:
        raise CliError(f"--robustness: unknown attack {args.robustness!r}; choose one of {', '.join(ATTACKS)}")
    if args.pgd_steps is not None and args.robustness != "pgd":
        raise CliError("--pgd-steps needs --robustness pgd")
    try:
        return parse_epsilons(args.eps) if args.eps is not None else None
    except RobustnessError as exc:
        raise CliError(str(exc)) from None


def _robustness_curve(args: argparse.Namespace, job, epsilons: list[float] | None):
    from nnstudio.training.device import resolve_device
    from nnstudio.training.robustness import PGD_STEPS, RobustnessError, robustness_curve

    try:
        return robustness_curve(job, args.robustness, epsilons, args.split, steps=args.pgd_steps or PGD_STEPS,
                                device=resolve_device(job.settings.device))
    except RobustnessError as exc:
        raise CliError(str(exc)) from None
