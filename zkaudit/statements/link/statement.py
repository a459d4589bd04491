"""What prover and verifier of the link derive alike from the statement and
the circuit: the statement's strict shape, the checks of the quant spec
against the circuit, the plan (`plan.py`), both hash links' plans, the
advice commitment's layout, the range-check plan and the zero-check's and
wiring's public values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zkaudit.circuit.graph import Circuit
from zkaudit.errors import MalformedProof
from zkaudit.field.scalar import Fp, Fp2
from zkaudit.hash import commitment as hc
from zkaudit.hash.errors import MalformedWeightCommitment
from zkaudit.layers.claim import TensorClaim
from zkaudit.layers.tensor import num_vars
from zkaudit.poly.mle import evaluate
from zkaudit.statements.inference import committed_range
from zkaudit.statements.inference import weights_link as wl
from zkaudit.statements.link import plan as lp
from zkaudit.statements.link.errors import (
    PiMismatch, QuantizationMismatch, QuantSpecMismatch, StatementMismatch, WiringMismatch,
)
from zkaudit.statements.common.statement import require_protocol
from zkaudit.statements.link.proof import PROTOCOL_VERSION, ROUNDING, SCALES, STATEMENT_TYPE, WHERE, f32_bits, f32_value
from zkaudit.sumcheck import SumOfProducts

LABEL_TAU = b"link/zero-check/tau"  # n challenges: the zero-check point, n / p^2 (eq is multilinear)
LABEL_GAMMA = b"link/zero-check/gamma"  # gates combined by gamma^1..8: 8 / p^2
LABEL_LAMBDA = b"link/zero-check/lambda"  # the count term added: 1 / p^2
LABEL_WIRING = b"link/wiring/sums"
PRODUCT = SumOfProducts.product(2)


def decode_circuit_artifact(circuit) -> Circuit:
    """A `Circuit`, or the registered circuit.bin bytes decoded (MalformedProof if they do not parse)."""
    if isinstance(circuit, Circuit):
        return circuit
    from zkaudit.circuit.encoding import decode_circuit
    from zkaudit.circuit.errors import CircuitError

    try:
        return decode_circuit(bytes(circuit))
    except CircuitError as exc:
        raise MalformedProof(f"the circuit artifact does not parse: {exc}", where=WHERE) from None


def _need(cond: bool, what: str, error=MalformedProof, **kw) -> None:
    if not cond:
        raise error(what, where=WHERE, **kw)


def check_statement_shape(st: dict) -> None:
    require_protocol(st, STATEMENT_TYPE, PROTOCOL_VERSION, what="link", where=WHERE, command="zkaudit link")
    keys = {"type", "protocol_version", "circuit_digest", "theta_commitment", "weight_commitment", "theta", "quant",
            "pi", "saturated", "zero_knowledge"}
    _need(set(st) == keys, "link statement has the wrong keys", expected=sorted(keys), got=sorted(st))
    _need(st["zero_knowledge"] is True, "link proofs are zero-knowledge only")
    th = st["theta"]
    _need(isinstance(th, dict) and set(th) == {"num_params", "limit", "weight_bits"}
          and all(isinstance(th[k], int) and not isinstance(th[k], bool) for k in th)
          and th["num_params"] >= 1 and 0 < th["limit"] < lp.HALF_P and 0 <= th["weight_bits"] <= 62,
          "link statement: malformed theta layout", got=th)
    _need(isinstance(st["saturated"], int) and not isinstance(st["saturated"], bool) and st["saturated"] >= 0,
          "link statement: malformed saturation count", got=st["saturated"])
    q = st["quant"]
    _need(isinstance(q, dict) and set(q) == {"rounding", "weight_clamp", "layers"} and q["rounding"] == ROUNDING
          and q["weight_clamp"] == [-127, 127] and isinstance(q["layers"], list),
          "link statement: unsupported quant spec (rounding half-up, clamp [-127, 127])", got=q)
    for layer in q["layers"]:
        _need(isinstance(layer, dict) and set(layer) == set(SCALES)
              and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 1 << 32 for v in layer.values()),
              "link statement: malformed layer scales", got=layer)
    _need(isinstance(st["pi"], list), "link statement: malformed pi")
    for e in st["pi"]:
        _need(isinstance(e, dict) and set(e) == {"tensor", "role", "layer", "offset", "strides"}
              and isinstance(e["tensor"], str) and e["role"] in ("weight", "bias")
              and isinstance(e["layer"], int) and 0 <= e["layer"] < len(q["layers"])
              and isinstance(e["offset"], int) and isinstance(e["strides"], list)
              and all(isinstance(s, int) and not isinstance(s, bool) for s in e["strides"]),
              "link statement: malformed pi entry", got=e)


def check_quant_spec(st: dict, circuit: Circuit) -> None:
    """What the circuit fixes of the scales: layer 0's s_in is the circuit's
    input scale, each layer's s_in the previous layer's s_out, s_b =
    float32(s_in s_w), and each layer's requantization multiplier is the
    exact float32 ratio s_in s_w / s_out the compiler derives (so s_w is the
    scale the deployed model dequantizes W with, up to the output scale)."""
    from zkaudit.circuit.errors import CircuitError
    from zkaudit.circuit.fixed_point import multiplier_from_float32

    layers = st["quant"]["layers"]
    f = [{k: np.float32(f32_value(layer[k])) for k in SCALES} for layer in layers]
    x_scale = circuit.inputs[0].scale if len(circuit.inputs) == 1 else None
    if x_scale is None or not layers or layers[0]["in_scale"] != f32_bits(x_scale):
        raise QuantSpecMismatch("layer 0's input scale is not the circuit's", where=f"{WHERE}.quant",
                                expected=None if x_scale is None else f32_bits(x_scale),
                                got=layers[0]["in_scale"] if layers else None)
    matmuls = [n for n in circuit.nodes if n.op == "MatMul"]
    if len(matmuls) != len(layers):
        raise QuantSpecMismatch("the quant spec has another number of layers than the circuit", where=f"{WHERE}.quant",
                                expected=len(matmuls), got=len(layers))
    for i, (layer, s, node) in enumerate(zip(layers, f, matmuls)):
        if i and layer["in_scale"] != layers[i - 1]["out_scale"]:
            raise QuantSpecMismatch(f"layer {i}: s_in is not layer {i - 1}'s s_out", where=f"{WHERE}.quant",
                                    expected=layers[i - 1]["out_scale"], got=layer["in_scale"])
        s_b = s["in_scale"] * s["w_scale"]
        if f32_bits(float(s_b)) != layer["b_scale"]:
            raise QuantSpecMismatch(f"layer {i}: bias scale is not float32(s_in * s_w)", where=f"{WHERE}.quant",
                                    expected=f32_bits(float(s_b)), got=layer["b_scale"])
        req = [n for n in circuit.nodes if n.op == "Requantize" and n.inputs == (node.output,)]
        try:
            m, shift = multiplier_from_float32(s_b / s["out_scale"])
        except (CircuitError, ZeroDivisionError, FloatingPointError):
            m, shift = None, None
        if len(req) != 1 or (req[0].a.get("multiplier"), req[0].a.get("shift")) != ((m,), (shift,)):
            raise QuantSpecMismatch(f"layer {i}: the circuit's requantization is not s_in s_w / s_out",
                                    where=f"{WHERE}.quant", expected=(m, shift),
                                    got=[(r.a.get("multiplier"), r.a.get("shift")) for r in req])


def plan_of(st: dict, circuit: Circuit) -> lp.Plan:
    specs = {s.name: s for s in circuit.weights}
    maps, names = [], []
    for e in st["pi"]:
        spec = specs.get(e["tensor"])
        if spec is None or len(e["strides"]) != len(spec.shape):
            raise PiMismatch("pi names a tensor the circuit does not have (or with other dimensions)",
                             where=f"{WHERE}.pi", got=e["tensor"])
        layer = st["quant"]["layers"][e["layer"]]
        scale = f32_value(layer["w_scale" if e["role"] == "weight" else "b_scale"])
        maps.append(lp.TensorMap(spec.name, tuple(spec.shape), e["offset"], tuple(e["strides"]), scale,
                                 e["role"] == "weight", int(spec.lo), int(spec.hi)))
        names.append(spec.name)
    if names != [s.name for s in circuit.weights]:
        raise PiMismatch("pi must list the circuit's weight tensors once each, in circuit order",
                         where=f"{WHERE}.pi", expected=[s.name for s in circuit.weights], got=names)
    th = st["theta"]
    total = sum(m.size for m in maps)
    if th["num_params"] != total:
        raise PiMismatch("theta's size is not the number of weights pi feeds", where=f"{WHERE}.pi", expected=total,
                         got=th["num_params"])
    try:
        return lp.make_plan(th["num_params"], th["limit"], th["weight_bits"], maps)
    except lp.NotRepresentable as exc:
        raise QuantSpecMismatch(str(exc), where=f"{WHERE}.quant") from None
    except ValueError as exc:
        raise PiMismatch(str(exc), where=f"{WHERE}.pi") from None


def theta_layout(plan: lp.Plan) -> hc.TensorLayout:
    return hc.TensorLayout(lp.THETA, (plan.d,), -plan.limit, plan.limit)


def theta_link_plan(plan: lp.Plan, theta_commitment: bytes) -> wl.LinkPlan:
    layout = theta_layout(plan)
    try:
        record = hc.WeightCommitment.from_bytes(theta_commitment)
    except MalformedWeightCommitment as exc:
        raise StatementMismatch(f"c_theta is not a p2gl8-tree weight commitment: {exc}", where=f"{WHERE}.theta") from None
    if record.n_weights != plan.d or record.layout_digest != hc.layout_digest([layout]):
        raise wl.WrongWeightLayout("c_theta commits another layout than theta (d, [-L, L])", where=f"{WHERE}.theta",
                                   expected=(plan.d, hc.layout_digest([layout]).hex()),
                                   got=(record.n_weights, record.layout_digest.hex()))
    return wl.LinkPlan(record, (layout,))


def weight_link_plan(circuit: Circuit, weight_commitment: bytes) -> wl.LinkPlan:
    try:
        return wl.LinkPlan.of(circuit, weight_commitment, block_partial_rounds=False)
    except MalformedWeightCommitment as exc:
        raise StatementMismatch(f"c_W is not a p2gl8-tree weight commitment: {exc}", where=f"{WHERE}.weights") from None


class Columns:
    """The range-check plan over theta's domain (the columns posed as
    "weights" of a one-dimensional shape: `committed_range` proves their
    padding zero)."""

    def __init__(self, plan: lp.Plan):
        from zkaudit.circuit.graph import TensorSpec

        specs = [TensorSpec(lp.THETA, (plan.d,), -plan.limit, plan.limit)]  # the no-wrap bound rests on it
        specs += [TensorSpec(n, (plan.d,), 0, (1 << (plan.r_bits if n in (lp.R, lp.RR) else plan.e_bits)) - 1)
                  for n in lp.RANGED]
        self.range_plan = committed_range.plan(_Specs(tuple(specs)))


@dataclass(frozen=True)
class _Specs:
    weights: tuple
    inputs: tuple = ()


def advice_layout(plan: lp.Plan, circuit: Circuit, theta_plan: wl.LinkPlan, w_plan: wl.LinkPlan,
                  range_plan) -> list[tuple[str, int]]:
    """(name, num_vars) of every advice table, in commitment order (the bank follows)."""
    out = [(lp.THETA, plan.num_vars)]
    out += [(s.name, num_vars(s.shape)) for s in circuit.weights]
    out += [(lp.THETA_DIGESTS, theta_plan.digest_vars), (lp.THETA_SALT, 1)]
    out += [(wl.DIGESTS, w_plan.digest_vars), (wl.SALT, 1)]
    out += [(n, plan.num_vars) for n in lp.WITNESS if n not in (lp.THETA, lp.W_VIRTUAL)]
    for name, shape in sorted(range_plan.advice_shapes().items()):
        out.append((name, num_vars(shape)))
    return out


def rename_link_claims(claims: list[TensorClaim]) -> list[TensorClaim]:
    """The theta link's digest and salt tables live under their own names."""
    names = {wl.DIGESTS: lp.THETA_DIGESTS, wl.SALT: lp.THETA_SALT}
    return [TensorClaim(names.get(c.tensor, c.tensor), c.point, c.value) for c in claims]


