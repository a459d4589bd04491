"""The zero-knowledge session of one proof: banks of committed randomness,
padded values, and the linear checks deferred to the bank's opening.

**Banks.** Before the first challenge the prover samples each bank (a table
of uniform GF(p^2) elements from the OS CSPRNG) and commits to it with the
hiding commitment, alongside the tables whose claims its entries will hide
(a claim can only be discharged together with its pads when both live in
one commitment: "advice" holds the advice tensors, "input" a committed
input). Entries are consumed in order; each is used once, for one purpose:

* a Libra mask g of a sum-check (n d + 1 entries, `sumcheck.prover`);
* a pad m for one final value of a sum-check: the prover sends
  f^ = f~(r) + Z(r) m instead of f~(r) (the randomized extension);
* a pad for any other value a protocol sends (`pad` / `receive`).

Both sides consume the same entries in the same order (the protocol's
shape fixes the count), so the verifier knows which entry hides what
without being told.

**Deferred checks.** An equality the verifier cannot decide because one
side is `Hidden` (`require_equal`) becomes the linear claim "this affine
form of the bank is 0". The prover records the same check at the same
point of its run (its layer code calls `require_equal` too), and at the
end both sides fold all of a bank's checks with powers of one challenge
into a single weighted claim on the bank table (`bank_claim`), which the
batched opening proves. The folded claim's value is determined by what the
transcript already shows (every check is a consistency check), so opening
it reveals nothing new. Soundness: a false check survives the folding with
probability <= (checks) / |K|.

The bank is committed as base-field words: element k is words 2k (c0) and
2k + 1 (c1), so sum_k a_k bank[k] = sum_k a_k w_2k + (a_k X) w_2k+1.
"""

from __future__ import annotations

import functools
from array import array
from dataclasses import dataclass, field

import numpy as np

from zkaudit.errors import ProofRejected
from zkaudit.field import npfield as nf
from zkaudit.field.constants import P as _P
from zkaudit.field.constants import W as _W
from zkaudit.field.hidden import Hidden
from zkaudit.field.randomness import random_ext
from zkaudit.field.scalar import Fp, Fp2, _fp2

LABEL_DEFERRED = b"zk/deferred-checks"
_X = Fp2(0, 1)
_MINUS_ONE = Fp2(-1)
ADVICE = "advice"
# A sum-check's `pad_bank` maps a table index to the bank of its final
# value's pad; under this key, the bank of its Libra mask (default ADVICE):
# a claim whose hidden part lives in another bank is proven with a mask from
# that bank, so that its end check folds into one bank's opening.
MASK_BANK = "mask"


class DeferredCheckFailed(ProofRejected):
    """A value the verifier could check on the spot (both sides public) differs."""


class BankExhausted(RuntimeError):
    """The prover sized a bank too small for the proof (a completeness
    matter: the caller retries with a larger bank). For the verifier, a
    proof consuming more entries than the committed bank holds is malformed."""


class BankOverrun(ProofRejected):
    """The proof needs more bank entries than the committed bank holds."""


@dataclass
class _Cursor:
    size: int  # elements of GF(p^2)
    used: int = 0


