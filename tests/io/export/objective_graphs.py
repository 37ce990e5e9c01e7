"""Graphs that declare their own objective, for the export tests: a VAE, a distillation with a frozen teacher
and per-node learning rates, and a token model with ClassMap and GaussianNoise in its inference path."""

from __future__ import annotations

from nnstudio.model.builder import GraphBuilder
from nnstudio.model.graph import NodeTraining
from nnstudio.model.project import Project

DIGITS = {"name": "digits", "val_fraction": 0.2, "test_fraction": 0.1}


def vae(training: dict | None = None) -> Project:
    """x → enc → (mu, logvar) → z → dec → recon, trained on rec + 0.01·kl; z samples while training only."""
    b = GraphBuilder(name="Digits VAE")
    x = b.add("Input", "x", shape=[1, 8, 8])
    flat = b.add("Flatten", "flat")
    enc = b.add("Linear", "enc", out_features=32)
    act = b.add("ReLU", "act")
    head = b.add("Linear", "head", out_features=8)
    split = b.add("Split", "split")
    z = b.add("GaussianSample", "z")
    dec = b.add("Linear", "dec", out_features=64)
    out = b.add("Output", "recon")
    clean = b.add("Target", "clean", field="x", shape=[1, 8, 8], dtype="float32")
    tflat = b.add("Flatten", "tflat")
    rec = b.add("MSELoss", "rec")
    kl = b.add("GaussianKLLoss", "kl", weight=0.01)
    b.chain(x, flat, enc, act, head, split)
    b.link(split, z, "mu", "first")
    b.link(split, z, "logvar", "second")
    b.link(split, kl, "mu", "first")
    b.link(split, kl, "logvar", "second")
    b.chain(z, dec, out)
    b.link(dec, rec, "input")
    b.link(clean, tflat)
    b.link(tflat, rec, "target")
    b.project.dataset = dict(DIGITS)
    b.project.training = {"epochs": 2, "batch_size": 64, "optimizer": {"name": "adam", "lr": 0.003},
                          **(training or {})}
    return b.project


def distillation(training: dict | None = None) -> Project:
    """A student (fc → frozen batch norm → relu → head at a tenth of the learning rate) learns the digits from
    the labels and from a frozen teacher: ce + 0.5·distill. The teacher's batch norm keeps its statistics, the
    student's frozen one too; the teacher is loss-only, so no export holds it."""
    b = GraphBuilder(name="Distilled digits")
    x = b.add("Input", "x", shape=[64])
    fc = b.add("Linear", "fc", out_features=32)
    norm = b.add("BatchNorm1d", "norm")
    act = b.add("ReLU", "act")
    head = b.add("Linear", "head", out_features=10)
    out = b.add("Output", "digit")
    t_fc = b.add("Linear", "teacher_fc", out_features=48)
    t_norm = b.add("BatchNorm1d", "teacher_norm")
    t_act = b.add("ReLU", "teacher_act")
    t_head = b.add("Linear", "teacher_head", out_features=10)
    label = b.add("Target", "label", field="y", shape=[], dtype="int64")
    ce = b.add("CrossEntropyLoss", "ce")
    distill = b.add("DistillationLoss", "distill", weight=0.5, temperature=2.0)
    b.chain(x, fc, norm, act, head, out)
    b.chain(x, t_fc, t_norm, t_act, t_head)
    b.link(head, ce, "input")
    b.link(label, ce, "target")
    b.link(head, distill, "student")
    b.link(t_head, distill, "teacher")
    for node in (t_fc, t_norm, t_head, norm):
        b.graph.set_node_training(node, NodeTraining(frozen=True))
    b.graph.set_node_training(head, NodeTraining(lr_scale=0.1))
    b.project.dataset = {**DIGITS, "params": {"flat": True}}
    b.project.training = {"epochs": 2, "batch_size": 32, "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
                          "regularization": {"l2": 1e-4, "clip": "norm", "max_norm": 1.0}, **(training or {})}
    return b.project


def tokens() -> Project:
    """Token ids relabelled by a ClassMap, embedded, corrupted by GaussianNoise (training only) and classified."""
    b = GraphBuilder(name="Token classes")
    ids = b.add("Input", "ids", shape=[4], dtype="int64")
    relabel = b.add("ClassMap", "relabel", table=[0, 2, 1, 0, 2])
    embed = b.add("Embedding", "embed", num_embeddings=3, embedding_dim=4)
    flat = b.add("Flatten", "flat")
    noise = b.add("GaussianNoise", "noise", std=0.5)
    head = b.add("Linear", "head", out_features=2)
    out = b.add("Output", "logits")
    label = b.add("Target", "label", field="y", shape=[], dtype="int64")
    ce = b.add("CrossEntropyLoss", "ce")
    b.chain(ids, relabel, embed, flat, noise, head, out)
    b.link(head, ce, "input")
    b.link(label, ce, "target")
    return b.project
