"""Torch modules behind the primers' remaining blocks: RBF layers, capsules with dynamic routing, neural ODEs.

Like nnstudio.layers.modules this imports torch and is only imported when a graph is compiled (a Construct
names these classes by import path). Each class depends on nothing but torch and math, so Python export can
copy its source into a standalone model.py; the neural ODE imports torchdiffeq (the `ode` extra) only when it
is built, so the copied code needs it only where the block is used.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

TORCHDIFFEQ_MISSING = ('the NeuralODE block needs torchdiffeq, which is not installed. Install the extra with: '
                       'pip install "nnstudio[ode]"  (or: pip install torchdiffeq)')
ODE_ACTIVATIONS = {"tanh": "Tanh", "relu": "ReLU", "softplus": "Softplus", "elu": "ELU", "silu": "SiLU"}
FIXED_STEP_SOLVERS = ("euler", "rk4")


class RBF(nn.Module):
    """Gaussian radial basis functions over the last dim: φₖ(x) = exp(−‖x − cₖ‖² / 2σₖ²), one per centre.

    Widths are stored as log σ, so gradient steps can never make one negative; with `learn_widths` off they are
    a buffer (saved with the weights, so a checkpoint restores them). `centre_init` is only read by the trainer:
    "kmeans" asks it to place the centres on k-means clusters of the training data before the first step.
    """

    def __init__(self, in_features: int, centres: int, width: float = 1.0, learn_widths: bool = True,
                 centre_init: str = "random") -> None:
        super().__init__()
        # The constructor's arguments as public attributes: Python import reads a layer's params back from them.
        self.in_features, self.out_features = in_features, centres
        self.width, self.learn_widths, self.centre_init = width, learn_widths, centre_init
        self.centres = nn.Parameter(torch.randn(centres, in_features))  # N(0, 1): where standardised data lies
        log_width = torch.full((centres,), math.log(width))
        if learn_widths:
            self.log_width = nn.Parameter(log_width)
        else:
            self.register_buffer("log_width", log_width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # ‖x − c‖² = ‖x‖² − 2·x·c + ‖c‖²: one matrix product instead of an [N, K, D] difference tensor.
        squared = (x.square().sum(-1, keepdim=True) - 2 * x @ self.centres.t()
                   + self.centres.square().sum(-1)).clamp_min(0.0)
        return torch.exp(-squared / (2 * torch.exp(2 * self.log_width)))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, centres={self.out_features}, centre_init={self.centre_init!r}"


def squash(s: torch.Tensor, dim: int = -1, eps: float = 1e-8) -> torch.Tensor:
    """Sabour et al.'s non-linearity: keeps a vector's direction and maps its length ‖s‖ to ‖s‖² / (1 + ‖s‖²)."""
    squared = s.square().sum(dim, keepdim=True)
    return s * (squared / (1 + squared)) / torch.sqrt(squared + eps)


class Squash(nn.Module):
    """squash() as a block: short vectors shrink towards 0, long ones towards unit length."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return squash(x, self.dim)


class PrimaryCapsules(nn.Module):
    """A convolution whose output channels are read as capsules: [N, C, H, W] → [N, capsules·H'·W', dim].

    Every capsule type (`capsules` of them) has one `dim`-vector per position of the feature map, squashed so its
    length reads as the probability that its feature is present.
    """

    def __init__(self, in_channels: int, capsules: int, capsule_dim: int, kernel_size: int = 3, stride: int = 1,
                 padding: int = 0) -> None:
        super().__init__()
        self.capsules, self.capsule_dim = capsules, capsule_dim
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.conv = nn.Conv2d(in_channels, capsules * capsule_dim, kernel_size, stride, padding)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.conv(x)
        n, _, h, w = u.shape
        u = u.view(n, self.capsules, self.capsule_dim, h, w).permute(0, 1, 3, 4, 2)
        return squash(u.reshape(n, self.capsules * h * w, self.capsule_dim))


