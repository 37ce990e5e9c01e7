"""Per-step cost of dataset.augment on the fast path: the augmentation call alone, and a training step with and
without it (the digits CNN, 64 samples per batch). Prints figures; pass --device cuda on a GPU machine.

    python benchmarks/bench_augment.py [--device cpu|cuda] [--repeats 200]
"""

from __future__ import annotations

import argparse
import time

import torch

from nnstudio.training.augment import batch_augment

LISTS = {
    "crop+flip+erasing": [{"type": "random_crop", "padding": 1}, {"type": "hflip"}, {"type": "random_erasing"}],
    "flip+affine+erasing": [{"type": "hflip"}, {"type": "affine"}, {"type": "random_erasing"}],
    "noise": [{"type": "gaussian_noise"}],
    "mixup": [{"type": "mixup", "alpha": 0.4}],
    "cutmix": [{"type": "cutmix"}],
}
SHAPES = {"64 x 1x8x8": (64, 1, 8, 8), "256 x 3x32x32": (256, 3, 32, 32)}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def per_call_ms(augment, x: torch.Tensor, y: torch.Tensor, repeats: int) -> float:
    for step in range(10):
        augment(x, y, step)
    _sync(x.device)
    start = time.perf_counter()
    for step in range(repeats):
        augment(x, y, step)
    _sync(x.device)
    return (time.perf_counter() - start) / repeats * 1000


def step_ms(device: torch.device, augment, repeats: int) -> float:
    """One plain training step of a small CNN on a batch of 64 digits-sized images, augmentation included."""
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(128, 64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10)).to(device)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x, y = torch.rand(64, 1, 8, 8, device=device), torch.randint(0, 10, (64,), device=device)

    def one(step: int) -> None:
        xb, yb = augment(x, y, step) if augment is not None else (x, y)
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()

    for step in range(10):
        one(step)
    _sync(device)
    start = time.perf_counter()
    for step in range(repeats):
        one(step)
    _sync(device)
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"device {device}, torch {torch.__version__}, threads {torch.get_num_threads()}")
    for shape_name, shape in SHAPES.items():
        x = torch.rand(*shape, device=device)
        y = torch.randint(0, 10, (shape[0],), device=device)
        for name, entries in LISTS.items():
            augment = batch_augment({"augment": entries}, shape[1:], 10, 0, device)
            print(f"augment {shape_name:>14}  {name:<20} {per_call_ms(augment, x, y, args.repeats):7.3f} ms/call")
    plain = step_ms(device, None, args.repeats)
    print(f"training step, 64 x 1x8x8, no augmentation         {plain:7.3f} ms")
    for name in ("crop+flip+erasing", "mixup"):
        augment = batch_augment({"augment": LISTS[name]}, (1, 8, 8), 10, 0, device)
        print(f"training step, 64 x 1x8x8, {name:<22}  {step_ms(device, augment, args.repeats):7.3f} ms")


if __name__ == "__main__":
    main()