@dataclass
class ZkSession:
    """What prover and verifier share: bank sizes, cursors, deferred checks.
    The prover's subclass also holds the bank values."""

    sizes: dict[str, int]
    cursors: dict[str, _Cursor] = field(default_factory=dict)
    checks: list[Hidden] = field(default_factory=list)  # each must equal 0

    def __post_init__(self):
        self.cursors = {name: _Cursor(size) for name, size in self.sizes.items()}

    is_prover = False

    def take(self, count: int, bank: str = ADVICE) -> list[tuple[str, int]]:
        cur = self.cursors.get(bank)
        if cur is None:
            raise BankOverrun(f"no bank {bank!r} in this proof", where="zk.bank")
        if cur.used + count > cur.size:
            if self.is_prover:
                raise BankExhausted(f"bank {bank!r} of {cur.size} entries exhausted")
            raise BankOverrun("the proof uses more randomness than its committed bank holds", where="zk.bank",
                              expected=cur.size, got=cur.used + count)
        keys = [(bank, cur.used + i) for i in range(count)]
        cur.used += count
        return keys

    def take_each(self, banks) -> list[tuple[str, int]]:
        """[take(1, b)[0] for b in banks]: one element from each named bank,
        in order. Each bank's cursor advances alone, so when every bank holds
        enough this is one `take` per bank (the same keys: a sum-check's pads,
        one per table); otherwise element by element, so that an overrun is
        raised exactly where the single takes raise it."""
        counts: dict[str, int] = {}
        for b in banks:
            counts[b] = counts.get(b, 0) + 1
        for b, n in counts.items():
            cur = self.cursors.get(b)
            if cur is None or cur.used + n > cur.size:
                return [self.take(1, b)[0] for b in banks]
        if len(counts) == 1:
            ((b, n),) = counts.items()
            return self.take(n, b)
        runs = {b: iter(self.take(n, b)) for b, n in counts.items()}
        return [next(runs[b]) for b in banks]

    def receive(self, sent: Fp2, bank: str = ADVICE) -> Hidden:
        """The value a protocol sent padded (`ZkProver.pad`): sent - m."""
        (key,) = self.take(1, bank)
        if type(sent) is Fp2:  # already canonical: one nonzero term (thousands per big proof)
            return Hidden._raw(sent, ((key, _MINUS_ONE),))
        return Hidden(sent, ((key, _MINUS_ONE),))

    def receive_many(self, sent, bank: str = ADVICE) -> list[Hidden]:
        """[receive(v, bank) for v in sent]: one take for all when the bank
        holds enough (the same consecutive keys), else one by one, so that an
        overrun is raised where `receive` raises it."""
        sent = list(sent)
        cur = self.cursors.get(bank)
        if cur is None or cur.used + len(sent) > cur.size:
            return [self.receive(v, bank) for v in sent]
        keys = self.take(len(sent), bank)
        raw, minus_one = Hidden._raw, _MINUS_ONE
        return [raw(v, ((key, minus_one),)) if type(v) is Fp2 else Hidden(v, ((key, minus_one),))
                for v, key in zip(sent, keys)]

    def require_equal(self, got, expected, *, where: str, error=DeferredCheckFailed) -> None:
        """got == expected: checked now when both are public, else deferred
        to the bank opening (see the module docstring)."""
        if type(got) is Hidden and type(expected) is Hidden and len(got.terms) == 1 and len(expected.terms) == 1:
            # two values padded by one bank element each (a scalar table's claims, `inference.zk`):
            # the difference's canonical form built directly, as `Hidden.__sub__` would
            (ka, ca), (kb, cb) = got.terms[0], expected.terms[0]
            if ka != kb:
                nb = _fp2((-cb.c0) % _P, (-cb.c1) % _P)
                self.checks.append(Hidden._raw(got.const - expected.const,
                                               ((ka, ca), (kb, nb)) if ka < kb else ((kb, nb), (ka, ca))))
                return
        diff = Hidden.of(got) - Hidden.of(expected)
        if diff.is_public:
            if diff.const != Fp2(0):
                raise error("values differ", where=where, expected=expected, got=got)
            return
        self.checks.append(diff)

    def banks_used(self) -> dict[str, int]:
        return {name: cur.used for name, cur in self.cursors.items()}


