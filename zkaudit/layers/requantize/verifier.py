"""Requantize verifier.

Y = clip(zo + rnd((X - zi) m / 2^s), lo, hi), rnd = round half to even, with
m (< 2^31) and s (<= 62) per channel along `axis` or per tensor. A channel
with s = 0 is rewritten (2m, 1): rnd(2t / 2) = t exactly, so s >= 1 below.
With t = (X - zi) m, q the rounded quotient and u = zo + q:

Advice: Y (the output) and, as 16-bit limbs (one LogUp argument),
    y1 = Y - lo, y2 = hi - Y        in [0, 2^k_y)   (y2 only if hi - lo + 1 != 2^k_y)
    a  = max(u - hi, 0)             in [0, 2^k_a)
    b  = max(lo - u, 0)             in [0, 2^k_b)
    h  = floor(q / 2)               signed, in [-2^(k_h-1), 2^(k_h-1))
    g1 = t - 2^s q + 2^(s-1) - pi   in [0, 2^(S+1)),  S = max s
    g2 = 2^s - 2 pi - g1            in [0, 2^(S+1))
and the bit pi = q mod 2 (a plain advice column, Z0: pi (pi - 1) = 0).
q itself is not committed: q = Y + a - b - zo. With public per-channel
tables M = m, P = 2^s, H = 2^(s-1) (zero on the padding; the verifier
evaluates their MLEs itself) and I the real-entry indicator:
    R1: Y - lo I - y1 = 0                  R2: hi I - Y - y2 = 0
    R3: Y + a - b - zo I - 2 h - pi = 0
    R4: M X - zi M - P (Y + a - b) + zo P + H - pi - g1 = 0
    R5: g1 + g2 - P + 2 pi = 0
    Z1: a (hi I - Y) = 0                   Z2: b (Y - lo I) = 0
    P:  (1 - I) Y = 0   (the System adds it for every advice tensor: with R2
                         dropped, R1 alone left Y's padding free in [0, 2^k_y))
all proven by one zero-check (`layers.clamp.system`; the per-channel
products M X and P a make it a sum-check, not a linear check).

Channels of very different shifts (`tight`): a, b committed at the
widths of the widest channel could make 2^s (a - b) wrap in a channel with a
large s, so each also gets a companion  a' = 2^(k_a - k_a,c) a  in
[0, 2^k_a) (public per-channel scales SA, SB), which bounds a by its own
channel's width k_a,c; the wrap bound of R4 is then checked per channel.

Why exactly the executor's output. Every relation's terms are bounded
integers whose magnitudes sum below p (`check_no_wrap`, from the declared
range of X, which the GKR fixes to the true tensor, and the limb widths),
so each holds over the integers. R1, R2: Y in [lo, hi] (R1 alone when
[lo, hi] has 2^k_y values). Z0: pi in {0, 1}. R3: q := Y + a - b
- zo = 2h + pi, so pi is q's parity. R4, R5 with e = t - 2^s q:
    -2^(s-1) + pi <= e <= 2^(s-1) - pi,
i.e. |e| <= 2^(s-1), and |e| = 2^(s-1) (a tie) only when q is even: q is
t / 2^s rounded half to even, uniquely. Then u = zo + q = Y + a - b and
Z1, Z2 with a, b >= 0 give Y = clip(u, lo, hi) as in `layers.clamp`.
"""

from __future__ import annotations

from functools import lru_cache

from zkaudit.field.constants import P
from zkaudit.layers.clamp.errors import UnexpectedClaim
from zkaudit.layers.clamp.proof import SystemProof
from zkaudit.layers.clamp.system import IND, Channel, Quantity, System, bits_for, check_no_wrap
from zkaudit.layers.clamp.verifier import verify_system


def _rnd(t: int, s: int) -> int:
    half = 1 << (s - 1)
    q = (t + half) >> s
    if (t & ((1 << s) - 1)) == half and q & 1:
        q -= 1
    return q


