"""The training policy: the public declaration a DP-SGD run is held to.

    {"algorithm": "dpsgd/v1",
     "model": {"family": "logreg"}                  (or {"family": "mlp", "hidden": [64]}),
     "data": {"features": ["f00", ...], "label": "y"},
     "fixed_point": {"feature_bits": 8, "weight_bits": 16, "grid_bits": 10,
                     "sigmoid_input_bits": 8, "sigmoid_input_limit": 2048,
                     "weight_limit_log2": 30},
     "clip_norm": "1", "noise_multiplier": "1", "learning_rate": "0.5",
     "sampling": {"rate_numerator": 603979776, "rate_log2_denominator": 32,
                  "expected_batch": 64, "max_batch": 128},
     "steps": 143,
     "init": {"kind": "zeros"}                      (or {"kind": "seeded", "seed": "<hex>"}),
     "privacy": {"delta": "0.001", "neighbouring": "add_or_remove_one"},
     "accountant": {"library": "dp-accounting", "version": "0.6.0", "method": "pld",
                    "pld_discretization": "0.0001", "cross_check": "rdp"}}

Real numbers are decimal strings and must be exact where the integer
semantics uses them: the Poisson rate is Q / 2^k; the learning rate is
dyadic; the clip norm times 2^grid_bits is an integer (Delta, the clip norm
in grid units); the expected batch (the divisor of the summed gradient) is
a power of two. Scales: features Q(feature_bits), weights Q(weight_bits),
per-example gradients Q(feature_bits + weight_bits) (the fine scale F),
the released noisy sum Q(grid_bits) (the grid g). Noise is the rounded
Gaussian of standard deviation s = sigma * (Delta + sqrt(d)) grid units,
sampled at 63-bit precision with tails below 2^-70 cut (fixed by dpsgd/v1).

`Policy.from_json` reports every problem at once; `to_json` gives the
canonical document and `digest` (h_Pi) its SHA-256 under the statement
domain (`zkaudit.data.canonical`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from zkaudit.data.canonical import canonical_json, digest
from zkaudit.train.errors import PolicyError

ALGORITHM = "dpsgd/v1"
ACCOUNTANT_LIBRARY = "dp-accounting"
ACCOUNTANT_VERSION = "0.6.0"  # the pinned version in pyproject.toml; a verifier recomputes epsilon with it
NEIGHBOURING = ("add_or_remove_one",)
NOISE_PRECISION_BITS = 63
NOISE_TAIL_BITS = 70
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_HEX = re.compile(r"[0-9a-f]{2,64}")
MAX_STEPS = 1 << 20
MAX_HIDDEN = 4096


@dataclass(frozen=True)
class Policy:
    """A parsed, valid policy (build with `from_json`)."""

    family: str
    hidden: tuple[int, ...]
    features: tuple[str, ...]
    label: str
    feature_bits: int
    weight_bits: int
    grid_bits: int
    sigmoid_input_bits: int
    sigmoid_input_limit: int
    weight_limit_log2: int
    clip_norm: Fraction
    noise_multiplier: Fraction
    learning_rate: Fraction
    rate_numerator: int
    rate_log2_denominator: int
    expected_batch: int
    max_batch: int
    steps: int
    init_kind: str
    init_seed: bytes
    delta: Fraction
    pld_discretization: Fraction
    doc: dict  # the canonical JSON document
    chunk_steps: int = 0  # steps per proof chunk (`tape.TapeShape`); 0: chosen from the policy's size

    # --- derived quantities -------------------------------------------------
    @property
    def digest(self) -> bytes:
        return digest(self.doc)

    def to_json(self) -> dict:
        return self.doc

    def canonical_bytes(self) -> bytes:
        return canonical_json(self.doc)

    @property
    def d_in(self) -> int:
        return len(self.features)

    @property
    def num_params(self) -> int:
        """d: the parameter count (logreg: weights + bias; MLP: both layers)."""
        if self.family == "logreg":
            return self.d_in + 1
        h = self.hidden[0]
        return self.d_in * h + h + h + 1

    @property
    def rate(self) -> Fraction:
        """q = Q / 2^k, exact."""
        return Fraction(self.rate_numerator, 1 << self.rate_log2_denominator)

    @property
    def fine_bits(self) -> int:
        """F: per-example gradients e * x~ live at scale 2^(weight_bits + feature_bits)."""
        return self.weight_bits + self.feature_bits

    @property
    def clip_fine(self) -> int:
        """C_F = C * 2^F (an integer by construction)."""
        return int(self.clip_norm * (1 << self.fine_bits))

    @property
    def clip_grid(self) -> int:
        """Delta = C * 2^g grid units."""
        return int(self.clip_norm * (1 << self.grid_bits))

    @property
    def words_per_step(self) -> int:
        """Tape words per step: B_max + 1 gap draws, then d noise draws."""
        return self.max_batch + 1 + self.num_params

    @property
    def tape_words(self) -> int:
        return self.steps * self.words_per_step

    @property
    def weight_limit(self) -> int:
        """Weights are clamped to [-(2^w - 1), 2^w - 1] (Q(weight_bits) units)."""
        return (1 << self.weight_limit_log2) - 1

    def update_multiplier(self) -> tuple[int, int]:
        """(a, sh): theta -= round_half_up(a * (S + z) / 2^sh) when sh > 0, else
        a * (S + z) * 2^-sh. From eta * 2^(weight_bits - grid_bits) / B_exp with
        eta = a / 2^b dyadic and B_exp = 2^e."""
        a, den = self.learning_rate.numerator, self.learning_rate.denominator
        b = den.bit_length() - 1
        e = self.expected_batch.bit_length() - 1
        return a, self.grid_bits + b + e - self.weight_bits

    @classmethod
    def from_json(cls, doc) -> Policy:
        return _parse(doc)


def _exact(v, where: str, problems: list[str], *, positive: bool = True) -> Fraction | None:
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        problems.append(f"{where}: give a decimal string such as \"0.5\" (floats are not canonical), got {v!r}")
        return None
    try:
        d = Decimal(v) if isinstance(v, str) else Decimal(int(v))
    except InvalidOperation:
        problems.append(f"{where}: {v!r} is not a decimal number")
        return None
    if not d.is_finite():
        problems.append(f"{where}: {v!r} is not finite")
        return None
    f = Fraction(d)
    if positive and f <= 0:
        problems.append(f"{where}: must be positive, got {v}")
        return None
    return f


def _int(v, where: str, lo: int, hi: int, problems: list[str]) -> int | None:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        problems.append(f"{where}: an integer in [{lo}, {hi}] is required, got {v!r}")
        return None
    return v


def _keys(obj, where: str, required: set[str], problems: list[str], optional: set[str] = frozenset()) -> dict:
    if not isinstance(obj, dict):
        problems.append(f"{where}: expected a JSON object, got {type(obj).__name__}")
        return {}
    missing, unknown = required - set(obj), set(obj) - required - set(optional)
    if missing:
        problems.append(f"{where}: missing keys {sorted(missing)}")
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)}")
    return obj


def _is_dyadic(f: Fraction) -> bool:
    return f.denominator & (f.denominator - 1) == 0


def _parse(doc) -> Policy:
    p: list[str] = []
    top = _keys(doc, "policy", {"algorithm", "model", "data", "fixed_point", "clip_norm", "noise_multiplier",
                                "learning_rate", "sampling", "steps", "init", "privacy", "accountant"}, p,
                {"proving"})
    if not top:
        raise PolicyError("invalid policy: " + "; ".join(p))
    if top.get("algorithm") != ALGORITHM:
        p.append(f"policy.algorithm: only {ALGORITHM!r} is defined, got {top.get('algorithm')!r}")

    model = _keys(top.get("model"), "policy.model", {"family"}, p, {"hidden"})
    family, hidden = model.get("family"), ()
    if family == "logreg":
        if "hidden" in model:
            p.append("policy.model.hidden: a logreg model has no hidden layers")
    elif family == "mlp":
        h = model.get("hidden")
        if not isinstance(h, list) or len(h) != 1 or any(_int(x, "policy.model.hidden[0]", 1, MAX_HIDDEN, p) is None
                                                          for x in h):
            p.append("policy.model.hidden: one hidden layer size is supported, e.g. [64]")
        else:
            hidden = tuple(h)
    else:
        p.append(f"policy.model.family: 'logreg' or 'mlp', got {family!r}")

    data = _keys(top.get("data"), "policy.data", {"features", "label"}, p)
    feats, label = data.get("features"), data.get("label")
    if not isinstance(feats, list) or not feats or not all(isinstance(f, str) and _NAME.fullmatch(f) for f in feats):
        p.append("policy.data.features: a non-empty list of column names is required")
        feats = []
    elif len(set(feats)) != len(feats):
        p.append("policy.data.features: a column is listed twice")
    if not isinstance(label, str) or not _NAME.fullmatch(label):
        p.append("policy.data.label: the name of the 0/1 label column is required")
    elif label in (feats or []):
        p.append(f"policy.data.label: {label!r} is also a feature")

    fx = _keys(top.get("fixed_point"), "policy.fixed_point",
               {"feature_bits", "weight_bits", "grid_bits", "sigmoid_input_bits", "sigmoid_input_limit",
                "weight_limit_log2"}, p)
    fb = _int(fx.get("feature_bits"), "policy.fixed_point.feature_bits", 0, 16, p)
    wb = _int(fx.get("weight_bits"), "policy.fixed_point.weight_bits", 1, 24, p)
    gb = _int(fx.get("grid_bits"), "policy.fixed_point.grid_bits", 0, 24, p)
    sb = _int(fx.get("sigmoid_input_bits"), "policy.fixed_point.sigmoid_input_bits", 0, 16, p)
    sl = _int(fx.get("sigmoid_input_limit"), "policy.fixed_point.sigmoid_input_limit", 1, 1 << 16, p)
    wl = _int(fx.get("weight_limit_log2"), "policy.fixed_point.weight_limit_log2", 1, 40, p)
    if None not in (fb, wb, gb) and gb > fb + wb:
        p.append(f"policy.fixed_point.grid_bits: the grid 2^{gb} must not be finer than the gradient scale "
                 f"2^{fb + wb} (feature_bits + weight_bits)")
    if None not in (fb, wb, sb) and sb > fb + wb:
        p.append(f"policy.fixed_point.sigmoid_input_bits: must not exceed feature_bits + weight_bits = {fb + wb}")

    clip = _exact(top.get("clip_norm"), "policy.clip_norm", p)
    sigma = _exact(top.get("noise_multiplier"), "policy.noise_multiplier", p)
    lr = _exact(top.get("learning_rate"), "policy.learning_rate", p)
    if clip is not None and gb is not None and (clip * (1 << gb)).denominator != 1:
        p.append(f"policy.clip_norm: {top['clip_norm']} * 2^{gb} (grid_bits) must be an integer (Delta in grid units)")
    if clip is not None and gb is not None and clip * (1 << gb) > (1 << 24):
        p.append("policy.clip_norm: the clip norm in grid units must stay below 2^24")
    if clip is not None and None not in (fb, wb) and clip * (1 << (fb + wb)) > (1 << 31):
        p.append(f"policy.clip_norm: C * 2^(feature_bits + weight_bits) = {float(clip * (1 << (fb + wb))):.4g} must "
                 "not exceed 2^31 (the training proof's clip divisor stays below 2^32)")
    if sigma is not None and not Fraction(1, 100) <= sigma <= 1000:
        p.append(f"policy.noise_multiplier: must be in [0.01, 1000], got {top['noise_multiplier']}")
    if lr is not None and not _is_dyadic(lr):
        p.append(f"policy.learning_rate: {top['learning_rate']} is not dyadic (a / 2^b), so the update would round twice")
    elif lr is not None and lr.numerator >= 1 << 16:
        p.append("policy.learning_rate: the numerator a of a / 2^b must be below 2^16")

    smp = _keys(top.get("sampling"), "policy.sampling",
                {"rate_numerator", "rate_log2_denominator", "expected_batch", "max_batch"}, p)
    k = _int(smp.get("rate_log2_denominator"), "policy.sampling.rate_log2_denominator", 1, 62, p)
    qn = _int(smp.get("rate_numerator"), "policy.sampling.rate_numerator", 1, (1 << k) - 1 if k else 1 << 62, p)
    be = _int(smp.get("expected_batch"), "policy.sampling.expected_batch", 1, 1 << 20, p)
    bmax = _int(smp.get("max_batch"), "policy.sampling.max_batch", 1, 1 << 20, p)
    if be is not None and be & (be - 1):
        p.append(f"policy.sampling.expected_batch: must be a power of two (the mean is a shift), got {be}")
    if be is not None and bmax is not None and bmax < be:
        p.append(f"policy.sampling.max_batch: {bmax} is below the expected batch {be}")

    steps = _int(top.get("steps"), "policy.steps", 1, MAX_STEPS, p)
    chunk_steps = 0
    if "proving" in top:  # how the training proof is cut (the tape is laid out by chunk): optional
        prv = _keys(top.get("proving"), "policy.proving", {"chunk_steps"}, p)
        chunk_steps = _int(prv.get("chunk_steps"), "policy.proving.chunk_steps", 1, MAX_STEPS, p) or 0

    init = _keys(top.get("init"), "policy.init", {"kind"}, p, {"seed"})
    kind, seed = init.get("kind"), b""
    if kind == "zeros":
        if "seed" in init:
            p.append("policy.init.seed: zero initial weights take no seed")
    elif kind == "seeded":
        s = init.get("seed")
        if not isinstance(s, str) or not _HEX.fullmatch(s) or len(s) % 2:
            p.append("policy.init.seed: 2 to 64 lower-case hex digits (an even number) are required")
        else:
            seed = bytes.fromhex(s)
    else:
        p.append(f"policy.init.kind: 'zeros' or 'seeded', got {kind!r} (initial weights are never free)")
    if family == "mlp" and None not in (fb, sb) and sb != fb:
        p.append(f"policy.fixed_point.sigmoid_input_bits: an MLP's activations share the feature format, so it must "
                 f"equal feature_bits ({fb}), got {sb}")
    if family == "mlp" and kind == "zeros":
        p.append("policy.init.kind: an MLP needs seeded initial weights (zeros never break the symmetry)")

    priv = _keys(top.get("privacy"), "policy.privacy", {"delta", "neighbouring"}, p)
    delta = _exact(priv.get("delta"), "policy.privacy.delta", p)
    if delta is not None and not delta < Fraction(1, 10):
        p.append(f"policy.privacy.delta: must be below 0.1, got {priv['delta']}")
    if priv and priv.get("neighbouring") not in NEIGHBOURING:
        p.append(f"policy.privacy.neighbouring: one of {list(NEIGHBOURING)}, got {priv.get('neighbouring')!r}")

    acc = _keys(top.get("accountant"), "policy.accountant",
                {"library", "version", "method", "pld_discretization", "cross_check"}, p)
    if acc:
        if acc.get("library") != ACCOUNTANT_LIBRARY or acc.get("version") != ACCOUNTANT_VERSION:
            p.append(f"policy.accountant: this zkaudit recomputes epsilon with {ACCOUNTANT_LIBRARY}=="
                     f"{ACCOUNTANT_VERSION}, got {acc.get('library')!r}=={acc.get('version')!r}")
        if acc.get("method") != "pld":
            p.append(f"policy.accountant.method: 'pld' (privacy loss distributions, pessimistic), got {acc.get('method')!r}")
        if acc.get("cross_check") != "rdp":
            p.append(f"policy.accountant.cross_check: 'rdp', got {acc.get('cross_check')!r}")
    disc = _exact(acc.get("pld_discretization"), "policy.accountant.pld_discretization", p) if acc else None
    if disc is not None and not Fraction(1, 10 ** 6) <= disc <= Fraction(1, 10):
        p.append("policy.accountant.pld_discretization: must be in [1e-6, 0.1]")

    if p:
        raise PolicyError("invalid policy: " + "; ".join(p))
    try:
        canonical_json(doc)
    except ValueError as exc:
        raise PolicyError(f"invalid policy: {exc}") from None
    return Policy(family=family, hidden=hidden, features=tuple(feats), label=label, feature_bits=fb, weight_bits=wb,
                  grid_bits=gb, sigmoid_input_bits=sb, sigmoid_input_limit=sl, weight_limit_log2=wl, clip_norm=clip,
                  noise_multiplier=sigma, learning_rate=lr, rate_numerator=qn, rate_log2_denominator=k,
                  expected_batch=be, max_batch=bmax, steps=steps, init_kind=kind, init_seed=seed, delta=delta,
                  pld_discretization=disc, doc=doc, chunk_steps=chunk_steps)


def load_policy(path) -> Policy:
    """Read a policy file (any JSON layout; the canonical form is what counts)."""
    import json
    from pathlib import Path

    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror or exc}") from None
    try:
        doc = json.loads(text, parse_float=lambda s: float(s))
    except ValueError as exc:
        raise PolicyError(f"{path}: not JSON ({exc})") from None
    try:
        return Policy.from_json(doc)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from None


def example_policy(features: list[str], label: str, *, num_rows: int, expected_batch: int = 64, epochs: int = 20,
                   sigma: str = "1", family: str = "logreg", hidden: int = 64) -> dict:
    """A policy document for `num_rows` training rows: q = round(B / N * 2^32) / 2^32,
    T = ceil(epochs * N / B), B_max = 2B."""
    q_num = round(expected_batch / num_rows * (1 << 32))
    steps = -(-epochs * num_rows // expected_batch)
    model = {"family": "logreg"} if family == "logreg" else {"family": "mlp", "hidden": [hidden]}
    return {
        "algorithm": ALGORITHM, "model": model, "data": {"features": list(features), "label": label},
        "fixed_point": {"feature_bits": 8, "weight_bits": 16, "grid_bits": 10, "sigmoid_input_bits": 8,
                        "sigmoid_input_limit": 2048, "weight_limit_log2": 30},
        "clip_norm": "1", "noise_multiplier": sigma, "learning_rate": "0.5",
        "sampling": {"rate_numerator": q_num, "rate_log2_denominator": 32, "expected_batch": expected_batch,
                     "max_batch": 2 * expected_batch},
        "steps": steps,
        "init": {"kind": "zeros"} if family == "logreg" else {"kind": "seeded", "seed": "00"},
        "privacy": {"delta": "0.001", "neighbouring": "add_or_remove_one"},
        "accountant": {"library": ACCOUNTANT_LIBRARY, "version": ACCOUNTANT_VERSION, "method": "pld",
                       "pld_discretization": "0.0001", "cross_check": "rdp"},
    }