class ZkProver(ZkSession):
    is_prover = True

    def __init__(self, sizes: dict[str, int], values: dict[str, np.ndarray] | None = None):
        """`values`: banks fixed by the caller ((size, 2) words; e.g. one
        derived from a commitment's seed); the rest are drawn fresh."""
        super().__init__(sizes)
        # (key, f~(r), Z(r)) of every final-value pad, for the tests' exact
        # rank check (a pad enters the last round's products quadratically)
        self.final_pads: list[tuple[tuple[str, int], Fp2, Fp2]] = []
        given = values or {}
        self.values = {name: given[name] if name in given else random_ext(size) for name, size in sizes.items()}

    def entry(self, key: tuple[str, int]) -> Fp2:
        a, b = self.values[key[0]][key[1]]
        return Fp2(int(a), int(b))

    def draw(self, count: int, bank: str = ADVICE) -> tuple[list[tuple[str, int]], list[Fp2]]:
        keys = self.take(count, bank)
        arr = self.values[bank]
        start = keys[0][1] if keys else 0
        vals = [Fp2(int(a), int(b)) for a, b in arr[start : start + count]]
        return keys, vals

    def draw_each(self, banks) -> list[tuple[tuple[str, int], Fp2]]:
        """One element from each named bank, in order (`take_each`'s keys):
        a sum-check's final-value pads. Consecutive keys of one bank (the
        usual case) are read as one slice, the same values as `entry`."""
        keys = self.take_each(banks)
        if keys:
            bank, start = keys[0]
            if keys[-1] == (bank, start + len(keys) - 1) and all(k[0] == bank for k in keys):
                rows = self.values[bank][start : start + len(keys)].tolist()
                return [(key, Fp2(a, b)) for key, (a, b) in zip(keys, rows)]
        return [(key, self.entry(key)) for key in keys]

    def draw_words(self, count: int, bank: str = ADVICE) -> tuple[list[tuple[str, int]], list[list[int]]]:
        """`draw` with the values as [c0, c1] int pairs (a mask's dozens of
        coefficients go straight into int arithmetic)."""
        keys = self.take(count, bank)
        start = keys[0][1] if keys else 0
        return keys, self.values[bank][start : start + count].tolist()

    def value(self, v) -> Fp2:
        """The true value of a (possibly) Hidden value."""
        if isinstance(v, MaskEnd):
            v = v.hidden()
        if not isinstance(v, Hidden):
            return Fp2.from_base(v) if isinstance(v, Fp) else v
        t0, t1 = v.const.c0, v.const.c1
        values = self.values
        for (bank, idx), c in v.terms:  # on ints: one reduction at the end (every sum-check asks for its claim's)
            a, b = values[bank][idx].tolist()
            t0 += c.c0 * a + _W * c.c1 * b
            t1 += c.c0 * b + c.c1 * a
        return _fp2(t0 % _P, t1 % _P)

    def pad(self, value: Fp2, bank: str = ADVICE) -> tuple[Fp2, Hidden]:
        """(what to send, the Hidden the verifier's `receive` will hold)."""
        keys, (m,) = self.draw(1, bank)
        sent = value + m
        return sent, Hidden(sent, ((keys[0], Fp2(-1)),))


    def table(self, bank: str) -> np.ndarray:
        """The bank as base words (c0, c1 per element), what gets committed."""
        return np.ascontiguousarray(self.values[bank].reshape(-1))


def bank_claim(session: ZkSession, bank: str, transcript) -> tuple[np.ndarray, Fp2] | None:
    """Fold every deferred check on `bank` into one linear claim
    sum_w weights[w] * words[w] = value on the bank's base words (`weights`
    a (words, 2) array of GF(p^2) elements, from word 0). A check
    touching two banks cannot be folded into one opening: refused (a
    protocol bug; the layers route each value's pads to its own bank)."""
    mine = []
    for chk in session.checks:
        if type(chk) is MaskEnd:  # one bank by construction (`require_end_check`)
            if chk.bank == bank:
                mine.append(chk)
            continue
        # a Hidden's terms are sorted by (bank, index): one bank iff the first and last share it
        if not chk.terms or chk.terms[0][0][0] != chk.terms[-1][0][0]:  # not reachable by the protocol's shape
            banks = sorted({k[0] for k, _ in chk.terms})
            raise DeferredCheckFailed(f"a deferred check spans banks {banks}", where="zk.bank")
        if chk.terms[0][0][0] == bank:
            mine.append(chk)
    if not mine:
        return None
    transcript.absorb_u64(LABEL_DEFERRED, len(mine))
    gamma = transcript.challenge_ext(LABEL_DEFERRED)  # a false check survives with probability <= len / |K|
    if len(mine) > 9:  # past the challenge's default charge (8 / |K|): the folding's own (n - 1) / |K|
        import math

        transcript.charge("zk deferred checks folded by powers of gamma", math.log2(len(mine) - 1) - 2 * math.log2(_P))
    # chk = const + sum c_k bank[k] = 0  ->  sum c_k bank[k] = -const; folded with powers of gamma,
    # on ints (one reduction per power, one for the value): a proof folds a check per masked sum-check
    g0, g1 = gamma.c0, gamma.c1
    w_g1 = _W * g1
    p0, p1, v0, v1 = 1, 0, 0, 0
    powers = []
    for chk in mine:
        powers.append((p0, p1))
        c = chk.const
        v0 += p0 * c.c0 + _W * p1 * c.c1
        v1 += p0 * c.c1 + p1 * c.c0
        p0, p1 = (p0 * g0 + p1 * w_g1) % _P, (p0 * g1 + p1 * g0) % _P
    return _fold_terms(mine, powers), _fp2(-v0 % _P, -v1 % _P)