def signed_bits(lo: int, hi: int) -> int:
    """Smallest k with [lo, hi] inside [-2^(k-1), 2^(k-1))."""
    need = max(-lo, hi + 1, 1)
    return 1 + (need - 1).bit_length()


def channels(node, ndim: int) -> tuple[int, list[int], list[int]]:
    """(axis, multipliers, shifts), one entry per channel, shifts >= 1."""
    a = node.a
    ms, ss = list(a["multiplier"]), list(a["shift"])
    c = max(len(ms), len(ss))
    ms = ms * c if len(ms) == 1 else ms
    ss = ss * c if len(ss) == 1 else ss
    out_m, out_s = [], []
    for m, s in zip(ms, ss):
        m, s = int(m), int(s)
        if s == 0:
            m, s = 2 * m, 1
        out_m.append(m)
        out_s.append(s)
    axis = int(a.get("axis", 0)) % max(ndim, 1)
    return axis, out_m, out_s


def requantize_system(node, specs) -> System:
    """The public layout of a Requantize proof (both sides build it). A pure
    function of the (immutable) node, its input's range and its output's
    shape, built once per distinct set of those: a verifier asks for it
    twice per node (the advice layout, then the proof)."""
    x = specs[node.inputs[0]]
    return _system(node, int(x.lo), int(x.hi), tuple(specs[node.output].shape))