class RoutingCapsules(nn.Module):
    """Capsules from capsules by routing-by-agreement (Sabour, Frosst and Hinton 2017): [N, I, d] → [N, J, D].

    Each input capsule i predicts every output capsule j through its own matrix: û_{j|i} = W_ij · u_i. Coupling
    coefficients c_ij = softmax_j(b_ij) start uniform; each iteration forms s_j = Σ_i c_ij · û_{j|i}, squashes it
    into v_j, and raises b_ij by the agreement û_{j|i} · v_j, so inputs send their output where it is already
    agreed with. Gradients flow through every iteration, as in the paper.
    """

    def __init__(self, in_capsules: int, in_dim: int, capsules: int, capsule_dim: int, iterations: int = 3) -> None:
        super().__init__()
        self.in_capsules, self.in_dim = in_capsules, in_dim
        self.capsules, self.capsule_dim, self.iterations = capsules, capsule_dim, iterations
        # std 1/√in_dim keeps each prediction's entries about as large as the input capsule's, at any in_dim
        self.weight = nn.Parameter(torch.randn(in_capsules, capsules, capsule_dim, in_dim) / math.sqrt(in_dim))

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        predictions = torch.einsum("ijab,nib->nija", self.weight, u)  # û [N, I, J, D]
        logits = torch.zeros(predictions.shape[:3], dtype=predictions.dtype, device=predictions.device)
        for iteration in range(self.iterations):
            coupling = torch.softmax(logits, dim=2)  # each input capsule shares itself among the outputs
            v = squash((coupling.unsqueeze(-1) * predictions).sum(1))  # [N, J, D]
            if iteration < self.iterations - 1:
                logits = logits + (predictions * v.unsqueeze(1)).sum(-1)
        return v

    def extra_repr(self) -> str:
        return (f"in_capsules={self.in_capsules}, in_dim={self.in_dim}, capsules={self.capsules}, "
                f"capsule_dim={self.capsule_dim}, iterations={self.iterations}")


class CapsuleLength(nn.Module):
    """The length of each capsule vector: [N, ..., D] → [N, ...]. A class capsule's length is its score."""

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(v.square().sum(-1) + 1e-12)  # the epsilon keeps the gradient finite at v = 0