def _fold_terms(mine, powers) -> np.ndarray:
    """sum_j powers[j] * (the terms of check j), as weights on the bank's base
    words; powers as Fp2 or as (c0, c1) int pairs. Vectorized: thousands of
    terms per proof (every masked sum-check's mask); `_fold_terms_reference`
    is the loop, tested equal."""
    from zkaudit.field import vec

    if powers and type(powers[0]) is Fp2:
        powers = [(p.c0, p.c1) for p in powers]
    ends = [(chk, _fp2(*p)) for chk, p in zip(mine, powers) if type(chk) is MaskEnd]
    forms = []
    for chk, (p0, p1) in zip(mine, powers):
        if type(chk) is MaskEnd:
            s = chk.extra_scale
            forms.append((chk.extra, ((p0 * s.c0 + _W * p1 * s.c1) % _P, (p0 * s.c1 + p1 * s.c0) % _P)))
        else:
            forms.append((chk.terms, (p0, p1)))
    flat = [t for terms, _ in forms for t in terms]
    if not flat and not ends:
        return _fold_terms_reference(mine, [_fp2(a, b) for a, b in powers])
    idx = np.fromiter((k[1] for k, _ in flat), dtype=np.int64, count=len(flat))
    prod = np.zeros((0, 2), dtype=np.uint64)
    if flat:
        coef = np.empty((len(flat), 2), dtype=np.uint64)  # two flat int lists convert faster than pairs
        coef[:, 0] = [c.c0 for _, c in flat]
        coef[:, 1] = [c.c1 for _, c in flat]
        scale = np.array([p for _, p in forms], dtype=np.uint64).reshape(-1, 2)
        prod = vec.mul(coef, np.repeat(scale, [len(terms) for terms, _ in forms], axis=0))
    if ends:
        mask_idx, mask_prod = _mask_weights(ends)
        idx, prod = np.concatenate([idx, mask_idx]), np.concatenate([prod, mask_prod])
    elements, at = np.unique(idx, return_inverse=True)
    return _word_weights(elements, vec.sum_by_index(prod, at, elements.shape[0]))


# Up to this many mask variables in one fold `_mask_weights` runs on ints:
# each of the array path's products (one per degree) is ~85 numpy operations
# whatever the size, each int product ~0.5 us (logistic_risk's 14 checks,
# 42 variables: 0.10 against 0.19 ms; breast_cancer_rf's 68 checks, 350
# variables of degrees 3 and 6: 0.81 against 0.67 ms).
MASK_INTS_UP_TO = 128


def _mask_weights(ends) -> tuple[np.ndarray, np.ndarray]:
    """The mask parts of (MaskEnd, power) pairs as (bank index, weight)
    arrays: power rho on a_0 (those rows first, one per check) and power
    rho x_i^e on variable i's X^e coefficient; the rows' order is free (the
    fold sums by index). `_fold_terms_reference` (through `MaskEnd.terms`)
    is the reference the fold is tested against, at both sizes."""
    if sum(len(c.point) for c, _ in ends) <= MASK_INTS_UP_TO:
        return _mask_weights_ints(ends)
    return _mask_weights_arrays(ends)


