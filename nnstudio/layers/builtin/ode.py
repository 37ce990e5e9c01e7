"""The neural-ODE block: a continuous-depth layer that integrates dh/dt = f(h, t) from t = 0 to T.

torchdiffeq (the `ode` extra) solves it, and only when the graph is built: without the extra the block still
validates and infers its shape, and compiling says in one line how to install it.
"""

from __future__ import annotations

from nnstudio.layers.builtin.common import require_float
from nnstudio.layers.params import bool_param, choice_param, float_param, int_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, ShapeError, TensorType

MODULES = "nnstudio.layers.block_modules."
SOLVERS = ("dopri5", "rk4", "euler")
ACTIVATIONS = ("tanh", "relu", "softplus", "elu", "silu")  # block_modules.ODE_ACTIVATIONS maps them to modules
_DEFAULTS = {"hidden": 64, "layers": 2, "activation": "tanh", "time_input": True, "solver": "dopri5", "steps": 10,
             "rtol": 1e-3, "atol": 1e-4, "adjoint": False, "time": 1.0}


def _infer_ode(params, inputs: Inputs) -> TensorType:
    h = inputs.one()
    require_float(h)
    if not h.shape:
        raise ShapeError(f"expects a state with at least one feature dimension, got {h}", "in")
    return h


def _build_ode(params, types: Inputs) -> Construct:
    kwargs = {"features": types.one().shape[-1]}
    kwargs.update({name: params[name] for name, default in _DEFAULTS.items() if params[name] != default})
    return Construct(MODULES + "NeuralODE", kwargs)


SPECS = [
    LayerSpec(
        type="NeuralODE",
        category="ODE",
        title="Neural ODE",
        summary="Evolves its input along dh/dt = f(h, t) for a time T; f is a small MLP.",
        explanation=(
            "A layer of continuous depth (Chen et al. 2018): instead of a stack of residual layers "
            "h ← h + f(h), the state flows along an ODE whose right-hand side f is a small MLP, and a solver "
            "decides how many evaluations of f that takes. The output has the input's shape. dopri5 adapts its "
            "steps to rtol and atol; euler and rk4 take `steps` fixed steps. The adjoint option trains with "
            "memory that does not grow with the number of steps, at the cost of solving a second ODE backwards. "
            "A flow cannot make paths cross, so widen the state with a Linear first when classes are nested. "
            "Needs torchdiffeq: pip install \"nnstudio[ode]\"."
        ),
        formula="dh/dt = f_θ(h, t),  h(0) = x,  y = h(T)",
        infer=_infer_ode,
        build=_build_ode,
        params=(
            int_param("hidden", 64, "Width of f's hidden layers.", 1),
            int_param("layers", 2, "Hidden layers in f.", 1, 8),
            choice_param("activation", "tanh", ACTIVATIONS, "Non-linearity between f's layers; a smooth one "
                         "(tanh, softplus) keeps the flow easy to solve."),
            bool_param("time_input", True, "Give f the time t as one more input, so the flow can change over time."),
            choice_param("solver", "dopri5", SOLVERS, "dopri5: adaptive Runge-Kutta 4(5); rk4 and euler: fixed "
                         "steps."),
            int_param("steps", 10, "Fixed steps over [0, T] for euler and rk4.", 1, 10_000),
            float_param("rtol", 1e-3, "Relative error tolerance of the adaptive solver.", 1e-12, 1.0),
            float_param("atol", 1e-4, "Absolute error tolerance of the adaptive solver.", 1e-12, 1.0),
            bool_param("adjoint", False, "Backpropagate by solving the adjoint ODE: constant memory in the number "
                       "of steps, slower."),
            float_param("time", 1.0, "Integration time T: the state at t = T is the output.", 1e-6),
        ),
        glyph="ḣ",
        key_params=("solver", "time"),
        has_weights=True,
    ),
]