@lru_cache(maxsize=4096)
def _system(node, x_lo: int, x_hi: int, shape: tuple[int, ...]) -> System:
    from zkaudit.layers.shapes import UnsupportedLayer

    where = f"node {node.name} (Requantize)"
    a = node.a
    zi, zo, lo, hi = int(a["in_zero_point"]), int(a["out_zero_point"]), int(a["out_min"]), int(a["out_max"])
    axis, ms, ss = channels(node, len(shape))
    if len(ms) > 1 and len(ms) != shape[axis]:
        raise UnsupportedLayer(f"{where}: {len(ms)} channels along axis {axis} of shape {shape}")
    if hi < lo or any(m <= 0 for m in ms) or any(not 1 <= s <= 62 for s in ss):
        raise UnsupportedLayer(f"{where}: multiplier must be > 0, shift in 0..62, out_min <= out_max")
    dlo, dhi = x_lo - zi, x_hi - zi
    q_ranges = [(_rnd(dlo * m, s), _rnd(dhi * m, s)) for m, s in zip(ms, ss)]
    t_maxes = [max(abs(dlo), abs(dhi)) * m for m in ms]
    # per-channel widths of a, b (their honest ranges), and the widths committed (the max)
    ka_c = [bits_for(max(zo + qh_ - hi, 0)) for _, qh_ in q_ranges]
    kb_c = [bits_for(max(lo - zo - ql_, 0)) for ql_, _ in q_ranges]
    ka, kb = max(ka_c), max(kb_c)
    kh = signed_bits(min(ql_ for ql_, _ in q_ranges) >> 1, max(qh_ for _, qh_ in q_ranges) >> 1)
    big_s = max(ss)
    ky = bits_for(hi - lo)
    kg = big_s + 1
    y_abs = max(abs(lo), abs(hi)) + (1 << ky)

    def r4_fits(kas, kbs) -> bool:
        return all(t + ((y_abs + (1 << a_) + (1 << b_) + abs(zo)) << s_) + (1 << s_) + 1 + (1 << kg) < P
                   for t, s_, a_, b_ in zip(t_maxes, ss, kas, kbs))

    # Channels of very different shifts: a, b sized for the smallest shift
    # would let 2^s (a - b) wrap in a channel with a large shift. Then a and b
    # also get scaled companions a 2^(k_a - k_a,c) in [0, 2^k_a) (public
    # per-channel scales), which bound each by its own channel's width. (h
    # needs none: it appears only in R3, which has no 2^s factor.)
    tight = not r4_fits([ka] * len(ss), [kb] * len(ss))
    if tight and not r4_fits(ka_c, kb_c):
        check_no_wrap([P], where)  # raises: even per-channel widths are too wide
    check_no_wrap([y_abs, abs(lo), 1 << ky], where)
    check_no_wrap([y_abs, 1 << ka, 1 << kb, abs(zo), 1 << kh, 1], where)
    check_no_wrap([1 << (kg + 1), 1 << big_s, 2], where)
    if tight:
        check_no_wrap([1 << (2 * max(ka, kb)), 1 << max(ka, kb)], where)  # companion relations
    if max(ka, kb) + ky > 63:
        raise UnsupportedLayer(f"{where}: saturation ranges too wide for the zero-checks")
    pre = node.name
    # y2 is implied by y1's range when [lo, hi] has exactly 2^k_y values
    exact = hi - lo + 1 == 1 << ky
    qs = [Quantity(f"{pre}/y_minus_lo", ky), Quantity(f"{pre}/hi_minus_y", ky),
          Quantity(f"{pre}/above", ka), Quantity(f"{pre}/below", kb),
          Quantity(f"{pre}/half_q", kh, signed=True),
          Quantity(f"{pre}/rem_lo", kg), Quantity(f"{pre}/rem_hi", kg)]
    y1, y2, qa, qb, qh, g1, g2 = (f"q:{q.name}" for q in qs)
    pi = "pi"
    public = {"M": Channel(axis, tuple(ms)), "P": Channel(axis, tuple(1 << s for s in ss)),
              "H": Channel(axis, tuple(1 << (s - 1) for s in ss))}
    rel = [
        [(1, ("Y",)), (-lo, (IND,)), (-1, (y1,))],
        [(hi, (IND,)), (-1, ("Y",)), (-1, (y2,))],
        [(1, ("Y",)), (1, (qa,)), (-1, (qb,)), (-zo, (IND,)), (-2, (qh,)), (-1, (pi,))],
        [(1, ("M", "X")), (-zi, ("M",)), (-1, ("P", "Y")), (-1, ("P", qa)), (1, ("P", qb)), (zo, ("P",)),
         (1, ("H",)), (-1, (pi,)), (-1, (g1,))],
        [(1, (g1,)), (1, (g2,)), (-1, ("P",)), (2, (pi,))],
        [(hi, (qa, IND)), (-1, (qa, "Y"))],
        [(1, (qb, "Y")), (-lo, (qb, IND))],
    ]
    if tight:
        public.update({"SA": Channel(axis, tuple(1 << (ka - k) for k in ka_c)),
                       "SB": Channel(axis, tuple(1 << (kb - k) for k in kb_c))})
        comp = [Quantity(f"{pre}/above_scaled", ka), Quantity(f"{pre}/below_scaled", kb)]
        qs += comp
        ca, cb = (f"q:{q.name}" for q in comp)
        rel += [[(1, (ca,)), (-1, ("SA", qa))], [(1, (cb,)), (-1, ("SB", qb))]]
    if exact:
        del qs[1], rel[1]
    return System(shape, public, {"X": node.inputs[0]}, {"Y": node.output}, qs, rel, mult_prefix=pre,
                  bits={pi: f"{pre}/parity"})


def _handler(node, specs, claim, reader, transcript):
    where = f"node {node.name} (Requantize)"
    if claim is not None:
        raise UnexpectedClaim("a claim on the output reached the layer; it must be advice", where=where)
    return verify_system(requantize_system(node, specs), reader.read(SystemProof), transcript, where=where)


def _advice_shapes(node, specs):
    system = requantize_system(node, specs)
    return {node.output: system.shape, **system.advice_shapes()}


def register(handlers, advice_shapes) -> None:
    handlers["Requantize"] = _handler
    advice_shapes["Requantize"] = _advice_shapes
