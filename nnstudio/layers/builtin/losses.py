"""Loss nodes: the graph's objective, declared like every other block.

A loss node takes tensors from the graph (a prediction, a Target, a code) and gives one scalar. The trainer
minimises Σ weight · term over every loss node and records each term on its own curve. The `LossRole` says
which port holds the prediction and which the target, so metrics (accuracy, RMSE) follow the objective too.
"""

from __future__ import annotations

from dataclasses import replace

from nnstudio.layers.builtin.common import require_float
from nnstudio.layers.params import ParamKind, ParamSpec, choice_param, float_param
from nnstudio.layers.spec import Construct, Inputs, LayerSpec, LossRole, PortSpec, ShapeError, TensorType

SCALAR = TensorType(())  # the type a loss node records: one number for the whole batch
MODULES = "nnstudio.layers.objective_modules."

WEIGHT = float_param("weight", 1.0, "How much this term counts in the total the trainer minimises.", 0.0)
CLASS_WEIGHTS = ParamSpec("class_weights", ParamKind.FLOAT_LIST, None,
                          "One weight per class, to count rare classes more.", minimum=0.0, optional=True)
CLASS_PORTS = (PortSpec("input", "Logits [N, C] (or [N, ..., C])."),
               PortSpec("target", "Class indices [N] (or [N, ...]), int64: from a Target."))
VALUE_PORTS = (PortSpec("input", "The prediction."), PortSpec("target", "What it should be, of the same shape."))


def _classes(params, inputs: Inputs, what: str) -> TensorType:
    scores, target = inputs.one("input"), inputs.one("target")
    require_float(scores, "input")
    if not scores.shape:
        raise ShapeError(f"expects {what} [N, C], got {scores}", "input")
    if target.dtype != "int64":
        raise ShapeError(f"expects class indices (int64, from a Target with dtype int64), got {target}; for "
                         "one-hot or probability targets use a BCE or MSE loss", "target")
    if target.shape != scores.shape[:-1]:
        wanted = TensorType(scores.shape[:-1], "int64")
        raise ShapeError(f"expects targets {wanted} for {what} {scores} (one class index per row), got {target}",
                         "target")
    weights = params.get("class_weights")
    if weights is not None and len(weights) != scores.shape[-1]:
        raise ShapeError(f"class_weights has {len(weights)} entries but {scores} has {scores.shape[-1]} classes",
                         "input")
    return SCALAR


def _values(params, inputs: Inputs) -> TensorType:
    prediction, target = inputs.one("input"), inputs.one("target")
    require_float(prediction, "input")
    require_float(target, "target")
    if prediction.shape != target.shape:
        raise ShapeError(f"compares {prediction} with {target}: the prediction and the target must have the same "
                         "shape", "target")
    return SCALAR


def _emit_pair(build):
    def emit(ctx, params, values: Inputs, types: Inputs):
        return ctx.module(build(params, types), values.one("input"), values.one("target"))

    return emit


def _build_ce(params, types) -> Construct:
    kwargs = {"class_weights": params["class_weights"]} if params["class_weights"] is not None else {}
    if params["label_smoothing"]:
        kwargs["label_smoothing"] = params["label_smoothing"]
    return Construct(MODULES + "CrossEntropyTerm", kwargs)


def _build_nll(params, types) -> Construct:
    weights = params["class_weights"]
    return Construct(MODULES + "NLLTerm", {"class_weights": weights} if weights is not None else {})


def _build_huber(params, types) -> Construct:
    return Construct("torch.nn.HuberLoss", {"delta": params["delta"]} if params["delta"] != 1.0 else {})


def _simple(target: str):
    return lambda params, types: Construct(target)


def _infer_kl(params, inputs: Inputs) -> TensorType:
    mu, logvar = inputs.one("mu"), inputs.one("logvar")
    require_float(mu, "mu")
    require_float(logvar, "logvar")
    if mu.shape != logvar.shape:
        raise ShapeError(f"mu is {mu} but logvar is {logvar}; both describe one Gaussian per latent dim, so their "
                         "shapes must match", "logvar")
    return SCALAR


def _emit_kl(ctx, params, values: Inputs, types: Inputs):
    return ctx.module(Construct(MODULES + "GaussianKL"), values.one("mu"), values.one("logvar"))


def _infer_distill(params, inputs: Inputs) -> TensorType:
    student, teacher = inputs.one("student"), inputs.one("teacher")
    require_float(student, "student")
    require_float(teacher, "teacher")
    if not student.shape:
        raise ShapeError(f"expects logits [N, C], got {student}", "student")
    if student.shape != teacher.shape:
        classes = teacher.shape[-1] if teacher.shape else 0
        raise ShapeError(f"the student gives {student} but the teacher gives {teacher}: both must score the same "
                         f"classes (the student has {student.shape[-1]}, the teacher {classes})", "teacher")
    return SCALAR