def zero_check_challenges(plan: lp.Plan, transcript):
    tau = transcript.challenge_exts(LABEL_TAU, plan.num_vars)
    gamma = transcript.challenge_ext(LABEL_GAMMA)
    lam = transcript.challenge_ext(LABEL_LAMBDA)
    return tau, gamma, lam


def check_public_values(plan: lp.Plan, tau, gamma, lam, point, values) -> None:
    """The zero-check's public tables at its final point, recomputed."""
    tables = lp.coefficient_tables(plan, tau, gamma, lam)
    for j, (idx, t) in enumerate(zip(lp.public_indices(), tables)):
        v = evaluate(t, list(point))
        v = Fp2.from_base(v) if isinstance(v, Fp) else v
        if values[idx] != v:
            raise QuantizationMismatch("a zero-check coefficient table is not the public one",
                                       where=f"{WHERE}.zero-check", expected=v, got=values[idx], round=j)


def check_wiring_value(plan: lp.Plan, t: int, rho, point, value) -> None:
    m = lp.wiring_table(plan, t, rho)
    v = evaluate(m, list(point))
    v = Fp2.from_base(v) if isinstance(v, Fp) else v
    if value != v:
        raise WiringMismatch("wiring weight is not the public M_t", where=f"{WHERE}.wiring {plan.tensors[t].name}",
                             expected=v, got=value)
