"""The pieces of train.py for a graph that declares its own objective (loss nodes); see train_template.

Such a train.py builds `Objective(model)`, whose forward() is the compiled objective graph's own code: it takes
every Input and Target (each reading the dataset field named in FIELDS) and returns the weighted total, the
terms, and the (prediction, target) pairs the metrics score, exactly as nnstudio's objective does.
"""

OBJECTIVE_SETTINGS = '''
# The objective the graph declares with its loss nodes.
FIELDS = $fields  # the dataset field each Objective.forward() argument reads: x or y
TERMS = $terms  # the loss nodes, weighted in Objective.forward(): total = $objective
HEADS = $heads  # (name, task, threshold) of each scored prediction
EVAL_BATCH = 1024  # samples per evaluation batch, as nnstudio scores a split
UNUSED_PARAMETERS = $unused  # whether some trainable parameters get no gradient (DDP must then look for them)
'''

OBJECTIVE = '''

def fields(x: torch.Tensor, y: torch.Tensor) -> list[torch.Tensor]:
    """The arguments of Objective.forward() for a batch: each Input and Target gets its dataset field."""
    return [x if field == "x" else y for field in FIELDS]


def head_metrics(task: str, threshold: float, output: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Accuracy (classification, binary) or RMSE, MAE and R² (regression; a reconstruction has no R²)."""
    if task == "classification":
        return {"accuracy": float((output.argmax(-1).reshape(-1) == target.reshape(-1)).double().mean())}
    if task == "binary":
        hits = (output.reshape(target.shape) > threshold) == (target > 0.5)
        return {"accuracy": float(hits.double().mean())}
    error = (output.reshape(target.shape) - target).double()
    metrics = {"rmse": float(error.square().mean().sqrt()), "mae": float(error.abs().mean())}
    if task == "regression":
        truth = target.double()
        spread = (truth - truth.mean()).square().sum()
        metrics["r2"] = float(1 - error.square().sum() / spread) if spread > 0 else float("nan")
    return metrics


@torch.no_grad()
def evaluate(objective: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> dict[str, float]:
    """The mean total (loss) and terms (loss_<term>) in eval mode, plus each head's metrics."""
    objective.eval()
    sums = torch.zeros(1 + len(TERMS), dtype=torch.float64, device=device)
    pairs: list[tuple[list[torch.Tensor], list[torch.Tensor]]] = [([], []) for _ in HEADS]
    for i in range(0, len(x), EVAL_BATCH):
        xb, yb = x[i:i + EVAL_BATCH].to(device), y[i:i + EVAL_BATCH].to(device)
        with autocast(device):
            total, terms, predictions, targets = objective(*fields(xb, yb))
        sums += torch.stack([total.double(), *(t.double() for t in terms)]) * len(xb)
        for (outputs, wanted), prediction, target in zip(pairs, predictions, targets):
            outputs.append(prediction.float())
            wanted.append(target)
    means = (sums / len(x)).tolist()
    metrics = {"loss": means[0], **{f"loss_{name}": value for name, value in zip(TERMS, means[1:])}}
    for (name, task, threshold), (outputs, wanted) in zip(HEADS, pairs):
        prefix = "" if len(HEADS) == 1 else f"{name}_"
        scores = head_metrics(task, threshold, torch.cat(outputs), torch.cat(wanted))
        metrics.update({prefix + key: value for key, value in scores.items()})
    return metrics


def train(epochs: int = EPOCHS, device_name: str = DEVICE) -> nn.Module:
    """The same steps, in the same order and with the same random draws, as nnstudio's engine."""
    model = Model()  # its constructor draws random weights, replaced at once by nnstudio's initial ones
    objective = Objective(model)  # the model's own layers, plus what only the losses use
    objective.load_state_dict(torch.load(HERE / "initial.pt", map_location="cpu", weights_only=True))
    rank, world, device = start_distributed(pick_device(device_name))
    torch.manual_seed(SEED + rank)  # seeded after building the model, so noise draws what the app's run drew
    shuffle = torch.Generator().manual_seed(SEED)
    splits = load_splits()
    x_train, y_train = (t.to(device) for t in splits["train"])
    objective.to(device).train()
${freeze}    net = objective
    if TORCHRUN:  # DDP averages the gradients of all ranks in backward()
        ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(objective, device_ids=ids,
                                                  find_unused_parameters=UNUSED_PARAMETERS)
    batch = BATCH_SIZE // world  # samples per step on this process
    optimizer = make_optimizer(objective)
    steps_per_epoch = math.ceil(len(x_train) / BATCH_SIZE)
    stepper = Stepper(objective, optimizer, make_scheduler(optimizer, steps_per_epoch, epochs), device)
    stopping = EarlyStopping()
    for epoch in range(1, epochs + 1):
        objective.train()
        order = epoch_order(len(x_train), rank, world, epoch, shuffle, device)
        sums = torch.zeros(1 + len(TERMS), device=device)  # the epoch's [total, term ...]
        for step in range(steps_per_epoch):
            index = order[step * batch:(step + 1) * batch]
            x, y = x_train.index_select(0, index), y_train.index_select(0, index)
            optimizer.zero_grad()
            with autocast(device):
                total, terms, _, _ = net(*fields(x, y))
            stepper.step(total)
            sums += torch.stack([total.detach().float(), *(t.detach().float() for t in terms)])
        means = (mean_over_ranks(sums, objective, world).double() / steps_per_epoch).tolist()
        metrics = {"train_loss": means[0], **{f"train_loss_{name}": v for name, v in zip(TERMS, means[1:])}}
        if "val" in splits:
            metrics.update({f"val_{k}": v for k, v in evaluate(objective, *splits["val"], device).items()})
        if rank == 0:
            print(f"epoch {epoch}/{epochs}  " + "  ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
        stepper.end_epoch(metrics)
        if stopping.should_stop(metrics, objective, rank):
            break
    if stopping.best_state is not None:
        objective.load_state_dict(stopping.best_state)  # end with the best epoch's weights
    if "test" in splits:
        results = evaluate(objective, *splits["test"], device)
        if rank == 0:
            print("test  " + "  ".join(f"{k} {v:.4f}" for k, v in results.items()))
    return model.cpu()  # the inference model: trained.pt holds what model.py loads
'''

OBJECTIVE_CLASS = '''class Objective(nn.Module):
    """What training minimises: $objective, from the graph's loss nodes.

$about
    """

    def __init__(self, model: Model) -> None:
        super().__init__()
$inits

$forward


'''