def _emit_distill(ctx, params, values: Inputs, types: Inputs):
    construct = Construct(MODULES + "DistillationKL", {"temperature": params["temperature"]})
    return ctx.module(construct, values.one("student"), values.one("teacher"))


def _infer_activity(params, inputs: Inputs) -> TensorType:
    require_float(inputs.one(), "in")
    return SCALAR


def _emit_activity(ctx, params, values: Inputs, types: Inputs):
    kwargs = {} if params["reduction"] == "mean" else {"reduction": params["reduction"]}
    return ctx.module(Construct(MODULES + "ActivityL1", kwargs), values.one())


def _build_margin(params, types) -> Construct:
    defaults = {"m_plus": 0.9, "m_minus": 0.1, "down_weight": 0.5}
    return Construct("nnstudio.layers.block_modules.MarginLoss",
                     {name: params[name] for name, default in defaults.items() if params[name] != default})


def _check_margin(params) -> list[tuple[str, str]]:
    if params["m_minus"] < params["m_plus"]:
        return []
    return [("m_minus", f"must be smaller than m_plus ({params['m_plus']}), got {params['m_minus']}")]


def _loss(type_: str, title: str, summary: str, explanation: str, formula: str, infer, emit, *,
          params: tuple[ParamSpec, ...] = (), inputs=VALUE_PORTS, role: LossRole | None = None,
          glyph: str = "Σ") -> LayerSpec:
    """A loss node: category, role, scalar result and the shared `weight` param come from here."""
    return LayerSpec(type=type_, category="Losses", title=title, summary=summary, explanation=explanation,
                     formula=formula, infer=infer, emit=emit, params=(WEIGHT, *params), inputs=inputs,
                     outputs=(), glyph=glyph, key_params=("weight",), role="loss", loss=role or LossRole())


_CLASSIFY = LossRole("input", "target", "classification")

