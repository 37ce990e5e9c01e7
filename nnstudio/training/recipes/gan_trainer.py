"""The GAN recipe's trainer: two players cut from one compiled graph, each with its own optimizer.

The base Trainer's loop (epochs, pause, resume, stop, checkpoints, history replay) runs unchanged; this class
builds the players instead of one optimizer, runs their turns (gan_steps.GanStepRunner) and logs what a GAN
shows instead of a loss curve. The checkpoint's `optimizer` and `scheduler` are the discriminator's; the
generator's, the noise generator's state and the latest generator loss travel in `recipe_state`, so a resumed
run is bitwise equal to one that ran through. Logged samples come from fixed noise drawn apart from the
training noise, in eval mode and without gradients, so logging never changes what is trained.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch

from nnstudio.compile.parts import part
from nnstudio.compile.summary import node_modules
from nnstudio.metrics.layers import node_parameters, weight_summaries
from nnstudio.metrics.modes import SAMPLES, Modes
from nnstudio.training.data_init import init_from_data
from nnstudio.training.device import resolve_device
from nnstudio.training.early import Monitor, monitored_metric
from nnstudio.training.engine import Trainer
from nnstudio.training.evaluation import EvaluationReport, choose_split
from nnstudio.training.events import Event
from nnstudio.training.factories import WeightPenalty, make_optimizer
from nnstudio.training.loop_state import Diverged, LoopState
from nnstudio.training.node_training import apply_node_training
from nnstudio.training.recipes.gan import BETAS, DISCRIMINATOR, GENERATOR, gan_ends, players
from nnstudio.training.recipes.gan_steps import SUMS, GanStepRunner, Player, evaluating, generate, mean_score
from nnstudio.training.schedules import make_schedule
from nnstudio.training.settings import OptimizerSettings

POINTS_SHOWN = 512  # generated 2-D points in a "samples" record
IMAGES_SHOWN = 64  # generated samples of any other shape


class GanTrainer(Trainer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gan = self.job.recipe_params
        self.objective = None  # the recipe brings its own losses; the graph has none
        self.job.loss = f"gan ({self.gan['loss']})"  # what the start record and checkpoint info call the loss

    # --- setup -----------------------------------------------------------------------------
    def setup(self) -> None:
        if self._ready:
            return
        s, job = self.settings, self.job
        torch.manual_seed(s.seed)
        self.generator = torch.Generator().manual_seed(s.seed)
        self.module.to(self.device).train()
        train = job.data.train
        self.x, self.y = train.x.to(self.device), train.y.to(self.device)
        self.val = (job.data.val.x.to(self.device), job.data.val.y.to(self.device)) if job.data.val else None
        self.data_init = init_from_data(job.compiled, self.x, self.y, s.seed, job.init_report)
        self.node_training = apply_node_training(job.compiled, job.project.graph, s.optimizer.lr)
        self.params = [p for p in self.module.parameters() if p.requires_grad]
        self.criterion = None
        self.batch_size = s.batch_size
        self.steps_per_epoch = math.ceil(len(train) / s.batch_size)
        ends = gan_ends(job.project)
        shape = job.compiled.analysis.shapes.of(ends.noise)
        self.noise_shape = tuple(shape.shape)
        self.noise_generator = torch.Generator(self.device).manual_seed(s.seed + 1)
        d = self._player(DISCRIMINATOR, part(job.compiled, [ends.real], [ends.logit], "NNStudioDiscriminator"),
                         self.steps_per_epoch)
        g = self._player(GENERATOR, part(job.compiled, [ends.noise], [ends.fake], "NNStudioGenerator"),
                         math.ceil(self.steps_per_epoch / self.gan["d_steps"]))
        self.optimizer, self.schedule = d.optimizer, d.schedule  # what the checkpoint's own fields hold
        self.monitor = Monitor(monitored_metric(s.early_stopping, self.val is not None), s.early_stopping)
        self.weight_groups = node_parameters(job.compiled)
        self.runner = GanStepRunner(self, d, g)
        self.players = (d, g)
        self.state = LoopState.fresh(self.generator, self.device, len(SUMS) - 1)
        self._fixed_noise(s.seed)
        self._ready = True

    def _player(self, role: str, module: torch.nn.Module, steps_per_epoch: int) -> Player:
        """The player's parameters (by the nodes `players` assigns it), grouped by node lr scale."""
        s, job = self.settings, self.job
        roles = players(job.project)
        owned = node_modules(job.compiled)
        params = [p for node_id, modules in owned.items() if roles.get(node_id) == role
                  for m in modules for p in m.parameters() if p.requires_grad]
        key = "lr_generator" if role == GENERATOR else "lr_discriminator"
        lr = self.gan[key] if self.gan[key] is not None else s.optimizer.lr
        optimizer = make_optimizer(self._groups(params, lr), self._optimizer_settings(lr))
        schedule = make_schedule(optimizer, s.schedule, s.epochs, steps_per_epoch)
        penalty = WeightPenalty(params, s.regularization)
        return Player(role, module, params, optimizer, schedule, penalty if penalty.active else None)

    def _groups(self, params: list[torch.nn.Parameter], lr: float) -> list[dict]:
        scale_of = {}
        plan = self.node_training.params
        for group in plan if plan and isinstance(plan[0], dict) else []:
            scale_of.update({id(p): group["lr_scale"] for p in group["params"]})
        groups: dict[float, list[torch.nn.Parameter]] = {}
        for p in params:
            groups.setdefault(scale_of.get(id(p), 1.0), []).append(p)
        ordered = sorted(groups.items(), key=lambda item: item[0] != 1.0)
        return [{"params": ps, "lr": lr * scale, "lr_scale": scale} for scale, ps in ordered]

    def _optimizer_settings(self, lr: float) -> OptimizerSettings:
        """The settings' optimizer at this player's rate. Adam's betas are the file's when it writes them, else
        the loss's paper defaults (BETAS): training.optimizer's own defaults suit neither player."""
        s = self.settings.optimizer
        training = self.job.project.training if isinstance(self.job.project.training, dict) else {}
        written = training.get("optimizer") if isinstance(training.get("optimizer"), dict) else {}
        beta1, beta2 = BETAS[self.gan["loss"]]
        return replace(s, lr=lr, beta1=s.beta1 if "beta1" in written else beta1,
                       beta2=s.beta2 if "beta2" in written else beta2)

    def _fixed_noise(self, seed: int) -> None:
        """The noise of the mode metrics (as `evaluate_gan` draws it) and of the logged samples: fixed for the
        run, and drawn apart from the training noise."""
        self.modes = Modes.from_data(self.x, self.y)
        self.eval_noise = fixed_noise(SAMPLES if self.modes is not None else 0, self.noise_shape, seed + 2)
        shown = POINTS_SHOWN if tuple(self.x.shape[1:]) == (2,) else IMAGES_SHOWN
        self.shown_noise = fixed_noise(shown, self.noise_shape, seed + 3).to(self.device)
        self.eval_noise = self.eval_noise.to(self.device)

    # --- checkpoints -----------------------------------------------------------------------
    def recipe_state(self) -> dict:
        g = self.runner.g
        last = self.runner.last_g
        return {"generator_optimizer": g.optimizer.state_dict(), "generator_schedule": g.schedule.state_dict(),
                "noise": self.noise_generator.get_state(),
                "last_g_loss": None if last is None else last.detach().cpu().clone()}

    def load_recipe_state(self, state: dict) -> None:
        g = self.runner.g
        g.optimizer.load_state_dict(state["generator_optimizer"])
        g.schedule.load_state_dict(state["generator_schedule"])
        self.noise_generator.set_state(state["noise"])
        last = state["last_g_loss"]
        self.runner.last_g = None if last is None else last.to(self.device)

    # --- the run ---------------------------------------------------------------------------
    def _start(self) -> None:
        super()._start()
        if self._restored is None:  # the untrained generator, with the real data to compare against
            self._log_samples(0, with_real=True)

    def diverged(self, what: str) -> Diverged:
        d, g = self.players
        return Diverged(f"training diverged at epoch {self.state.epoch_in_progress}, step {self.state.step}: "
                        f"{what}. Try lower learning rates (now {d.optimizer.param_groups[0]['lr']:g} for the "
                        f"discriminator, {g.optimizer.param_groups[0]['lr']:g} for the generator)", None)

    def _end_epoch(self, epoch: int) -> bool:
        """Log the players' epoch, score the samples, checkpoint; a GAN never stops early."""
        state = self.state
        sums = dict(zip(SUMS, state.loss_sum.tolist()))
        metrics = {name: sums[name] / max(1.0, sums["d_count"]) for name in ("d_loss", "d_real", "d_fake")}
        if sums["g_count"]:
            metrics["g_loss"] = sums["g_loss"] / sums["g_count"]
        for name, value in metrics.items():
            if not math.isfinite(value):
                raise self.diverged(f"the mean {name} of epoch {epoch} is {value}")
        if self.modes is not None:
            metrics.update(self.modes.score(self._generate(self.eval_noise)))
        if self.val is not None:
            metrics.update({f"val_{k}": v for k, v in self.evaluate(*self.val).items()})
            self._fire(Event.VALIDATED, metrics=dict(metrics))
        d, g = self.players
        metrics["lr_discriminator"] = d.optimizer.param_groups[0]["lr"]
        metrics["lr_generator"] = g.optimizer.param_groups[0]["lr"]
        for player in self.players:
            player.schedule.after_epoch(metrics)
        self.monitor.update(epoch, metrics)
        if not self.runner.weights_finite():
            raise self.diverged(f"weights became non-finite in epoch {epoch}")
        self._log_epoch(epoch, metrics)
        every = self.gan["samples_every"]
        if (every and epoch % every == 0) or epoch == self.settings.epochs:
            self._log_samples(epoch)
        state.end_epoch(epoch, self.generator)
        state.last_metrics = metrics
        self._checkpoint("last", metrics)
        self._fire(Event.EPOCH_ENDED, metrics=metrics)
        return False

    def _log_epoch(self, epoch: int, metrics: dict[str, float]) -> None:
        elapsed = self.state.epoch_seconds()
        self.history.add({"kind": "epoch", "epoch": epoch, "step": self.state.step, **metrics, "time_s": elapsed,
                          "samples_per_s": len(self.job.data.train) / elapsed if elapsed > 0 else None})
        inst = self.settings.instrumentation
        if inst.enabled and inst.weight_histograms and self.weight_groups:
            layers = weight_summaries(self.weight_groups, inst.histogram_bins, finite=True)
            self.history.add({"kind": "weights", "epoch": epoch, "step": self.state.step,
                              "layers": {k: v.to_json() for k, v in layers.items()}})

    # --- samples and scores ----------------------------------------------------------------
    def _generate(self, noise: torch.Tensor) -> torch.Tensor:
        """The generator's samples in eval mode, without gradients: logging never changes the training."""
        with evaluating(self.module):
            return generate(self.runner.g.module, noise)

    def _log_samples(self, epoch: int, with_real: bool = False) -> None:
        """A "samples" record: generated samples from the fixed noise, each as a flat list of floats."""
        samples = self._generate(self.shown_noise)
        record = {"kind": "samples", "epoch": epoch, "step": self.state.step, "shape": list(samples.shape[1:]),
                  "samples": _rows(samples)}
        if with_real:
            record["real"] = _rows(self.x[:len(samples)])
            if self.modes is not None:
                record["centres"] = self.modes.centres.tolist()
                record["sigma"] = self.modes.sigma
        self.history.add(record)

    def evaluate(self, x: torch.Tensor, y: torch.Tensor, confusion: bool = False) -> dict[str, float]:
        """A split's `d_real`: how real the discriminator finds held-out samples (beside training's, a gap
        shows a discriminator that memorises the training set)."""
        if not self._ready or len(x) == 0:
            return {}
        with evaluating(self.module):
            return {"d_real": mean_score(self.gan["loss"], self.runner.d.module, x)}