class MarginLoss(nn.Module):
    """CapsNet's margin loss on capsule lengths [N, C] against class indices [N], summed over classes, batch mean.

    The true class's capsule must be longer than m⁺, every other one shorter than m⁻; `down_weight` (λ) stops the
    many absent classes from shrinking every capsule early in training.
    """

    def __init__(self, m_plus: float = 0.9, m_minus: float = 0.1, down_weight: float = 0.5) -> None:
        super().__init__()
        self.m_plus = m_plus
        self.m_minus = m_minus
        self.down_weight = down_weight

    def forward(self, input: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        lengths = input.reshape(-1, input.shape[-1])
        present = F.one_hot(target.reshape(-1), lengths.shape[-1]).to(lengths.dtype)
        loss = (present * F.relu(self.m_plus - lengths).square()
                + self.down_weight * (1 - present) * F.relu(lengths - self.m_minus).square())
        return loss.sum(-1).mean()


class ODEFunction(nn.Module):
    """f(h, t) for a neural ODE: an MLP over the last dim, with t appended as one more input when asked."""

    def __init__(self, features: int, hidden: int, layers: int, activation: str, time_input: bool) -> None:
        super().__init__()
        self.time_input = time_input
        stack: list[nn.Module] = []
        width = features + (1 if time_input else 0)
        for _ in range(layers):
            stack += [nn.Linear(width, hidden), getattr(nn, ODE_ACTIVATIONS[activation])()]
            width = hidden
        stack.append(nn.Linear(width, features))
        self.net = nn.Sequential(*stack)
        self._evaluations = 0  # run-time state, not configuration: kept out of what Python import compares

    @property
    def evaluations(self) -> int:
        """Evaluations of f since the last solve began (forward and, for the adjoint, backward)."""
        return self._evaluations

    def start_counting(self) -> None:
        self._evaluations = 0

    def forward(self, t: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        self._evaluations += 1
        if self.time_input:
            h = torch.cat([h, t.to(h.dtype).expand(*h.shape[:-1], 1)], dim=-1)
        return self.net(h)


class NeuralODE(nn.Module):
    """h(T) from h(0) = x under dh/dt = f(h, t), solved by torchdiffeq (Chen et al. 2018): [N, ..., D] → same.

    Fixed-step solvers (euler, rk4) take `steps` equal steps; dopri5 adapts its steps to rtol and atol. With
    `adjoint` the backward pass solves the adjoint ODE instead of storing the forward solve, so memory no
    longer grows with the number of steps (at the price of a second solve).

    torchdiffeq checks its inputs and sizes its loops with Python on tensor values, which a trace or torch.export
    cannot follow. So while a graph is being traced or exported, fixed-step solves run as the same arithmetic
    unrolled into plain tensor ops (torchdiffeq's Euler and 3/8-rule RK4 on the same grid); dopri5, whose step
    count depends on the data, refuses to be exported.
    """

    def __init__(self, features: int, hidden: int = 64, layers: int = 2, activation: str = "tanh",
                 time_input: bool = True, solver: str = "dopri5", steps: int = 10, rtol: float = 1e-3,
                 atol: float = 1e-4, adjoint: bool = False, time: float = 1.0) -> None:
        super().__init__()
        try:
            import torchdiffeq  # noqa: F401  (checked here so a missing extra is reported when the model is built)
        except ImportError:
            raise ImportError(TORCHDIFFEQ_MISSING) from None
        self.features, self.hidden, self.layers, self.activation = features, hidden, layers, activation
        self.time_input = time_input
        self.func = ODEFunction(features, hidden, layers, activation, time_input)
        self.solver, self.steps, self.rtol, self.atol = solver, steps, rtol, atol
        self.adjoint = adjoint
        self.time = time
        # Derived from the constructor arguments, so it is not saved with the weights.
        self.register_buffer("times", torch.tensor([0.0, time]), persistent=False)

    def grid(self, func: object, y0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """`steps` equal steps from t[0] to t[-1], ends exact (torchdiffeq's grid_constructor; also used reversed
        by the adjoint). A step_size instead could round to one step more or less."""
        inner = torch.arange(1, self.steps, dtype=t.dtype, device=t.device) / self.steps
        return torch.cat([t[:1], t[0] + (t[-1] - t[0]) * inner, t[-1:]])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        times = self.times.to(x.dtype)
        if torch.jit.is_tracing() or torch.compiler.is_exporting():
            return self.unrolled(x, times)
        from torchdiffeq import odeint, odeint_adjoint

        fixed = self.solver in FIXED_STEP_SOLVERS
        options = {"grid_constructor": self.grid} if fixed else {}
        self.func.start_counting()
        if self.adjoint:
            path = odeint_adjoint(self.func, x, times, rtol=self.rtol, atol=self.atol, method=self.solver,
                                  options=options, adjoint_params=tuple(self.func.parameters()))
        else:
            path = odeint(self.func, x, times, rtol=self.rtol, atol=self.atol, method=self.solver, options=options)
        return path[-1]

    def unrolled(self, x: torch.Tensor, times: torch.Tensor) -> torch.Tensor:
        """The fixed-step solve as plain tensor ops, step for step what torchdiffeq computes."""
        if self.solver not in FIXED_STEP_SOLVERS:
            raise RuntimeError(f"a NeuralODE exports only with a fixed-step solver ({' or '.join(FIXED_STEP_SOLVERS)})"
                               f": {self.solver} chooses its steps from the data as it runs, which a traced or "
                               "exported graph cannot do")
        grid = self.grid(None, x, times)
        f, h = self.func, x
        for index in range(self.steps):
            t0, t1 = grid[index], grid[index + 1]
            dt = t1 - t0
            k1 = f(t0, h)
            if self.solver == "euler":
                h = h + dt * k1
                continue
            k2 = f(t0 + dt * (1 / 3), h + dt * k1 * (1 / 3))
            k3 = f(t0 + dt * (2 / 3), h + dt * (k2 - k1 * (1 / 3)))
            k4 = f(t1, h + dt * (k1 - k2 + k3))
            h = h + (k1 + 3 * (k2 + k3) + k4) * dt * 0.125
        return h

    def extra_repr(self) -> str:
        fixed = self.solver in FIXED_STEP_SOLVERS
        accuracy = f"steps={self.steps}" if fixed else f"rtol={self.rtol}, atol={self.atol}"
        return f"solver={self.solver!r}, {accuracy}, time={self.time}, adjoint={self.adjoint}"
