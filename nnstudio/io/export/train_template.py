"""The text of the exported train.py, in pieces; python_train picks them and fills in the $placeholders.

Every train.py is HEAD, its settings, COMMON (the helpers every run needs) and MAIN. A graph without loss nodes
trains `make_loss()(model(x), y)` (PLAIN_SETTINGS, PLAIN); a graph that declares its own objective trains an
Objective module built around the model (objective_template). NODE_TRAINING joins when nodes are frozen or
have their own learning rate.
"""

# What HEAD imports; import lines that copied helpers need join them in the same block.
IMPORTS = ["import argparse", "import math", "import os", "import sys", "from pathlib import Path",
           "import numpy as np", "import torch", "import torch.distributed as dist", "from torch import nn"]

HEAD = '''"""Train $title again outside nnstudio: $what.

Needs only torch and numpy. Run it from anywhere:

    python train.py              # trains, prints metrics per epoch, saves trained.pt beside this file
    python train.py --epochs 5   # override the number of epochs (edit the constants for anything else)
    torchrun --nproc_per_node=2 train.py   # the same training with DistributedDataParallel on 2 processes

data.npz holds the train / validation / test splits exactly as nnstudio prepared them, and the
model starts from initial.pt, the weights nnstudio initialised. Batches are drawn and steps taken
the way nnstudio's engine does it, with the same seed, so on the same device and torch version a
run of this script retraces the app's run.

Under torchrun (which sets RANK and WORLD_SIZE) each process joins the process group (gloo on CPU, nccl
on CUDA) and trains on its share of every epoch, drawn like torch.utils.data.DistributedSampler; BATCH_SIZE
stays the global batch, split evenly over the processes, so it must be a multiple of their number. Only
rank 0 prints and saves. Such a run matches `nnstudio train --distributed` under the same torchrun command.
"""

from __future__ import annotations

$imports

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # model.py sits beside this script

from model import $model_imports  # noqa: E402

# The run's settings, from the project's training section.
'''

COMMON_SETTINGS = '''EPOCHS = $epochs
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
SCHEDULE_PER_STEP = $per_step  # advance the learning-rate schedule after every step, else every epoch
SCHEDULE_MONITOR = $monitor  # the metric a reduce-on-plateau schedule watches
TORCHRUN = "RANK" in os.environ and "WORLD_SIZE" in os.environ  # torchrun sets these for each process
'''

PLAIN_SETTINGS = '''TASK = $task
THRESHOLD = $threshold  # a binary output above this counts as the positive class
'''

NODE_TRAINING_SETTINGS = '''
# Nodes the graph trains differently, by attribute name (the node names): frozen ones get no gradient and
# stay out of the optimizer, and their batch-norm statistics stay fixed too unless the node updates them.
FROZEN = $frozen
FIXED_STATISTICS = $fixed_statistics
LR = $lr  # the optimizer's learning rate; a node in LR_SCALES learns at LR * its scale
LR_SCALES = $lr_scales
'''

MAKERS = '''

${helpers}def make_optimizer($network: nn.Module) -> torch.optim.Optimizer:
    return $optimizer


def make_scheduler(optimizer: torch.optim.Optimizer, steps_per_epoch: int, epochs: int = EPOCHS):
    """The learning-rate schedule, sized for the epochs this run trains (--epochs), as nnstudio train sizes it."""
    $scheduler
'''

PLAIN_LOSS = '''

def make_loss() -> nn.Module:
    return $loss
'''

NODE_TRAINING = '''

def keep_eval(module: nn.Module, args) -> None:
    module.training = False  # a forward pre-hook: this batch-norm layer always uses its running statistics


def freeze_nodes(network: nn.Module) -> None:
    """Turn off the gradients of FROZEN nodes and fix the statistics of FIXED_STATISTICS ones, as nnstudio does."""
    for name in FROZEN:
        network.get_submodule(name).requires_grad_(False)
    for name in FIXED_STATISTICS:
        for module in network.get_submodule(name).modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.register_forward_pre_hook(keep_eval)


def param_groups(network: nn.Module) -> list[dict]:
    """The trainable parameters in one group per learning-rate scale, the unscaled group first."""
    groups: dict[float, list[nn.Parameter]] = {}
    for name, parameter in network.named_parameters():
        if parameter.requires_grad:
            groups.setdefault(LR_SCALES.get(name.split(".")[0], 1.0), []).append(parameter)
    ordered = sorted(groups.items(), key=lambda item: item[0] != 1.0)
    return [{"params": params, "lr": LR * scale, "lr_scale": scale} for scale, params in ordered]
'''

