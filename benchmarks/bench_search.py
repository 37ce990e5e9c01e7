"""The search harness's cost per trial, and how trials per minute scale with worker processes.

1. Overhead: the same run (the spirals example as shipped: 1,000 samples, 40 epochs, batch 32, on one torch
   thread) trained directly through the engine, as
   `nnstudio train` does (prepare, create_trainer with a run folder, run), against one search trial of a study
   whose only dimension is a one-value choice of that same learning rate, so both train exactly the same.
   Then the same with 1-epoch runs, where the difference is the harness's fixed cost per trial.
   The trial adds the storage round trips (take, heartbeat, tell), sampling, the project copy, the analyzer,
   the run folder and run.json. Runs alternate; the median of each is compared, in wall time and in this
   process's CPU time (which leaves out waiting for a core other processes hold). Target: <= 2 %.
2. Scaling: one study of --trials trials on SQLite, drained by 1 worker process and then (a fresh study) by 2,
   each `nnstudio search --join ... --threads 1`. Trials per minute are counted from the first trial's start
   to the last one's end, from the study's own timestamps (process start-up, mostly importing torch, is left
   out). Target: 2 workers >= 1.6x one worker, on a machine with two free cores.

Prints figures; asserts nothing. Run: python benchmarks/bench_search.py [--reps N] [--trials N] [--epochs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nnstudio.examples import example_path  # noqa: E402
from nnstudio.io.project_file import loads, save  # noqa: E402
from nnstudio.training.threads import configure_torch  # noqa: E402

LR = 0.01


def project(epochs: int, search: dict | None = None):
    """The shipped spirals example with `epochs` epochs."""
    document = json.loads(Path(example_path("spirals")).read_text(encoding="utf-8"))
    document["training"]["epochs"] = epochs
    document["training"]["optimizer"]["lr"] = LR
    document["search"] = search or {}
    return loads(json.dumps(document))


def direct_run(epochs: int, out: Path) -> tuple[float, float]:
    """What `nnstudio train` does for one run; (wall, cpu) seconds."""
    from nnstudio.training import prepare
    from nnstudio.training.recipes import create_trainer

    wall, cpu = time.perf_counter(), time.process_time()
    p = project(epochs)
    job = prepare(p, None)
    trainer = create_trainer(job, out, writer=lambda folder: save(p, folder / "project.nnstudio"))
    trainer.run()
    trainer.history.save(out / "history.json")
    return time.perf_counter() - wall, time.process_time() - cpu


def overhead(reps: int, epochs: int, folder: Path, label: str = "bench") -> None:
    from nnstudio.search.context import start_study
    from nnstudio.search.runner import StudyRunner

    search = {"space": [{"kind": "choice", "param": "training.optimizer.lr", "choices": [LR]}],
              "study": {"sampler": "random", "trials": reps + 1}}
    context = start_study(project(epochs, search), "bench.nnstudio", f"sqlite:///{folder / f'{label}.db'}", label,
                          None, folder / f"{label}.runs", {})
    runner = StudyRunner(context)
    runner.run(max_trials=1)  # warm-up: the first trial loads the data set once for the study
    direct_run(epochs, folder / f"{label}-warm")
    direct, trial = [], []
    def one_trial() -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        runner.run(max_trials=len(runner.reports) + 1)
        trial.append((time.perf_counter() - wall, time.process_time() - cpu))

    for rep in range(reps):  # the order alternates, so neither side always runs just after the other
        if rep % 2:
            one_trial()
        direct.append(direct_run(epochs, folder / f"{label}-direct-{rep}"))
        if not rep % 2:
            one_trial()
    for index, what in ((0, "wall"), (1, "cpu")):
        d = statistics.median(x[index] for x in direct)
        t = statistics.median(x[index] for x in trial)
        print(f"  {what:<4} direct run {d:7.3f} s   search trial {t:7.3f} s   overhead {100 * (t - d) / d:+6.2f} % "
              f"({1000 * (t - d):+.0f} ms)")


def drain(workers: int, trials: int, epochs: int, folder: Path) -> float:
    """Trials per minute when `workers` processes drain one fresh study of `trials` trials."""
    import optuna

    from nnstudio.search.context import start_study

    url = f"sqlite:///{folder / f'scale-{workers}.db'}"
    search = {"space": [{"kind": "float", "param": "training.optimizer.lr", "low": 1e-3, "high": 0.1, "log": True}],
              "study": {"sampler": "random", "trials": trials}}
    start_study(project(epochs, search), "bench.nnstudio", url, "scale", None, folder / f"scale-{workers}.runs", {})
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "nnstudio", "search", "--join", "scale", "--storage", url, "--threads", "1"]
    procs = [subprocess.Popen(command, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True) for _ in range(workers)]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a worker failed: {err.strip().splitlines()[-1:]}")
    done = optuna.load_study(study_name="scale", storage=url).trials
    start = min(t.datetime_start for t in done)
    end = max(t.datetime_complete for t in done)
    per_worker = {}
    for t in done:
        per_worker[t.user_attrs["nnstudio.worker"]["pid"]] = per_worker.get(t.user_attrs["nnstudio.worker"]["pid"],
                                                                            0) + 1
    rate = len(done) / (end - start).total_seconds() * 60
    print(f"  {workers} worker(s): {len(done)} trials in {(end - start).total_seconds():6.1f} s = {rate:6.1f} "
          f"trials/min (trials per worker: {sorted(per_worker.values())})")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=40, help="epochs per run (the example's own: 40)")
    parser.add_argument("--skip-scaling", action="store_true", help="measure the overhead only")
    args = parser.parse_args()
    configure_torch(1, leave_for_gui=False)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"bench_search: spirals MLP, 1000 samples, {args.epochs} epochs, 1 torch thread; {os.cpu_count()} CPUs, "
          f"load average {load:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        print(f"harness overhead per trial (median of {args.reps}; target <= 2 %):")
        overhead(args.reps, args.epochs, folder)
        print(f"the fixed cost alone: 1-epoch runs (median of {3 * args.reps}), where the run itself is cheapest:")
        overhead(3 * args.reps, 1, folder, "fixed")
        if args.skip_scaling:
            return
        print(f"trials per minute, {args.trials} trials ({args.epochs} epochs each):")
        one = drain(1, args.trials, args.epochs, folder)
        two = drain(2, args.trials, args.epochs, folder)
        print(f"  speed-up with 2 workers: {two / one:.2f}x (target >= 1.6x)")


if __name__ == "__main__":
    main()
