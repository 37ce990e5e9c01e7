"""Objective graphs built in code, shared by the tests of training views, evaluation and fx surgery."""

from __future__ import annotations

from nnstudio.model.builder import GraphBuilder


def vae(hidden: int = 32, latent: int = 4, epochs: int = 1, kl_weight: float = 0.01,
        bce: bool = False) -> GraphBuilder:
    """A small VAE on the 8x8 digits: x → enc → (mu, logvar) → z → dec → recon, trained on rec + w·kl.

    With `bce` the decoder ends in a Sigmoid and `rec` is a BCELoss, as in the vae_digits example: its head
    is then scored like a per-pixel binary classifier, which must not be taken for one."""
    b = GraphBuilder(name="vae")
    x = b.add("Input", "x", shape=[1, 8, 8])
    flat = b.add("Flatten", "flat")
    enc = b.add("Linear", "enc", out_features=hidden)
    act = b.add("ReLU", "act")
    head = b.add("Linear", "head", out_features=2 * latent)
    split = b.add("Split", "split")
    z = b.add("GaussianSample", "z")
    dec = b.add("Linear", "dec", out_features=64)
    squash = b.add("Sigmoid", "squash") if bce else None
    out = b.add("Output", "recon")
    target = b.add("Target", "clean", field="x", shape=[1, 8, 8], dtype="float32")
    tflat = b.add("Flatten", "tflat")
    rec = b.add("BCELoss" if bce else "MSELoss", "rec")
    kl = b.add("GaussianKLLoss", "kl", weight=kl_weight)
    b.chain(x, flat, enc, act, head, split)
    b.link(split, z, "mu", "first")
    b.link(split, z, "logvar", "second")
    b.link(split, kl, "mu", "first")
    b.link(split, kl, "logvar", "second")
    decoded = dec if squash is None else squash
    b.chain(z, *([dec] if squash is None else [dec, squash]), out)
    b.link(decoded, rec, "input")
    b.link(target, tflat)
    b.link(tflat, rec, "target")
    b.project.dataset = {"name": "digits"}
    b.project.training = {"epochs": epochs, "optimizer": {"name": "adam", "lr": 0.003}}
    return b


def two_heads(epochs: int = 1) -> GraphBuilder:
    """One trunk, two classifiers: the digit and its parity (a ClassMap of the label), each with a loss."""
    b = GraphBuilder(name="two_heads")
    x = b.add("Input", "x", shape=[1, 8, 8])
    flat = b.add("Flatten", "flat")
    trunk = b.add("Linear", "trunk", out_features=32)
    act = b.add("ReLU", "act")
    digit = b.add("Linear", "digit_logits", out_features=10)
    parity = b.add("Linear", "parity_logits", out_features=2)
    digit_out = b.add("Output", "digit")
    parity_out = b.add("Output", "parity")
    label = b.add("Target", "label", field="y", shape=[], dtype="int64")
    to_parity = b.add("ClassMap", "to_parity", table=[0, 1, 0, 1, 0, 1, 0, 1, 0, 1])
    digit_loss = b.add("CrossEntropyLoss", "digit_ce")
    parity_loss = b.add("CrossEntropyLoss", "parity_ce", weight=0.5)
    b.chain(x, flat, trunk, act, digit, digit_out)
    b.link(act, parity)
    b.link(parity, parity_out)
    b.link(digit, digit_loss, "input")
    b.link(label, digit_loss, "target")
    b.link(label, to_parity)
    b.link(parity, parity_loss, "input")
    b.link(to_parity, parity_loss, "target")
    b.project.dataset = {"name": "digits"}
    b.project.training = {"epochs": epochs, "optimizer": {"name": "adam", "lr": 0.003}}
    return b