def _mask_weights_ints(ends) -> tuple[np.ndarray, np.ndarray]:
    """`_mask_weights` on ints, each power from the one before."""
    idx0, a0_0, a0_1 = [], [], []
    idx, w0, w1 = [], [], []
    for chk, p in ends:
        b0 = (p.c0 * chk.rho.c0 + _W * p.c1 * chk.rho.c1) % _P
        b1 = (p.c0 * chk.rho.c1 + p.c1 * chk.rho.c0) % _P
        idx0.append(chk.start)
        a0_0.append(b0)
        a0_1.append(b1)
        at = chk.start + 1
        for x, d in zip(chk.point, chk.degrees):
            x0, x1 = x.c0, x.c1
            wx1 = _W * x1
            c0, c1 = b0, b1
            for _ in range(d):
                c0, c1 = (c0 * x0 + c1 * wx1) % _P, (c0 * x1 + c1 * x0) % _P
                w0.append(c0)
                w1.append(c1)
            idx.extend(range(at, at + d))
            at += d
    out = np.empty((len(idx0) + len(idx), 2), dtype=np.uint64)
    out[:, 0] = np.frombuffer(array("Q", a0_0 + w0), dtype=np.uint64)  # a C loop: numpy converts ints >= 2^63 one by one
    out[:, 1] = np.frombuffer(array("Q", a0_1 + w1), dtype=np.uint64)
    return np.array(idx0 + idx, dtype=np.int64), out


def _mask_weights_arrays(ends) -> tuple[np.ndarray, np.ndarray]:
    """`_mask_weights` with the powers of every variable of every check
    raised together, one vectorized product per degree."""
    from zkaudit.field import vec

    idx0, base, xs, first, degs = [], [], [], [], []
    for chk, p in ends:
        b0 = (p.c0 * chk.rho.c0 + _W * p.c1 * chk.rho.c1) % _P
        b1 = (p.c0 * chk.rho.c1 + p.c1 * chk.rho.c0) % _P
        idx0.append(chk.start)
        base.append((b0, b1))
        at = chk.start + 1
        for x, d in zip(chk.point, chk.degrees):
            xs.append((x.c0, x.c1))
            first.append(at)
            degs.append(d)
            at += d
    x = np.array(xs, dtype=np.uint64).reshape(-1, 2)
    first_idx = np.array(first, dtype=np.int64)
    deg = np.array(degs, dtype=np.int64)
    per_var = np.repeat(np.array(base, dtype=np.uint64).reshape(-1, 2), [len(c.point) for c, _ in ends], axis=0)
    out_idx, out_w = [np.array(idx0, dtype=np.int64)], [np.array(base, dtype=np.uint64).reshape(-1, 2)]
    live = np.arange(x.shape[0])
    cur = per_var
    for e in range(1, int(deg.max(initial=0)) + 1):
        keep = deg[live] >= e
        live, cur = live[keep], cur[keep]
        cur = vec.mul(cur, x[live])  # power rho x^e
        out_idx.append(first_idx[live] + (e - 1))
        out_w.append(cur)
    return np.concatenate(out_idx), np.concatenate(out_w)