COMMON = '''

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


def start_distributed(device: torch.device) -> tuple[int, int, torch.device]:
    """(rank, world size, device): joins torchrun's process group when torchrun started this process."""
    if not TORCHRUN:
        return 0, 1, device
    world = int(os.environ["WORLD_SIZE"])
    if BATCH_SIZE % world:
        raise SystemExit(f"BATCH_SIZE {BATCH_SIZE} is the global batch: use a multiple of the {world} processes")
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")  # gloo, the CPU backend
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), world, device


def shard(count: int, rank: int, world: int, epoch: int) -> torch.Tensor:
    """This rank's samples, as DistributedSampler(shuffle=True, seed=SEED) yields them after set_epoch(epoch - 1):
    one shared shuffle, padded with its start to a multiple of world, then dealt out round-robin."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(SEED + epoch - 1))
    total = math.ceil(count / world) * world
    order = torch.cat([order, order.repeat(math.ceil(total / count))[:total - count]])
    return order[rank:total:world]


def epoch_order(count: int, rank: int, world: int, epoch: int, shuffle: torch.Generator,
                device: torch.device) -> torch.Tensor:
    """The order of this epoch's samples on this process: its shard under torchrun, else what
    DataLoader(shuffle=True, generator=shuffle) draws: a base seed, this epoch's order, and the spare order
    its sampler makes (and throws away) when it runs dry."""
    if TORCHRUN:
        return shard(count, rank, world, epoch).to(device)
    torch.empty((), dtype=torch.int64).random_(generator=shuffle)
    order = torch.randperm(count, generator=shuffle).to(device)
    torch.randperm(count, generator=shuffle)
    return order


def autocast(device: torch.device):
    low = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(PRECISION)
    return torch.autocast(device.type, dtype=low or torch.float32, enabled=low is not None)


def penalty(network: nn.Module) -> torch.Tensor:
    weights = [p for p in network.parameters() if p.requires_grad and p.dim() >= 2]
    total = torch.zeros((), device=weights[0].device)
    if L1 > 0:
        total = total + L1 * sum(w.abs().sum() for w in weights)
    if L2 > 0:
        total = total + L2 * sum(w.square().sum() for w in weights)
    return total


def clip_gradients(network: nn.Module) -> None:
    if CLIP == "norm":
        nn.utils.clip_grad_norm_(network.parameters(), MAX_NORM, foreach=True)
    elif CLIP == "value":
        nn.utils.clip_grad_value_(network.parameters(), CLIP_VALUE, foreach=True)


class Stepper:
    """After a batch's forward pass: the penalty, backward (scaled under fp16), clipping, the optimizer step
    and a per-step schedule, in the order nnstudio's engine takes them."""

    def __init__(self, network: nn.Module, optimizer: torch.optim.Optimizer, scheduler, device: torch.device):
        self.network, self.optimizer, self.scheduler = network, optimizer, scheduler
        self.scaler = torch.amp.GradScaler("cuda") if PRECISION == "fp16" and device.type == "cuda" else None
        self.use_penalty = (L1 > 0 or L2 > 0) and any(p.requires_grad and p.dim() >= 2
                                                      for p in network.parameters())

    def step(self, loss: torch.Tensor) -> None:
        full = loss + penalty(self.network) if self.use_penalty else loss
        if self.scaler is not None:
            self.scaler.scale(full).backward()
            self.scaler.unscale_(self.optimizer)
        else:
            full.backward()
        clip_gradients(self.network)
        if self.scaler is not None:
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            self.optimizer.step()
        if self.scheduler is not None and SCHEDULE_PER_STEP:
            self.scheduler.step()

    def end_epoch(self, metrics: dict[str, float]) -> None:
        if self.scheduler is None or SCHEDULE_PER_STEP:
            return
        if SCHEDULE_MONITOR is None:
            self.scheduler.step()
        elif math.isfinite(metrics.get(SCHEDULE_MONITOR, float("nan"))):
            self.scheduler.step(metrics[SCHEDULE_MONITOR])


def mean_over_ranks(sums: torch.Tensor, network: nn.Module, world: int) -> torch.Tensor:
    """The epoch's loss sums averaged over all ranks. Every rank then scores the whole validation split with
    rank 0's weights and buffers, so all ranks take the same early-stopping decisions."""
    if TORCHRUN:
        dist.all_reduce(sums)
        sums /= world
        for buffer in network.buffers():
            dist.broadcast(buffer, 0)
    return sums


def improved(value: float, best: float | None, monitor: str, min_delta: float) -> bool:
    if best is None:
        return True
    if monitor.endswith(("accuracy", "r2")):
        return value > best + min_delta
    return value < best - min_delta


class EarlyStopping:
    """Follows EARLY_STOPPING's monitor; keeps the best epoch's weights when it restores them."""

    def __init__(self) -> None:
        self.best: float | None = None
        self.best_state: dict[str, torch.Tensor] | None = None
        self.waited = 0

    def should_stop(self, metrics: dict[str, float], network: nn.Module, rank: int) -> bool:
        if EARLY_STOPPING is None:
            return False
        monitor, patience, min_delta, restore_best = EARLY_STOPPING
        value = metrics.get(monitor, float("nan"))
        if math.isfinite(value) and improved(value, self.best, monitor, min_delta):
            self.best, self.waited = value, 0
            if restore_best:
                self.best_state = {k: v.detach().clone() for k, v in network.state_dict().items()}
        else:
            self.waited += 1
        if self.waited < patience:
            return False
        if rank == 0:
            print(f"early stop: {monitor} has not improved for {patience} epoch(s)")
        return True
'''