SPECS = [
    _loss("CrossEntropyLoss", "Cross-entropy loss", "Scores logits against class indices.",
          "The standard loss for choosing one class among several. Feed it raw logits (no Softmax before it): "
          "it applies log-softmax itself. Class weights count rare classes more; label smoothing spreads a "
          "little of the target probability over every class, which calibrates overconfident models.",
          "L = −(1/N) Σₙ w[yₙ] · log softmax(xₙ)[yₙ]", lambda p, i: _classes(p, i, "logits"),
          _emit_pair(_build_ce), role=_CLASSIFY, inputs=CLASS_PORTS,
          params=(CLASS_WEIGHTS, float_param("label_smoothing", 0.0, "Share of the target probability spread over "
                                             "all classes.", 0.0, 0.999))),
    _loss("NLLLoss", "Negative log-likelihood", "Scores log-probabilities against class indices.",
          "Like cross-entropy, but for a model that already ends in LogSoftmax.",
          "L = −(1/N) Σₙ w[yₙ] · xₙ[yₙ]", lambda p, i: _classes(p, i, "log-probabilities"),
          _emit_pair(_build_nll), role=_CLASSIFY, inputs=CLASS_PORTS, params=(CLASS_WEIGHTS,)),
    _loss("BCELoss", "Binary cross-entropy", "Scores probabilities in [0, 1] against 0/1 targets.",
          "For yes/no outputs that already went through a Sigmoid, and for reconstructions of data in [0, 1] "
          "(a VAE on images). Prefer BCE with logits when you can: it is numerically safer.",
          "L = −mean(y · log p + (1 − y) · log(1 − p))", _values, _emit_pair(_simple("torch.nn.BCELoss")),
          role=LossRole("input", "target", "binary", 0.5)),
    _loss("BCEWithLogitsLoss", "BCE with logits", "Scores raw logits against 0/1 targets.",
          "Binary cross-entropy that applies the sigmoid itself, in a numerically stable form. Use it for "
          "binary and multi-label heads that output raw scores.",
          "L = −mean(y · log σ(x) + (1 − y) · log(1 − σ(x)))", _values,
          _emit_pair(_simple("torch.nn.BCEWithLogitsLoss")), role=LossRole("input", "target", "binary", 0.0)),
    _loss("MSELoss", "Mean squared error", "Squared difference between prediction and target.",
          "The usual regression and reconstruction loss. Large errors count much more than small ones.",
          "L = mean((x − y)²)", _values, _emit_pair(_simple("torch.nn.MSELoss")),
          role=LossRole("input", "target", "regression")),
    _loss("L1Loss", "Mean absolute error", "Absolute difference between prediction and target.",
          "A regression loss that is less swayed by outliers than MSE, and yields sharper reconstructions.",
          "L = mean(|x − y|)", _values, _emit_pair(_simple("torch.nn.L1Loss")),
          role=LossRole("input", "target", "regression")),
    _loss("HuberLoss", "Huber loss", "Squared for small errors, linear for large ones.",
          "Combines MSE's smoothness near zero with L1's robustness to outliers; delta sets where it switches.",
          "L = mean(½(x − y)² if |x − y| < δ else δ(|x − y| − ½δ))", _values, _emit_pair(_build_huber),
          role=LossRole("input", "target", "regression"),
          params=(float_param("delta", 1.0, "Errors smaller than this are squared, larger ones count linearly.",
                              1e-12),)),
    _loss("GaussianKLLoss", "Gaussian KL divergence", "KL of N(mu, exp(logvar)) from the prior N(0, I).",
          "The regulariser of a variational autoencoder: it pulls the encoder's distribution towards a unit "
          "Gaussian, so that codes drawn from the prior decode to plausible samples. Summed over latent dims and "
          "averaged over the batch; with a BCE or MSE reconstruction term it forms the (negative) ELBO. Its "
          "weight is the β of a β-VAE.",
          "KL = −½ · (1/N) Σₙ Σⱼ (1 + logvar − mu² − exp(logvar))", _infer_kl, _emit_kl,
          inputs=(PortSpec("mu", "The mean of the code [N, D]."), PortSpec("logvar", "Its log-variance [N, D].")),
          glyph="KL"),
    _loss("DistillationLoss", "Distillation loss", "Teaches a student the teacher's softened outputs.",
          "Knowledge distillation (Hinton et al.): the student matches the teacher's class probabilities at "
          "temperature T, which carry more information than hard labels (which wrong classes look alike). The "
          "teacher is usually a frozen, pretrained branch of the same graph; mix this term with a cross-entropy "
          "on the true labels.",
          "L = T² · KL(softmax(t / T) ‖ softmax(s / T))", _infer_distill, _emit_distill,
          inputs=(PortSpec("student", "The student's logits [N, C]."),
                  PortSpec("teacher", "The teacher's logits [N, C]; no gradient flows into it.")),
          params=(float_param("temperature", 4.0, "Softens both distributions; higher shows more of the "
                              "teacher's ranking of wrong classes.", 1e-3, 1000.0),), glyph="T²"),
    _loss("ActivityL1Loss", "Activity penalty (L1)", "Pushes a tensor's values towards zero.",
          "An L1 penalty on activations rather than weights. On an autoencoder's code it gives a sparse "
          "autoencoder: most units are near zero for any one input.",
          "L = mean(|x|)  or  (1/N) Σₙ Σⱼ |xₙⱼ|", _infer_activity, _emit_activity,
          inputs=(PortSpec("in", "Any float tensor, e.g. a code."),),
          params=(choice_param("reduction", "mean", ("mean", "sum"), "'mean' averages over every value; 'sum' "
                               "sums each sample's values, then averages over the batch."),), glyph="|x|"),
    replace(_loss(
        "MarginLoss", "Margin loss (capsules)", "Scores capsule lengths against class indices.",
        "CapsNet's loss (Sabour et al.): the true class's capsule must be longer than m⁺ and every other one "
        "shorter than m⁻; λ (down_weight) counts the absent classes less. Feed it the class capsules' lengths "
        "[N, C] from CapsuleLength: they are also the head's prediction, so accuracy is their argmax.",
        "L = (1/N) Σₙ Σₖ Tₖ·max(0, m⁺ − ‖vₖ‖)² + λ·(1 − Tₖ)·max(0, ‖vₖ‖ − m⁻)²",
        lambda p, i: _classes(p, i, "capsule lengths"), _emit_pair(_build_margin), role=_CLASSIFY,
        inputs=(PortSpec("input", "Capsule lengths [N, C] in [0, 1], from CapsuleLength."), CLASS_PORTS[1]),
        params=(float_param("m_plus", 0.9, "m⁺: the length the true class's capsule should exceed.", 0.0, 1.0),
                float_param("m_minus", 0.1, "m⁻: the length every other capsule should stay under.", 0.0, 1.0),
                float_param("down_weight", 0.5, "λ: how much the absent classes count.", 0.0)), glyph="m±"),
        check=_check_margin),
]
