"""The text of the exported train.py; python_train fills in the $placeholders."""

TRAIN_PY = '''"""Train $title again outside nnstudio: the same data splits, initial weights and settings.

Needs only torch and numpy. Run it from anywhere:

    python train.py              # trains, prints metrics per epoch, saves trained.pt beside this file
    python train.py --epochs 5   # override the number of epochs (edit the constants for anything else)

data.npz holds the train / validation / test splits exactly as nnstudio prepared them, and the
model starts from initial.pt, the weights nnstudio initialised. Batches are drawn and steps taken
the way nnstudio's engine does it, with the same seed, so on the same device and torch version a
run of this script retraces the app's run.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # model.py sits beside this script

from model import Model  # noqa: E402

# The run's settings, from the project's training section.
TASK = $task
EPOCHS = $epochs
BATCH_SIZE = $batch_size
SEED = $seed
DEVICE = $device  # "auto": cuda when available, then mps, else cpu
PRECISION = $precision  # "fp32", or "bf16" / "fp16" through autocast
L1 = $l1  # penalties on weight matrices and kernels (dim >= 2), added to the loss
L2 = $l2
CLIP = $clip  # gradient clipping: "none", "norm" or "value"
MAX_NORM = $max_norm
CLIP_VALUE = $clip_value
EARLY_STOPPING = $early_stopping  # None, or (monitor, patience, min_delta, restore_best)
THRESHOLD = $threshold  # a binary output above this counts as the positive class
SCHEDULE_PER_STEP = $per_step  # advance the learning-rate schedule after every step, else every epoch
SCHEDULE_MONITOR = $monitor  # the metric a reduce-on-plateau schedule watches


${helpers}def make_optimizer(model: nn.Module) -> torch.optim.Optimizer:
    return $optimizer


def make_loss() -> nn.Module:
    return $loss


def make_scheduler(optimizer: torch.optim.Optimizer, steps_per_epoch: int):
    $scheduler


def load_splits() -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    with np.load(HERE / "data.npz") as data:
        return {name: (torch.from_numpy(data[f"x_{name}"]), torch.from_numpy(data[f"y_{name}"]))
                for name in ("train", "val", "test") if f"x_{name}" in data}


def pick_device(name: str) -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def penalty(model: nn.Module) -> torch.Tensor:
    weights = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    total = torch.zeros((), device=weights[0].device)
    if L1 > 0:
        total = total + L1 * sum(w.abs().sum() for w in weights)
    if L2 > 0:
        total = total + L2 * sum(w.square().sum() for w in weights)
    return total


def clip_gradients(model: nn.Module) -> None:
    if CLIP == "norm":
        nn.utils.clip_grad_norm_(model.parameters(), MAX_NORM, foreach=True)
    elif CLIP == "value":
        nn.utils.clip_grad_value_(model.parameters(), CLIP_VALUE, foreach=True)


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn: nn.Module, x: torch.Tensor, y: torch.Tensor,
             device: torch.device) -> dict[str, float]:
    """Mean loss plus accuracy (classification) or RMSE, MAE and R² (regression)."""
    model.eval()
    outputs = torch.cat([model(x[i:i + BATCH_SIZE].to(device)).float() for i in range(0, len(x), BATCH_SIZE)])
    y = y.to(device)
    metrics = {"loss": float(loss_fn(outputs, y))}
    if TASK == "classification":
        metrics["accuracy"] = float((outputs.argmax(-1) == y).float().mean())
    elif TASK == "binary":
        metrics["accuracy"] = float(((outputs > THRESHOLD).float() == y).float().mean())
    else:
        error = outputs - y
        metrics["rmse"] = float(error.square().mean().sqrt())
        metrics["mae"] = float(error.abs().mean())
        if TASK == "regression":
            spread = (y - y.mean()).square().sum()
            metrics["r2"] = float(1 - error.square().sum() / spread) if spread > 0 else float("nan")
    return metrics


def improved(value: float, best: float | None, monitor: str, min_delta: float) -> bool:
    if best is None:
        return True
    if monitor.endswith(("accuracy", "r2")):
        return value > best + min_delta
    return value < best - min_delta


def train(epochs: int = EPOCHS, device_name: str = DEVICE) -> nn.Module:
    """The same steps, in the same order and with the same random draws, as nnstudio's engine."""
    model = Model()  # its constructor draws random weights, replaced at once by nnstudio's initial ones
    model.load_state_dict(torch.load(HERE / "initial.pt", map_location="cpu", weights_only=True))
    torch.manual_seed(SEED)  # seeded after building the model, so dropout draws what the app's run drew
    shuffle = torch.Generator().manual_seed(SEED)
    device = pick_device(device_name)
    splits = load_splits()
    x_train, y_train = (t.to(device) for t in splits["train"])
    model.to(device).train()
    loss_fn = make_loss().to(device)
    optimizer = make_optimizer(model)
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    scheduler = make_scheduler(optimizer, steps_per_epoch)
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(PRECISION)
    scaler = torch.amp.GradScaler("cuda") if PRECISION == "fp16" and device.type == "cuda" else None
    use_penalty = (L1 > 0 or L2 > 0) and any(p.dim() >= 2 for p in model.parameters())
    best, best_state, waited = None, None, 0
    for epoch in range(1, epochs + 1):
        model.train()
        # Draw what DataLoader(shuffle=True, generator=shuffle) draws: a base seed, this epoch's order, and
        # the spare order its sampler makes (and throws away) when it runs dry.
        torch.empty((), dtype=torch.int64).random_(generator=shuffle)
        order = torch.randperm(len(x_train), generator=shuffle).to(device)
        torch.randperm(len(x_train), generator=shuffle)
        total = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            index = order[step * BATCH_SIZE:(step + 1) * BATCH_SIZE]
            x, y = x_train.index_select(0, index), y_train.index_select(0, index)
            optimizer.zero_grad()
            with torch.autocast(device.type, dtype=low or torch.float32, enabled=low is not None):
                loss = loss_fn(model(x), y)
            full = loss + penalty(model) if use_penalty else loss
            if scaler is not None:
                scaler.scale(full).backward()
                scaler.unscale_(optimizer)
            else:
                full.backward()
            clip_gradients(model)
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            if scheduler is not None and SCHEDULE_PER_STEP:
                scheduler.step()
            total += loss.detach()
        metrics = {"train_loss": float(total) / steps_per_epoch}
        if "val" in splits:
            metrics.update({f"val_{k}": v for k, v in evaluate(model, loss_fn, *splits["val"], device).items()})
        print(f"epoch {epoch}/{epochs}  " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
        if scheduler is not None and not SCHEDULE_PER_STEP:
            if SCHEDULE_MONITOR is None:
                scheduler.step()
            elif math.isfinite(metrics.get(SCHEDULE_MONITOR, float("nan"))):
                scheduler.step(metrics[SCHEDULE_MONITOR])
        if EARLY_STOPPING is not None:
            monitor, patience, min_delta, restore_best = EARLY_STOPPING
            value = metrics.get(monitor, float("nan"))
            if math.isfinite(value) and improved(value, best, monitor, min_delta):
                best, waited = value, 0
                if restore_best:
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
            if waited >= patience:
                print(f"early stop: {monitor} has not improved for {patience} epoch(s)")
                break
    if best_state is not None:
        model.load_state_dict(best_state)  # end with the best epoch's weights
    if "test" in splits:
        results = evaluate(model, loss_fn, *splits["test"], device)
        print("test  " + "  ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return model.cpu()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--device", default=DEVICE)
    args = parser.parse_args()
    trained = train(args.epochs, args.device)
    torch.save(trained.state_dict(), HERE / "trained.pt")
    print(f"saved {HERE / 'trained.pt'}")
'''