PLAIN = '''

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


def train(epochs: int = EPOCHS, device_name: str = DEVICE) -> nn.Module:
    """The same steps, in the same order and with the same random draws, as nnstudio's engine."""
    model = Model()  # its constructor draws random weights, replaced at once by nnstudio's initial ones
    model.load_state_dict(torch.load(HERE / "initial.pt", map_location="cpu", weights_only=True))
    rank, world, device = start_distributed(pick_device(device_name))
    torch.manual_seed(SEED + rank)  # seeded after building the model, so dropout draws what the app's run drew
    shuffle = torch.Generator().manual_seed(SEED)
    splits = load_splits()
    x_train, y_train = (t.to(device) for t in splits["train"])
    model.to(device).train()
${freeze}    net = model
    if TORCHRUN:  # DDP averages the gradients of all ranks in backward()
        ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    batch = BATCH_SIZE // world  # samples per step on this process
    loss_fn = make_loss().to(device)
    optimizer = make_optimizer(model)
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    stepper = Stepper(model, optimizer, make_scheduler(optimizer, steps_per_epoch, epochs), device)
    stopping = EarlyStopping()
    for epoch in range(1, epochs + 1):
        model.train()
        order = epoch_order(len(x_train), rank, world, epoch, shuffle, device)
        total = torch.zeros((), device=device)
        for step in range(steps_per_epoch):
            index = order[step * batch:(step + 1) * batch]
            x, y = x_train.index_select(0, index), y_train.index_select(0, index)
            optimizer.zero_grad()
            with autocast(device):
                loss = loss_fn(net(x), y)
            stepper.step(loss)
            total += loss.detach()
        metrics = {"train_loss": float(mean_over_ranks(total, model, world)) / steps_per_epoch}
        if "val" in splits:
            metrics.update({f"val_{k}": v for k, v in evaluate(model, loss_fn, *splits["val"], device).items()})
        if rank == 0:
            print(f"epoch {epoch}/{epochs}  " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
        stepper.end_epoch(metrics)
        if stopping.should_stop(metrics, model, rank):
            break
    if stopping.best_state is not None:
        model.load_state_dict(stopping.best_state)  # end with the best epoch's weights
    if "test" in splits:
        results = evaluate(model, loss_fn, *splits["test"], device)
        if rank == 0:
            print("test  " + "  ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return model.cpu()
'''

MAIN = '''

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--device", default=DEVICE)
    args = parser.parse_args()
    try:
        trained = train(args.epochs, args.device)
        if not TORCHRUN or dist.get_rank() == 0:
            torch.save(trained.state_dict(), HERE / "trained.pt")
            print(f"saved {HERE / 'trained.pt'}")
        if TORCHRUN:
            dist.barrier()  # leave together: tearing gloo down while rank 0 still saves can abort a rank
    finally:
        if TORCHRUN and dist.is_initialized():
            dist.destroy_process_group()
'''