def _word_weights(idx: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    # element idx = w_2idx + X w_2idx+1, so weight w on it is (w, w X) on its
    # words; X (a + b X) = W b + a X
    weights = np.zeros((2 * (int(idx.max()) + 1), 2), dtype=np.uint64)
    weights[2 * idx] = pairs
    weights[2 * idx + 1, 0] = nf.mul_small(pairs[:, 1], _W)  # (W b) mod p, vectorized
    weights[2 * idx + 1, 1] = pairs[:, 0]
    return weights


def _fold_terms_reference(mine, powers) -> np.ndarray:
    """`_fold_terms` term by term in plain ints."""
    acc: dict[int, list[int]] = {}
    for chk, power in zip(mine, powers):
        p0, p1 = power.c0, power.c1
        for (_, idx), c in chk.terms:
            w0 = p0 * c.c0 + _W * p1 * c.c1  # power * c in GF(p^2) = F_p[X] / (X^2 - W)
            w1 = p0 * c.c1 + p1 * c.c0
            slot = acc.setdefault(idx, [0, 0])
            slot[0] += w0
            slot[1] += w1
    if not acc:
        return np.zeros((0, 2), dtype=np.uint64)
    idx = np.fromiter(acc.keys(), dtype=np.int64, count=len(acc))
    pairs = np.array([(w0 % _P, w1 % _P) for w0, w1 in acc.values()], dtype=np.uint64).reshape(-1, 2)
    weights = np.zeros((2 * (int(idx.max()) + 1), 2), dtype=np.uint64)
    weights[2 * idx] = pairs
    weights[2 * idx + 1, 0] = [(_W * int(b)) % _P for b in pairs[:, 1]]
    weights[2 * idx + 1, 1] = pairs[:, 0]
    return weights


def linear_terms(v: Hidden, bank: str) -> dict[int, Fp2]:
    """v's bank part as weights on the bank's base words."""
    out: dict[int, Fp2] = {}
    for (b, idx), c in v.terms:
        if b != bank:
            raise ValueError(f"value depends on bank {b!r}, expected {bank!r}")
        out[2 * idx] = out.get(2 * idx, Fp2(0)) + c
        out[2 * idx + 1] = out.get(2 * idx + 1, Fp2(0)) + c * _X
    return out


# ------------------------------------------------ the zero-knowledge sum-check
#
# Shared by `zk_prover` and `verifier`. A run of n >= 1 variables and degree
# d uses, in this order: a Libra mask g = a_0 + sum_i g_i(x_i) with g_i of
# degree d (2d for the last variable, whose round is of degree 2d), then one
# pad per padded table. See `zk_prover` for the protocol.

LABEL_ZK_FORM = b"sumcheck/zk-claim-form"


def mask_degrees(num_vars: int, degree: int) -> list[int]:
    return [degree] * (num_vars - 1) + [2 * degree]


def mask_size(num_vars: int, degree: int) -> int:
    return 1 + sum(mask_degrees(num_vars, degree))


def mask_at(keys, point, degrees) -> Hidden:
    """g(point) as a Hidden form over the mask's bank entries (a_0 first,
    then each variable's coefficients of X^1..X^d_i)."""
    terms = [(keys[0], Fp2(1))]
    at = 1
    for x, d in zip(point, degrees):
        power = Fp2(1)
        for _ in range(d):
            power = power * x
            terms.append((keys[at], power))
            at += 1
    if any(not (c.c0 or c.c1) for _, c in terms):  # a zero challenge: let the constructor drop its terms
        return Hidden(Fp2(0), terms)
    return Hidden._raw(Fp2(0), tuple(terms))  # keys are consecutive: already sorted and distinct


def end_check_form(combined: Fp2, rho: Fp2, keys, point, degrees, hidden_part: Hidden, num_vars: int) -> Hidden:
    """combined + rho * g(point) - hidden_part / 2^num_vars: the left side of
    a zero-knowledge sum-check's end check (the right side is the last
    round's claim), for the mask g on bank entries `keys`. One pass on plain
    ints with the mask's terms built already scaled by rho, where the
    expression (`end_check_form_reference`) builds g(point) with `mask_at`,
    scales every term again by rho and merges the forms twice; the same
    form, tested. A zero challenge or mask keys shared with the claim (not
    produced by the protocol) take the reference."""
    r0, r1 = rho.c0, rho.c1
    if type(combined) is not Fp2 or not (r0 or r1) or any(not (x.c0 or x.c1) for x in point):
        return end_check_form_reference(combined, rho, keys, point, degrees, hidden_part, num_vars)
    # nonzero times nonzero is nonzero: no term drops
    terms = [(keys[0], rho)]
    append = terms.append
    at = 1
    for x, d in zip(point, degrees):
        x0, x1 = x.c0, x.c1
        w1 = _W * x1
        p0, p1 = r0, r1
        for _ in range(d):
            p0, p1 = (p0 * x0 + p1 * w1) % _P, (p0 * x1 + p1 * x0) % _P
            append((keys[at], _fp2(p0, p1)))
            at += 1
    const = combined
    if hidden_part.terms or hidden_part.const != Fp2(0):
        if not set(keys).isdisjoint(k for k, _ in hidden_part.terms):
            return end_check_form_reference(combined, rho, keys, point, degrees, hidden_part, num_vars)
        scaled = hidden_part * -inv_pow2(num_vars)
        const = combined + scaled.const  # a public part of the claim (none in today's callers) counts too
        terms.extend(scaled.terms)
        terms.sort(key=lambda t: t[0])  # distinct keys: two sorted runs merged
    return Hidden._raw(const, tuple(terms))


def end_check_form_reference(combined, rho, keys, point, degrees, hidden_part, num_vars) -> Hidden:
    """`end_check_form` as the expression it stands for."""
    return combined + rho * mask_at(keys, point, degrees) - hidden_part * inv_pow2(num_vars)


class MaskEnd:
    """A masked sum-check's end check as the deferred check it becomes,
    kept by its parameters instead of its terms:

        const + rho g(point) + extra = 0,

    g the mask on bank entries start, start + 1, ... (a_0, then each
    variable's coefficients of X^1..X^d_i), `extra` * `extra_scale` the claim's hidden part
    scaled by -2^-n (terms only: its constant is in `const`). `terms` and
    `hidden()` give the affine form `end_check_form` minus the claim builds,
    the same terms in the same order (tested); the bank opening's fold
    takes the mask part by vectorized powers (`_mask_weights`), where
    building ~30-70 terms per sum-check was a tenth of a small proof's
    verification."""

    __slots__ = ("const", "rho", "bank", "start", "point", "degrees", "extra", "extra_scale", "_terms")

    def __init__(self, const: Fp2, rho: Fp2, bank: str, start: int, point, degrees, extra: tuple,
                 extra_scale: Fp2 = Fp2(1)):
        self.const, self.rho, self.bank, self.start = const, rho, bank, start
        self.point, self.degrees, self.extra, self._terms = tuple(point), tuple(degrees), extra, None
        # the claim's terms stay unscaled until a fold or `terms` needs them: a
        # lookup layer's claim carries dozens, and every one was a product here
        self.extra_scale = extra_scale

    is_public = False  # rho and every coordinate are nonzero: every mask term is

    @property
    def terms(self) -> tuple:
        if self._terms is None:
            keys = [(self.bank, self.start + i) for i in range(1 + sum(self.degrees))]
            form = end_check_form(Fp2(0), self.rho, keys, self.point, self.degrees, Hidden(Fp2(0)), 0)
            extra = (Hidden._raw(Fp2(0), self.extra) * self.extra_scale).terms if self.extra else ()
            terms = list(form.terms) + list(extra)
            if self.extra:
                terms.sort(key=lambda t: t[0])
            self._terms = tuple(terms)
        return self._terms

    def hidden(self) -> Hidden:
        return Hidden._raw(self.const, self.terms)

    def __eq__(self, o):
        if isinstance(o, (MaskEnd, Hidden)):
            return self.const == o.const and self.terms == o.terms
        return NotImplemented

    __hash__ = None


def require_end_check(zk: ZkSession, combined: Fp2, claim: Fp2, rho: Fp2, keys, point, degrees, hidden_part: Hidden,
                      num_vars: int, *, where: str, error=DeferredCheckFailed) -> None:
    """end_check_form(combined, rho, keys, ...) == claim, deferred as a
    `MaskEnd` when it is one: values public, rho and the point nonzero (so
    no mask term vanishes), the mask's keys consecutive in one bank and the
    claim's hidden part in that bank on other keys. Otherwise the form and
    `require_equal`, as before."""
    bank, start = keys[0] if keys else (None, 0)
    fast = (type(combined) is Fp2 and type(claim) is Fp2 and (rho.c0 or rho.c1) and keys
            and len(keys) == 1 + sum(degrees) and keys[-1] == (bank, start + len(keys) - 1)
            and all(x.c0 or x.c1 for x in point))
    if fast and hidden_part.terms:
        terms = hidden_part.terms  # sorted by (bank, index): one bank iff its first and last keys' bank
        (first_bank, first), (last_bank, last) = terms[0][0], terms[-1][0]
        if first_bank != bank or last_bank != bank:
            fast = False
        elif not (last < start or first >= start + len(keys)):  # the claim's keys before the mask's (the protocol's
            fast = all(not start <= k[1] < start + len(keys) for k, _ in terms)  # order), else each is looked at
    if not fast:
        got = end_check_form(combined, rho, keys, point, degrees, hidden_part, num_vars)
        zk.require_equal(got, claim, where=where, error=error)
        return
    const = combined - claim
    scale = _neg_inv_pow2(num_vars)
    if hidden_part.const.c0 or hidden_part.const.c1:  # a public part of the claim (none in today's callers) counts too
        const = const + hidden_part.const * scale
    zk.checks.append(MaskEnd(const, rho, bank, start, point, degrees, hidden_part.terms, scale))


def vanishing(point) -> Fp2:
    """Z(r) = prod_k r_k (1 - r_k): zero on the Boolean cube. On plain ints
    (every masked sum-check's end asks for it); `vanishing_reference` is
    the product in Fp2, tested against it."""
    a0, a1 = 1, 0
    for r in point:
        r0, r1 = r.c0, r.c1
        s0 = (r0 - r0 * r0 - _W * r1 * r1) % _P  # r - r^2, X^2 = W
        s1 = (r1 - 2 * r0 * r1) % _P
        a0, a1 = (a0 * s0 + _W * a1 * s1) % _P, (a0 * s1 + a1 * s0) % _P
    return _fp2(a0, a1)


def vanishing_reference(point) -> Fp2:
    acc = Fp2(1)
    for r in point:
        acc = acc * r * (Fp2(1) - r)
    return acc


@functools.lru_cache(maxsize=256)
def inv_pow2(k: int) -> Fp2:
    """2^-k (cached: every round of every masked sum-check asks for 1/2)."""
    return Fp2(pow(2, k, (1 << 64) - (1 << 32) + 1)).inverse()


@functools.lru_cache(maxsize=256)
def _neg_inv_pow2(k: int) -> Fp2:
    return -inv_pow2(k)


def absorb_claim_form(transcript, claimed) -> None:
    """A Hidden claimed sum's bank part is fixed by the protocol's shape; it
    is bound anyway, so a transcript names exactly the claim it proves."""
    if isinstance(claimed, Hidden) and claimed.terms:
        transcript.absorb_bytes(LABEL_ZK_FORM, claimed.to_bytes())


# --------------------------------------------- helpers for protocols' values


def send(transcript, value):
    """Prover: (what to put in the proof, what to compute with). In a
    zero-knowledge run the value goes out padded and stays Hidden."""
    zk = getattr(transcript, "zk", None)
    if zk is None:
        return value, value
    return zk.pad(Fp2.from_base(value) if isinstance(value, Fp) else value)


def receive(transcript, sent):
    """Verifier: the value to compute with for a value the proof carries."""
    zk = getattr(transcript, "zk", None)
    return sent if zk is None else zk.receive(sent)


def check_equal(transcript, got, expected, *, where: str, error, message: str = "values differ") -> None:
    """got == expected, on the spot for public values, deferred in a
    zero-knowledge run when either is Hidden. Prover and verifier both call
    it at the same point of the protocol (the prover's call records the
    deferred check the verifier will make)."""
    zk = getattr(transcript, "zk", None)
    if zk is None:
        if got != expected:
            raise error(message, where=where, expected=expected, got=got)
        return
    diff = Hidden.of(got) - Hidden.of(expected)
    if diff.is_public and diff.const != Fp2(0):
        raise error(message, where=where, expected=expected, got=got)
    zk.require_equal(got, expected, where=where, error=error)
