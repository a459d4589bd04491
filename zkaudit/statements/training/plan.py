"""The training relation as columns, gates, ranges and lookups: what prover
and verifier both derive from the policy and the dataset's row count.

Three domains of the step index t (high bits, 2^a > T) with a second index:

    slot   (t, j)   j < 2^b >= B_max     one Poisson slot: gap draw, record, gradient, clipping
    coord  (t, k)   k < 2^c >= d         one parameter: noise draw, rounded sum, update, state
    step   (t)                           the terminating gap draw and the completeness check

and one committed feature table X (t, j, k): the record slot (t, j) fetched
(x~ = [x, 2^f], 0 on dead slots). A *column* is a committed advice table of
its domain; a *virtual* table enters a domain's zero-check but is reduced
elsewhere (`i` and `ilast` by the prefix-sum check to the gap column, `next`
by the shift check to the state table, `dot`, `xn`, `shi` by the feature
sum-check, `R:*` on the tape commitment, `m:*` and `E` public).

Every gate is multiplied by E = eq(r, x) sel(x), sel the indicator of the
real rows (t < T; k < d); a range check "expr in [0, 2^bits)" commits 16-bit
limbs (the last one narrower) and adds the gate expr = sum 2^(16 l) limb_l.
Widths are chosen so that no checked expression can wrap the field: each is
a polynomial of range-checked (or table-bounded) integers whose true value
lies far inside (-p/2, p/2), so membership in [0, 2^bits) is the integer
statement. Rows outside sel are free except that every lookup must hold
(the honest prover fills them with table rows).

An MLP d_in-h-1 adds a fourth domain and lays theta out by layer:

    unit   (t, j, u)   u < 2^e >= h      one hidden unit of one slot: requantized
                                         pre-activation, clamp, ReLU, backprop, clipping

and coord's index is (t, blk, u, k) (`tape.coord_layout`): W~1 = [W1 | b1]
in block 0, w~2 = [w2, b2] in block 1, so the real coordinates are a union
of boxes, not one (Domain.sel is a list of boxes). X's k runs over 2^c1 >=
d_in + 1 only. Virtual tables: `pre` (W~1 x~, the feature sum-check),
`dot`, `hnorm` = |h~|^2, `dnorm` = |dh|^2, `dtnorm` = |dh~|^2 (the hidden
sum-check), and broadcasts read at (t, j) or (t, u) directly: `w2b` =
w2(t, u), `sgb`, `eabb`, `denb`, `liveb` = the slot's sg, eab, den, live.
Every unit column that a sum over u reads (hid, dh, dht) is 0 off the real
rows (all-row gates), so the padding units add nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from zkaudit.lookup.tables import TableSpec, ValuesTable
from zkaudit.statements.training.expr import Expr, V
from zkaudit.train.tape import TapeShape

LIMB = 16
WORD = 63
TWO63 = 1 << 63


def cdt_values(thresholds: np.ndarray) -> tuple[int, ...]:
    """V_0 = -1, V_i = T_(i-1) - 1: a draw with table index k (value k - offset)
    has (k + 1, V_(k+1)) = (k + 1, T_k - 1) and (k, V_k) = (k, T_(k-1) - 1) in
    the table, so T_(k-1) <= u < T_k reads V_k < u <= V_(k+1). Rows past the
    end hold 0 and can never satisfy both (u >= 1 and u <= 0)."""
    return (-1,) + tuple(int(t) - 1 for t in thresholds)


def box(*groups) -> tuple[tuple[int, int, int], ...]:
    """One box of real rows: (variables, lo, hi) per index group, high first;
    (variables, bound) stands for (variables, 0, bound)."""
    return tuple(g if len(g) == 3 else (g[0], 0, g[1]) for g in groups)


@dataclass
class Domain:
    name: str
    num_vars: int
    sel: tuple  # disjoint boxes (see `box`): sel = sum over boxes of prod over groups [lo <= index < hi]
    columns: list[str] = field(default_factory=list)
    virtual: list[str] = field(default_factory=list)
    public: list[str] = field(default_factory=list)
    gates: list[tuple[str, Expr]] = field(default_factory=list)
    # gates on every row (weight eq(r, x), not eq(r, x) sel(x)): what must hold
    # outside the real rows too; they may use the public selector column "sel"
    all_rows: list[tuple[str, Expr]] = field(default_factory=list)


@dataclass(frozen=True)
class RangeCheck:
    domain: str
    name: str
    expr: Expr
    bits: int

    @property
    def widths(self) -> tuple[int, ...]:
        full, rest = divmod(self.bits, LIMB)
        return (LIMB,) * full + ((rest,) if rest else ())

    @property
    def limbs(self) -> tuple[str, ...]:
        return tuple(f"{self.domain}/{self.name}.l{i}" for i in range(len(self.widths)))


@dataclass(frozen=True)
class TableLookup:
    """Columns (name, constant) of one domain, looked up as (name + constant) in a public table."""

    domain: str
    table: str
    columns: tuple[tuple[str, int], ...]


class Plan:
    def __init__(self, policy, num_rows: int, sem, *, chunk: tuple[int, int] | None = None):
        """`chunk` = (steps, step variables): one chunk of a chunked run
        (`chunked.py`): its own T and a, no thetaT table (the run's ends are
        proven once, on the global commitment)."""
        if policy.clip_fine > 1 << 31:  # see den_bits
            raise ValueError(f"the fine clip norm C 2^F = {policy.clip_fine} exceeds 2^31: a training proof needs "
                             "den < 2^32 (lower clip_norm or the fixed-point bits)")
        self.policy, self.num_rows, self.sem = policy, num_rows, sem
        self.shape = TapeShape.of(policy)
        P, sh = policy, self.shape
        self.a, self.b, self.c = sh.step_vars, sh.slot_vars, sh.coord_vars
        self.h = sh.hidden
        self.dx = P.d_in + 1  # x~ = [x, 2^f]
        self.xk = max(1, (self.dx - 1).bit_length()) if self.h else self.c  # X's k variables
        self.e = max(1, (self.h - 1).bit_length()) if self.h else 0  # unit variables
        self.theta_vars = max(1, (P.num_params - 1).bit_length())  # thetaT: theta flat
        self.T, self.B, self.d = P.steps, P.max_batch, P.num_params
        self.chunked = chunk is not None
        if chunk is not None:
            self.T, self.a = chunk
        self.N = num_rows
        self.w, self.f = P.weight_bits, P.feature_bits
        self.L = P.sigmoid_input_limit
        self.sig_shift, self.grid_shift = sem.sig_shift, sem.grid_shift
        self.CF, self.lim = P.clip_fine, P.weight_limit
        self.a_mul, self.ush = P.update_multiplier()
        self.noise_offset = sem.noise_table.offset
        self.tables = {"gap": ValuesTable(cdt_values(sem.gap_table.thresholds)),
                       "noise": ValuesTable(cdt_values(sem.noise_table.thresholds)),
                       "sig": ValuesTable(tuple(int(v) for v in sem.sigmoid))}
        self.domains: dict[str, Domain] = {}
        self.ranges: list[RangeCheck] = []
        self.lookups: list[TableLookup] = []
        self._build()

    # --- construction ---------------------------------------------------------
    def _domain(self, name, num_vars, sel, columns, virtual=(), public=()):
        self.domains[name] = Domain(name, num_vars, tuple(sel), list(columns), list(virtual), list(public))

    @property
    def coord_boxes(self) -> tuple:
        """The real coordinates: [0, d) for logistic regression; for an MLP the
        W~1 block (u < h, k <= d_in) and w~2's entries v <= h at
        (1, v mod 2^e, v >> e) (`tape.coord_layout`)."""
        a, T = self.a, self.T
        if not self.h:
            return (box((a, T), (self.c, self.d)),)
        e, c1, h = self.e, self.xk, self.h
        out = [box((a, T), (1, 0, 1), (e, h), (c1, self.dx)),
               box((a, T), (1, 1, 2), (e, min(h + 1, 1 << e)), (c1, 0, 1))]
        if h + 1 > 1 << e:
            out.append(box((a, T), (1, 1, 2), (e, h + 1 - (1 << e)), (c1, 1, 2)))
        return tuple(out)

    def b2_position(self) -> tuple[int, int]:
        """(u, k) of b2 in block 1."""
        return self.h % (1 << self.e), self.h >> self.e

    @property
    def den_bits(self) -> tuple[int, int]:
        """Widths of den - C_F and of the clip remainder (< den). Soundness: with
        C_F <= 2^31 (`__init__`), den < 2^32, so den^2 < p and the den checks
        are integer statements (a den past sqrt(p) would wrap den^2 mod p and
        pass as a far larger divisor, silencing the record). Completeness: the
        squared norm is < 2^62 (`trainer.check_widths`), so the honest den is
        at most max(2^31, C_F); logistic regression's formats keep it below 2^27."""
        return (31, 32) if self.h else (28, 29)

    def _gate(self, dom: str, name: str, expr: Expr):
        self.domains[dom].gates.append((name, expr))

    def _range(self, dom: str, name: str, expr: Expr, bits: int):
        rc = RangeCheck(dom, name, expr, bits)
        self.ranges.append(rc)
        self.domains[dom].columns.extend(rc.limbs)
        total = Expr()
        shift = 0
        for limb, w in zip(rc.limbs, rc.widths):
            total = total + (1 << shift) * V(limb)
            shift += w
        self._gate(dom, f"range {name}", expr - total)

    def _word(self, dom: str, u: str, carry: str, tape: str):
        """G8: u = R + m - c 2^63 with c in {0, 1}, u and R in [0, 2^63)."""
        self._gate(dom, f"word {u}", V(u) - V(f"R:{tape}") - V(f"m:{tape}") + TWO63 * V(carry))
        self._gate(dom, f"carry {carry}", V(carry) * (V(carry) - 1))
        self._range(dom, u, V(u), WORD)
        self._range(dom, f"R:{tape}", V(f"R:{tape}"), WORD)

    def _cdt(self, dom: str, table: str, u: str, k: str, hi: str, lo: str):
        """G7: (k, hi) and (k - 1, lo) in the shifted threshold table, lo < u <= hi.
        Both differences are range-checked at the widest bucket's width, not 63
        bits: a negative difference of two 63-bit values lands in
        [p - 2^63, p), whose top 2^32 values overlap [0, 2^63), but never
        [0, 2^62) (so a bucket of 2^62 or more is refused)."""
        values = self.tables[table].values
        widest = max(values[i + 1] - values[i] for i in range(len(values) - 1))
        bits = max(1, widest.bit_length())
        if bits > 62:
            raise ValueError(f"the {table} table has a bucket of 2^{bits - 1} or more of the 2^63 words: a training "
                             "proof needs every CDT bucket below 2^62 (sampling rate below 1/2)")
        self.lookups.append(TableLookup(dom, table, ((k, 0), (hi, 0))))
        self.lookups.append(TableLookup(dom, table, ((k, -1), (lo, 0))))
        self._range(dom, f"{u}.below", V(hi) - V(u), bits)
        self._range(dom, f"{u}.above", V(u) - V(lo) - 1, bits)

    def _build(self):
        a, b, c = self.a, self.b, self.c
        T, B, N, L = self.T, self.B, self.N, self.L
        slot = ["ug", "cg", "kg", "hg", "lg", "live", "y", "zq", "rz", "zin", "bzh", "bzl", "prob", "sg", "eab",
                "n2", "den", "bd", "A", "rc", "et"]
        norms = ["hnorm", "dnorm", "dtnorm"] if self.h else []
        self._domain("slot", a + b, [box((a, T), (b, B))], slot, ["i", "dot", "xn", *norms, "R:gap"],
                     ["m:gap", "eq", "sel"])
        if self.h:
            self._domain("unit", a + b + self.e, [box((a, T), (b, B), (self.e, self.h))],
                         ["zu", "r1", "bh1", "bl1", "zh", "pz", "hid", "q2", "r2", "bqh", "bql", "cl", "dh", "sd",
                          "dab", "A1", "rc1", "dht"], ["pre", "w2b", "sgb", "eabb", "denb", "liveb"], ["eq", "sel"])
        self._domain("coord", a + c, self.coord_boxes, ["un", "cn", "kn", "hn", "ln", "S", "rS", "q", "ru", "bth",
                                                        "btl", "theta"], ["next", "shi", "R:noise"], ["m:noise"])
        self._domain("step", a, [box((a, T))], ["uB", "cB", "kB", "hB", "lB"], ["ilast", "R:last"], ["m:last"])

        # slot: the gap draw and the index chain (i is the prefix sum of kg = G + 1, minus 1)
        self._word("slot", "ug", "cg", "gap")
        self._cdt("slot", "gap", "ug", "kg", "hg", "lg")
        live, i = V("live"), V("i")
        # live is the fetch's LogUp numerator on EVERY row: 0/1 everywhere and 0
        # off the real rows, or a padding row's numerator could cancel a forged fetch
        self.domains["slot"].all_rows += [("live bit", live * (live - 1)), ("live off the real rows",
                                                                          (1 - V("sel")) * live)]
        self._range("slot", "live cmp", live * (N - 1 - i) + (1 - live) * (i - N), 32)
        # logit, requantization and clamp (G3, G5), sigmoid lookup
        sh = self.sig_shift
        if sh > 0:
            self._gate("slot", "requantize", live * (V("dot") + (1 << (sh - 1)) - (1 << sh) * V("zq") - V("rz")))
            self._range("slot", "rz", V("rz"), sh)
        else:  # no rounding: zq is the logit itself, rz is pinned to 0
            self._gate("slot", "requantize", live * (V("dot") - V("zq")))
            self._gate("slot", "rz", V("rz"))
        self._range("slot", "zq", V("zq") + (1 << 40), 41)
        bh, bl, zq = V("bzh"), V("bzl"), V("zq")
        self._gate("slot", "clamp", live * (V("zin") - (bh * (L - 1) - bl * L + (1 - bh - bl) * zq)))
        for s in ("bzh", "bzl"):
            self._gate("slot", f"{s} bit", V(s) * (V(s) - 1))
        self._gate("slot", "clamp sides", bh * bl)
        self._range("slot", "clamp gap", bh * (zq - (L - 1)) + bl * (-L - zq), 42)
        self._range("slot", "zin low", V("zin") + L, 32)
        self._range("slot", "zin high", (L - 1) - V("zin"), 32)
        self.lookups.append(TableLookup("slot", "sig", (("zin", L), ("prob", 0))))
        # error, sign and magnitude (G6)
        e = V("prob") - (1 << self.w) * V("y")
        sg, eab = V("sg"), V("eab")
        self._gate("slot", "error sign", live * (e - (1 - 2 * sg) * eab))
        self._gate("slot", "sign bit", sg * (sg - 1))
        self._range("slot", "canonical zero", eab - sg, 18)
        # norm, den = max(ceil_sqrt(n2), C_F) (G4, G5), clip (G3), invariant
        n2, den, bd, A, CF = V("n2"), V("den"), V("bd"), V("A"), self.CF
        xn = V("xn")
        if self.h:  # the ghost norm: e^2 |h~|^2 + |dh|^2 |x~|^2
            self._gate("slot", "norm", live * (n2 - eab * eab * V("hnorm") - V("dnorm") * xn))
        else:
            self._gate("slot", "norm", live * (n2 - eab * eab * xn))
        self._gate("slot", "den bit", bd * (bd - 1))
        self._gate("slot", "den floor", bd * (den - CF))
        dfloor, drem = self.den_bits
        self._range("slot", "den at least C_F", live * (den - CF), dfloor)
        self._range("slot", "den squared covers", live * (den * den - n2), WORD)
        self._range("slot", "den minimal", live * (1 - bd) * (n2 - den * den + 2 * den - 2), WORD)
        self._gate("slot", "clip", live * (eab * CF - A * den - V("rc")))
        self._range("slot", "clip remainder", V("rc"), drem)
        self._range("slot", "clip remainder below den", live * (den - 1 - V("rc")), drem)
        self._range("slot", "clipped magnitude", A, 18)
        self._gate("slot", "clipped sign", V("et") - (1 - 2 * sg) * A)
        self._gate("slot", "dead slot", (1 - live) * A)
        if self.h:
            self._range("slot", "invariant", CF * CF - A * A * V("hnorm") - V("dtnorm") * xn, WORD)
            self._build_unit()
        else:
            self._range("slot", "invariant", CF * CF - A * A * xn, WORD)

        # coord: noise draw, rounding of the sum, update and clamp
        self._word("coord", "un", "cn", "noise")
        self._cdt("coord", "noise", "un", "kn", "hn", "ln")
        g = self.grid_shift
        S = V("S")
        if g > 0:
            self._gate("coord", "grid rounding", V("shi") + (1 << (g - 1)) - (1 << g) * S - V("rS"))
            self._range("coord", "rS", V("rS"), g)
        else:
            self._gate("coord", "grid rounding", V("shi") - S)
            self._gate("coord", "rS", V("rS"))
        self._range("coord", "S", S + (1 << 46), 47)
        z = V("kn") - 1 - self.noise_offset
        step = self.a_mul * (S + z)
        q = V("q")
        if self.ush > 0:
            self._gate("coord", "update rounding", step + (1 << (self.ush - 1)) - (1 << self.ush) * q - V("ru"))
            self._range("coord", "ru", V("ru"), self.ush)
        else:
            self._gate("coord", "update rounding", step * (1 << -self.ush) - q)
            self._gate("coord", "ru", V("ru"))
        self._range("coord", "q", q + (1 << 52), 53)
        pre = V("theta") - q
        th, tl, lim = V("bth"), V("btl"), self.lim
        self._gate("coord", "update", V("next") - (th * lim - tl * lim + (1 - th - tl) * pre))
        for s in ("bth", "btl"):
            self._gate("coord", f"{s} bit", V(s) * (V(s) - 1))
        self._gate("coord", "clamp sides", th * tl)
        self._range("coord", "clamp gap", th * (pre - lim) + tl * (-lim - pre), 54)
        self._range("coord", "weight low", V("next") + lim, 32)
        self._range("coord", "weight high", lim - V("next"), 32)

        # step: the terminating gap draw, and i_B = i_(B-1) + 1 + G_B >= N
        self._word("step", "uB", "cB", "last")
        self._cdt("step", "gap", "uB", "kB", "hB", "lB")
        self._range("step", "complete", V("ilast") + V("kB") - N, 32)

    def _build_unit(self):
        """One hidden unit u of slot (t, j), for the live slots (dead slots'
        units are free but for dht = 0; padding units are 0 by all-row gates):
            pre + 2^(w-1) = 2^w zu + r1                (rhu(W~1_u . x~, w))
            zh  = clamp(zu, -L, L - 1)                 (bits bh1, bl1 as the logit's)
            hid = pz zh,  pz = [zh > 0]                (ReLU and its derivative)
            e w2_u + 2^(w-1) = 2^w q2 + r2             (rhu(e w2_u, w), e = (1 - 2 sg) eab)
            cl  = clamp(q2, -2^w, 2^w),  dh = pz cl
            dh  = (1 - 2 sd) dab,  dab C_F = A1 den + rc1, 0 <= rc1 < den,  dht = (1 - 2 sd) A1
        Widths: |pre| and |e w2| < 2^61 (`trainer.check_widths`). zu and q2 need
        no range of their own: each is either the clamp's output (in range) or
        within 2^G, G = 61 - w, of a clamp bound (the clamp gap's range), so
        |2^w zu|, |2^w q2| < 2^62 and the rounding identities hold over the
        integers, with one quotient each."""
        w, L, CF = self.w, self.L, self.CF
        G = 61 - w
        lv = V("liveb")
        zu, bh, bl = V("zu"), V("bh1"), V("bl1")
        u = "unit"
        self._gate(u, "requantize", lv * (V("pre") + (1 << (w - 1)) - (1 << w) * zu - V("r1")))
        self._range(u, "r1", V("r1"), w)
        self._gate(u, "clamp", lv * (V("zh") - (bh * (L - 1) - bl * L + (1 - bh - bl) * zu)))
        for s in ("bh1", "bl1", "pz", "bqh", "bql", "sd"):
            self._gate(u, f"{s} bit", V(s) * (V(s) - 1))
        self._gate(u, "clamp sides", bh * bl)
        self._range(u, "clamp gap", bh * (zu - (L - 1)) + bl * (-L - zu), G)
        if L & (L - 1) == 0:  # zh + L in [0, 2L), one range
            self._range(u, "zh", V("zh") + L, (2 * L).bit_length() - 1)
        else:
            self._range(u, "zh low", V("zh") + L, (2 * L).bit_length())
            self._range(u, "zh high", (L - 1) - V("zh"), (2 * L).bit_length())
        pz, zh = V("pz"), V("zh")
        self._gate(u, "relu", V("hid") - pz * zh)
        self._range(u, "relu side", pz * (zh - 1) + (1 - pz) * (-zh), L.bit_length())
        e = (1 - 2 * V("sgb")) * V("eabb")
        q2, qh, ql = V("q2"), V("bqh"), V("bql")
        self._gate(u, "backprop", lv * (e * V("w2b") + (1 << (w - 1)) - (1 << w) * q2 - V("r2")))
        self._range(u, "r2", V("r2"), w)
        one = 1 << w
        self._gate(u, "backprop clamp", V("cl") - (qh * one - ql * one + (1 - qh - ql) * q2))
        self._gate(u, "backprop clamp sides", qh * ql)
        self._range(u, "backprop clamp gap", qh * (q2 - one) + ql * (-one - q2), G)
        self._range(u, "cl low", V("cl") + one, w + 2)
        self._range(u, "cl high", one - V("cl"), w + 2)
        self._gate(u, "relu derivative", V("dh") - pz * V("cl"))
        sd, dab, A1, den = V("sd"), V("dab"), V("A1"), V("denb")
        self._gate(u, "dh sign", V("dh") - (1 - 2 * sd) * dab)
        self._range(u, "dh canonical zero", dab - sd, w + 2)
        _, drem = self.den_bits
        self._gate(u, "clip", lv * (dab * CF - A1 * den - V("rc1")))
        self._range(u, "clip remainder", V("rc1"), drem)
        self._range(u, "clip remainder below den", lv * (den - 1 - V("rc1")), drem)
        self._range(u, "clipped magnitude", A1, w + 2)
        self._gate(u, "clipped sign", V("dht") - (1 - 2 * sd) * A1)
        self._gate(u, "dead slot", (1 - lv) * A1)
        sel = V("sel")
        self.domains[u].all_rows += [(f"{c} off the real rows", (1 - sel) * V(c)) for c in ("hid", "dh", "dht")]

    # --- derived --------------------------------------------------------------
    @cached_property
    def range_tables(self) -> dict[int, TableSpec]:
        return {w: TableSpec.range(w) for w in sorted({w for r in self.ranges for w in r.widths}, reverse=True)}

    @cached_property
    def table_order(self) -> list[str]:
        """Public lookup tables: range tables by width (descending), then the value tables."""
        return [f"range{w}" for w in self.range_tables] + ["gap", "noise", "sig"]

    def table_spec(self, name: str):
        return self.range_tables[int(name[5:])] if name.startswith("range") else self.tables[name]

    @cached_property
    def lookup_list(self) -> list[tuple[str, str, tuple[tuple[str, int], ...]]]:
        """(domain, table, columns) of every public lookup: limbs first, then the value lookups."""
        out = []
        for r in self.ranges:
            for limb, w in zip(r.limbs, r.widths):
                out.append((r.domain, f"range{w}", ((limb, 0),)))
        out += [(lk.domain, lk.table, lk.columns) for lk in self.lookups]
        return out

    @property
    def feat_vars(self) -> int:
        return self.a + self.b + self.xk

    @cached_property
    def advice(self) -> list[tuple[str, int]]:
        """(name, num_vars) of every committed advice table, in commitment order
        (the hash link's tables and the bank follow)."""
        from zkaudit.statements.training.protocol import stacks

        out = [(name, p + dom.num_vars) for dom in self.domains.values() for name, _, p in stacks(dom)]
        out.append(("X", self.feat_vars))
        if not self.chunked:
            out.append(("thetaT", self.theta_vars))
        out.append(("mD", max(1, (self.N - 1).bit_length())))
        out += [(f"mult.{t}", self.table_spec(t).num_vars) for t in self.table_order]
        return out

    def gate_names(self) -> list[str]:
        return [f"{d.name}: {g}" for d in self.domains.values() for g, _ in d.gates]
