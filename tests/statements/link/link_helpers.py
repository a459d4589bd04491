"""Shared by the link tests (imported as a module: tests/ has no packages):
a trained breast-cancer run (logreg or MLP) in-process, its QDQ export
compiled by `zkaudit compile` (hashed weight commitment, the default), and
theta's p2gl8 commitment the way a training proof outputs it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))

from train_helpers import policy_doc, words_for  # noqa: E402,F401

from zkaudit.hash import commitment as hc  # noqa: E402

POLICIES = {"logreg": {"steps": 60},
            "mlp": {"steps": 60, "model": {"family": "mlp", "hidden": [8]}, "init": {"kind": "seeded", "seed": "01"}}}


@dataclass
class Model:
    policy: object
    theta: np.ndarray
    layers: list  # per layer {"in_scale", "w_scale", "b_scale"}
    saturated: int
    circuit: object
    weights: dict
    weight_salt: tuple
    weight_commitment: bytes
    theta_salt: tuple
    theta_commitment: bytes
    folder: Path

    def prove(self, **kw):
        from zkaudit.statements.link.prover import prove_link

        args = dict(limit=self.policy.weight_limit, weight_bits=self.policy.weight_bits,
                    theta_commitment=self.theta_commitment, weight_commitment=self.weight_commitment)
        args.update(kw)
        theta = args.pop("theta", self.theta)
        theta_salt = args.pop("theta_salt", self.theta_salt)
        weights = args.pop("weights", self.weights)
        weight_salt = args.pop("weight_salt", self.weight_salt)
        layers = args.pop("layers", self.layers)
        return prove_link(theta, theta_salt, self.circuit, weights, weight_salt, layers, **args)

    def verify(self, proof, **kw):
        from zkaudit.statements.link.verifier import verify_link

        args = dict(theta_commitment=self.theta_commitment, weight_commitment=self.weight_commitment,
                    circuit=self.circuit)
        args.update(kw)
        return verify_link(proof, **args)


def theta_commitment(policy, theta, salt) -> bytes:
    layout = hc.TensorLayout("theta", (len(theta),), -policy.weight_limit, policy.weight_limit)
    return hc.commit_weights([layout], [np.asarray(theta, dtype=np.int64)], salt)[0].to_bytes()


def build(family: str, folder: Path, *, w_scale_factor: float = 1.0) -> Model:
    """Train, export (optionally with every weight scale multiplied, to force
    clamping), compile. Scales stay consistent: s_b = float32(s_in s_w)."""
    import dataclasses

    import onnx

    from zkaudit.api import compile as compile_model
    from zkaudit.circuit import load_circuit, load_weights
    from zkaudit.train import example, export, trainer
    from zkaudit.train.policy import Policy

    Xtr, ytr, _, _ = example.breast_cancer()
    X8 = np.round(Xtr * (1 << example.FEATURE_BITS)).astype(np.int64)
    policy = Policy.from_json(policy_doc(**POLICIES[family]))
    theta = trainer.train(policy, X8, ytr, words_for(policy, 9)).final_theta
    qs = export.quantize(policy, theta, 1.0, export.activation_ranges(policy, theta, X8))
    if w_scale_factor != 1.0:
        qs = requantize(policy, theta, qs, w_scale_factor)
    folder.mkdir(parents=True, exist_ok=True)
    onnx.save(export.quantized_model(policy, qs), folder / "model_int8.onnx")
    compile_model(folder / "model_int8.onnx", folder / "compiled")
    circuit, weights = load_circuit(folder / "compiled"), load_weights(folder / "compiled")
    w_salt = hc.salt_from_bytes((folder / "compiled" / "private" / "weights.salt").read_bytes())
    cw = (folder / "compiled" / "public" / "weights.commitment").read_bytes()
    t_salt = hc.fresh_salt()
    layers = [{"in_scale": q.in_scale, "w_scale": q.w_scale, "b_scale": q.b_scale, "out_scale": q.out_scale}
              for q in qs]
    del dataclasses
    return Model(policy, theta, layers, sum(q.saturated for q in qs), circuit, dict(weights), w_salt, cw, t_salt,
                 theta_commitment(policy, theta, t_salt), folder)


def requantize(policy, theta, qs, factor: float):
    """The export's rule under weight scales times `factor` (factor < 1
    saturates the largest weights), with `export`'s own exact arithmetic."""
    from fractions import Fraction

    from zkaudit.train import export

    one = 1 << policy.weight_bits
    out, s_in = [], qs[0].in_scale
    for (W, b), q in zip(export.layers(policy, theta), qs):
        s_w = float(np.float32(q.w_scale * factor))
        s_b = float(np.float32(s_in) * np.float32(s_w))
        raw = [export._rhu(Fraction(int(v), one) / Fraction(s_w)) for v in W.ravel()]
        wq = [max(-127, min(127, v)) for v in raw]
        bq = [export._rhu(Fraction(int(v), one) / Fraction(s_b)) for v in b]
        out.append(export.QuantLayer(np.array(wq, dtype=np.int64).reshape(W.shape), np.array(bq, dtype=np.int64),
                                     s_in, s_w, s_b, q.out_scale, sum(a != c for a, c in zip(raw, wq))))
        s_in = q.out_scale
    return out


def hashed(circuit, weights) -> tuple[bytes, tuple]:
    """A fresh registered commitment of (possibly altered) weights."""
    from zkaudit.statements.inference.commitment import hashed_weight_commitment

    c, salt = hashed_weight_commitment(circuit, weights)
    return c.to_bytes(), salt