def evaluate_gan(job: Any, split: str = "auto") -> EvaluationReport:
    """`nnstudio evaluate` and the Evaluation tab for a GAN, with whatever weights the job's model holds: the
    split's d_real, d_fake of 2,500 samples from fixed noise and, for 2-D modes, their coverage and quality."""
    split = choose_split(job, split)
    device = resolve_device(job.settings.device)
    compiled, kind = job.compiled, job.recipe_params["loss"]
    network = compiled.network.to(device)
    ends = gan_ends(job.project)
    generator = part(compiled, [ends.noise], [ends.fake])
    noise = fixed_noise(SAMPLES, tuple(compiled.analysis.shapes.of(ends.noise).shape), job.settings.seed + 2)
    chosen = job.data.splits()[split]
    with evaluating(network):
        fake = generate(generator, noise.to(device))
        critic = part(compiled, [ends.real], [ends.logit])
        metrics = {"d_real": mean_score(kind, critic, chosen.x.to(device)), "d_fake": mean_score(kind, critic, fake)}
    modes = Modes.from_data(job.data.train.x, job.data.train.y)
    if modes is not None:
        metrics.update(modes.score(fake))
    return EvaluationReport(split, len(chosen), job.task, metrics)


def fixed_noise(count: int, shape: tuple[int, ...], seed: int) -> torch.Tensor:
    return torch.randn((count, *shape), generator=torch.Generator().manual_seed(seed))


def _rows(values: torch.Tensor) -> list[list[float]]:
    """Samples as lists of floats rounded to 4 decimals (the history stays small; plots need no more)."""
    return torch.round(values.detach().float().cpu().reshape(len(values), -1), decimals=4).tolist()
