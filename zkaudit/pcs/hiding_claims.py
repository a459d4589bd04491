"""The hiding commitment's claims and their bookkeeping, shared by prover and
verifier (the verifier imports this module, never the prover's `hiding.py`):
the claim types (`LinearClaim`, `WeightedClaim`), their checks and their
transcript encoding, the mask points, the claims as sum-check terms and
their row groups, and the batching sum-check's expected final values. The
construction and its argument are in `hiding.py`'s docstring.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from zkaudit.field.scalar import Fp, Fp2
from zkaudit.pcs.claim import Claim
from zkaudit.pcs.layout import Layout, bit_tuple
from zkaudit.pcs.pair_sumcheck import pair_spec
from zkaudit.pcs.params import PcsParams
from zkaudit.poly.mle import eq_eval
from zkaudit.transcript import Transcript

U64 = np.uint64
_ZERO, _ONE = Fp2(0), Fp2(1)

LABEL_HIDING_CLAIMS = b"pcs/hiding/claims"
LABEL_MASK_POINT = b"pcs/hiding/mask-point"
_MASK_POINT_DOMAIN = b"zkaudit/pcs/hiding/mask-points/v1"
LABEL_MASK_SUM = b"pcs/hiding/mask-sum"
LABEL_MASK_RHO = b"pcs/hiding/mask-rho"
NUM_PAD_MASKS = 4  # pad columns masking the batching sum-check: 4 D base values >= the 4 l + 4 the rounds need
NUM_BLIND = 2  # b_z's two base rows: the committed rows past the data, all inside the sum-check domain
_CLAIM_STRUCTS: dict[tuple[int, int], struct.Struct] = {}  # (point length, entries) -> packer of a linear claim


# ------------------------------------------------------------------ claims


@dataclass(frozen=True)
class WeightedClaim:
    """sum_k weights[k] * f_poly[offset + k] = value, revealed exactly."""

    poly_index: int
    offset: int
    weights: tuple[Fp2, ...]
    value: Fp2

    def __post_init__(self):
        object.__setattr__(self, "weights", tuple(Fp2.from_base(w) if isinstance(w, Fp) else w for w in self.weights))
        if isinstance(self.value, Fp):
            object.__setattr__(self, "value", Fp2.from_base(self.value))
        if self.offset < 0 or not self.weights:
            raise ValueError("a weighted claim needs offset >= 0 and at least one weight")

    def to_bytes(self) -> bytes:
        head = struct.pack("<BIQI", 2, self.poly_index, self.offset, len(self.weights))
        return head + b"".join(w.to_bytes() for w in self.weights) + self.value.to_bytes()


@dataclass(frozen=True)
class LinearClaim:
    """sum_i c_i f_(t_i)~(z_i) + sum_(t, k) w_tk f_t[k] = value, revealed exactly:
    evaluations of unmasked tables and single entries, each with a public
    coefficient. This is how a zero-knowledge proof discharges a claim whose
    value is `Hidden` (`zkaudit.sumcheck.zk`): the table's evaluation minus
    the bank entries that pad it equals the public part, and that public
    part is uniform (a fresh pad is in it), so the claim hides the
    evaluation however often the table is opened."""

    evals: tuple[tuple[int, tuple[Fp2, ...], Fp2], ...]  # (table, point, coefficient)
    entries: tuple[tuple[int, int, Fp2], ...]  # (table, entry, weight)
    value: Fp2
    # (table, w): weights w[k] (a (K, 2) uint64 array of GF(p^2) elements) on the
    # table's entries 0..K-1; for claims touching a whole table (a proof's bank)
    block: tuple[int, np.ndarray] | None = None

    def __post_init__(self):
        lift = (lambda v: Fp2.from_base(v) if isinstance(v, Fp) else v)
        evals = []
        for t, z, a in self.evals:
            # the verifier's points are Fp2 already (map(type, .) scans in C): thousands of claims per proof
            if type(a) is not Fp2 or Fp in map(type, z):
                z, a = tuple(lift(c) for c in z), lift(a)
            evals.append((int(t), z if type(z) is tuple else tuple(z), a))
        object.__setattr__(self, "evals", tuple(evals))
        entries = self.entries if isinstance(self.entries, tuple) else tuple(self.entries)
        if any(type(w) is not Fp2 for _, _, w in entries):
            entries = tuple((int(t), int(k), lift(w)) for t, k, w in entries)
        entries = sorted(entries, key=lambda e: (e[0], e[1]))
        if any(a[:2] == b[:2] for a, b in zip(entries, entries[1:])):
            # one entry named twice: one weight, their sum (the prover's column
            # vectors hold one weight per entry; the claim means the sum)
            merged: list = []
            for t, k_, w in entries:
                if merged and merged[-1][:2] == (t, k_):
                    merged[-1] = (t, k_, merged[-1][2] + w)
                else:
                    merged.append((t, k_, w))
            entries = merged
        object.__setattr__(self, "entries", tuple(entries))
        object.__setattr__(self, "value", lift(self.value))
        if not self.evals and not self.entries and self.block is None:
            raise ValueError("a linear claim needs at least one term")

    @classmethod
    def canonical(cls, evals: tuple, entries: tuple, value: Fp2) -> "LinearClaim":
        """From parts already in `__post_init__`'s normal form: every point,
        coefficient, weight and the value Fp2, tables and entries ints,
        entries sorted by (table, entry) and distinct. The verifier's claims
        on advice are built this way by the thousand (`statements.inference.zk.
        linear_claim`); tests check it equals the normalising constructor."""
        out = object.__new__(cls)
        out.__dict__.update(evals=evals, entries=entries, value=value, block=None)  # frozen: no __setattr__
        return out

    @property
    def tables(self) -> set[int]:
        return ({t for t, _, _ in self.evals} | {t for t, _, _ in self.entries}
                | ({self.block[0]} if self.block is not None else set()))

    def to_bytes(self) -> bytes:
        """`to_bytes_reference`'s bytes; the common claim (one evaluation,
        no dense block: every advice claim of a proof, by the ten thousand)
        packed in one call of a cached `struct.Struct`."""
        ev, en = self.evals, self.entries
        if self.block is not None or len(ev) != 1:
            return self.to_bytes_reference()
        ((t, z, a),) = ev
        key = (len(z), len(en))
        packer = _CLAIM_STRUCTS.get(key)
        if packer is None:
            packer = _CLAIM_STRUCTS[key] = struct.Struct(f"<BIIII{2 * len(z) + 2}Q" + "IQQQ" * len(en) + "QQ")
        words = [3, 1, len(en), t, len(z)]
        append = words.append
        for c in z:
            append(c.c0)
            append(c.c1)
        append(a.c0)
        append(a.c1)
        for e in en:
            append(e[0])
            append(e[1])
            w = e[2]
            append(w.c0)
            append(w.c1)
        v = self.value
        append(v.c0)
        append(v.c1)
        return packer.pack(*words)

    def to_bytes_reference(self) -> bytes:
        out = [struct.pack("<BII", 3, len(self.evals), len(self.entries))]
        for t, z, a in self.evals:
            out.append(struct.pack("<II", t, len(z)) + b"".join(c.to_bytes() for c in z) + a.to_bytes())
        if self.entries:
            flat = []
            for t, k_, w in self.entries:
                flat += (t, k_, w.c0, w.c1)
            out.append(struct.pack("<" + "IQQQ" * len(self.entries), *flat))
        if self.block is not None:
            t, w = self.block
            out.append(struct.pack("<IQ", t, w.shape[0]) + np.ascontiguousarray(w, dtype="<u8").tobytes())
        out.append(self.value.to_bytes())
        return b"".join(out)


def vanishing(point) -> Fp2:
    """Z(z) = prod_k z_k (1 - z_k): zero on the Boolean cube."""
    acc = _ONE
    for z in point:
        acc = acc * z * (_ONE - z)
    return acc


def mask_num_vars(num_vars: int, params: PcsParams) -> int:
    return min(num_vars, params.mask_vars)


def max_masked_claims(num_vars: int, params: PcsParams) -> int:
    """Masked claims a table's mask hides: its 2^s' base entries cover two
    base coordinates per claim value in K (0 for a 0-variable table)."""
    return (1 << mask_num_vars(num_vars, params)) // 2 if num_vars else 0


def masked_value(table: np.ndarray, mask: np.ndarray, point) -> Fp2:
    """f^(z) = f~(z) + Z(z) mu~(z[:s']): the value a hiding Claim asserts."""
    from zkaudit.poly.mle import evaluate

    point = [Fp2.from_base(c) if isinstance(c, Fp) else c for c in point]
    f = evaluate(table, point)
    mu = evaluate(mask, point[: mask.shape[0].bit_length() - 1])
    f = Fp2.from_base(f) if isinstance(f, Fp) else f
    mu = Fp2.from_base(mu) if isinstance(mu, Fp) else mu
    return f + vanishing(point) * mu


def all_num_vars(num_vars, params: PcsParams) -> tuple[int, ...]:
    """The committed tables: the caller's, then one mask table per table."""
    return tuple(num_vars) + tuple(mask_num_vars(v, params) for v in num_vars)


# ------------------------------------------------- claims -> sum-check terms


@dataclass(frozen=True)
class Term:
    row_point: tuple[Fp2, ...]  # Y_t, l coordinates
    col_point: tuple[Fp2, ...] | None  # X_t for eq-weighted terms (log_cols coordinates)
    col_weights: tuple[tuple[int, Fp2], ...]  # (column, weight) for weighted terms
    coeff: Fp2
    block: tuple[int, np.ndarray] | None = None  # (first column, (k, 2) weights): a dense weighted term


_new_term = object.__new__
_set_attr = object.__setattr__


def _term(row_point, col_point, col_weights, coeff, block=None) -> Term:
    """Term(...) without the frozen dataclass's __init__ (the same five
    attributes set the same way): the verifier builds tens of thousands."""
    out = _new_term(Term)
    _set_attr(out, "row_point", row_point)
    _set_attr(out, "col_point", col_point)
    _set_attr(out, "col_weights", col_weights)
    _set_attr(out, "coeff", coeff)
    _set_attr(out, "block", block)
    return out


def claim_terms(layout: Layout, num_tables: int, claims, params: PcsParams, log_rows: int) -> list[list[Term]]:
    """`claim_terms_reference`'s terms (equal, field for field), with
    LinearClaims on a table's placement read once per table: a row point
    of a narrow table, or the fixed part of a wide one's, is one cached
    tuple (`bit_tuple`; with log_rows bits, the extra leading row variable
    is its leading zero), and a column point its cached block address
    followed by the claim's point. Other claims take the reference path."""
    if not all(type(c) is LinearClaim for c in claims):
        return claim_terms_reference(layout, num_tables, claims, params, log_rows)
    m, log_cols = layout.cols, layout.log_cols
    placements = layout.placements
    eval_shape: dict[int, tuple] = {}
    out = []
    for c in claims:
        ts = []
        for t, z, a in c.evals:
            shape = eval_shape.get(t)
            if shape is None:
                p = placements[t]
                if p.num_vars >= log_cols:
                    free = p.num_vars - log_cols
                    shape = eval_shape[t] = (True, free, bit_tuple(p.row >> free, log_rows - free))
                else:
                    shape = eval_shape[t] = (False, bit_tuple(p.row, log_rows),
                                             bit_tuple(p.col >> p.num_vars, log_cols - p.num_vars))
            if shape[0]:
                free = shape[1]
                ts.append(_term(shape[2] + z[:free], z[free:], (), a))
            else:
                ts.append(_term(shape[1], shape[2] + z, (), a))
        if c.entries:
            rows: dict[int, list] = {}
            for t, idx, w in c.entries:
                place = placements[t]
                if place.num_vars >= log_cols:
                    r, col = place.row + idx // m, idx % m
                else:
                    r, col = place.row, place.col + idx
                if r in rows:
                    rows[r].append((col, w))
                else:
                    rows[r] = [(col, w)]
            for r in (sorted(rows) if len(rows) > 1 else rows):
                ts.append(_term(bit_tuple(r, log_rows), None, tuple(rows[r]), _ONE))
        if c.block is not None:
            ts += _block_terms(layout, c.block, log_rows)
        out.append(ts)
    return out


def claim_terms_reference(layout: Layout, num_tables: int, claims, params: PcsParams,
                          log_rows: int) -> list[list[Term]]:
    """Each claim's terms, with l = log_rows row coordinates (the hiding
    domain has one more row than the layout)."""
    out = []
    extra = log_rows - layout.log_rows  # the hiding domain may need one more row variable
    for c in claims:
        if isinstance(c, Claim):
            v = layout.num_vars[c.poly_index]
            y, x = layout.global_point(c.poly_index, c.point)
            s = mask_num_vars(v, params)
            my, mx = layout.global_point(num_tables + c.poly_index, c.point[:s])
            pad = [_ZERO] * extra
            out.append([Term(tuple(pad + y), tuple(x), (), _ONE),
                        Term(tuple(pad + my), tuple(mx), (), vanishing(c.point))])
        elif isinstance(c, LinearClaim):
            ts = []
            for t, z, a in c.evals:
                y, x = layout.global_point(t, z)
                ts.append(Term(tuple([_ZERO] * extra + list(y)), tuple(x), (), a))
            rows = {}
            m, log_cols = layout.cols, layout.log_cols
            for t, idx, w in c.entries:
                place = layout.placements[t]
                if place.num_vars >= log_cols:
                    r, col = place.row + idx // m, idx % m
                else:
                    r, col = place.row, place.col + idx
                if r in rows:
                    rows[r].append((col, w))
                else:
                    rows[r] = [(col, w)]
            ts += [Term(bit_tuple(r, log_rows), None, tuple(ws), _ONE) for r, ws in sorted(rows.items())]
            if c.block is not None:
                ts += _block_terms(layout, c.block, log_rows)
            out.append(ts)
        else:
            place = layout.placements[c.poly_index]
            m = layout.cols
            rows: dict[int, list] = {}
            for k_, w in enumerate(c.weights):
                idx = c.offset + k_
                if place.num_vars >= layout.log_cols:
                    r, col = place.row + idx // m, idx % m
                else:
                    r, col = place.row, place.col + idx
                rows.setdefault(r, []).append((col, w))
            out.append([Term(bit_tuple(r, log_rows), None, tuple(ws), _ONE) for r, ws in sorted(rows.items())])
    return out


def _block_terms(layout: Layout, block, log_rows: int) -> list:
    """A dense weighted term cut along the matrix rows it spans."""
    t, w = block
    place = layout.placements[t]
    m = layout.cols
    out = []
    if place.num_vars < layout.log_cols:
        return [Term(bit_tuple(place.row, log_rows), None, (), _ONE, (place.col, w))]
    for start in range(0, w.shape[0], m):
        out.append(Term(bit_tuple(place.row + start // m, log_rows), None, (), _ONE, (0, w[start : start + m])))
    return out


def check_linear_claim(layout: Layout, num_tables: int, c: LinearClaim) -> str | None:
    """What is wrong with a linear claim's shape, or None."""
    for t, z, _ in c.evals:
        if not 0 <= t < num_tables:
            return f"names table {t}, only {num_tables} committed"
        if len(z) != layout.num_vars[t]:
            return f"point on table {t} has {len(z)} coordinates, the table has {layout.num_vars[t]}"
    for t, idx, _ in c.entries:
        if not 0 <= t < num_tables:
            return f"names table {t}, only {num_tables} committed"
        if not 0 <= idx < 1 << layout.num_vars[t]:
            return f"entry {idx} outside table {t}"
    if c.block is not None:
        t, w = c.block
        if not 0 <= t < num_tables:
            return f"names table {t}, only {num_tables} committed"
        if w.ndim != 2 or w.shape[1] != 2 or not 1 <= w.shape[0] <= 1 << layout.num_vars[t]:
            return f"dense weights do not fit table {t}"
    return None


def check_hiding_claims(layout: Layout, num_tables: int, claims, params: PcsParams) -> None:
    """The prover's side: shapes, and no more masked claims on a table than
    its mask hides (the leak ledger of zero-knowledge.md §9.9)."""
    if not claims:
        raise ValueError("an opening needs at least one claim")
    per_table: dict[int, int] = {}
    for c in claims:
        if isinstance(c, LinearClaim):
            problem = check_linear_claim(layout, num_tables, c)
            if problem:
                raise ValueError(f"linear claim {problem}")
            continue
        if not isinstance(c, (Claim, WeightedClaim)):
            raise TypeError(f"hiding claims are Claim or WeightedClaim, got {type(c).__name__}")
        if c.poly_index >= num_tables:
            raise ValueError(f"claim on table {c.poly_index}, only {num_tables} committed")
        v = layout.num_vars[c.poly_index]
        if isinstance(c, Claim):
            if len(c.point) != v:
                raise ValueError(f"claim on table {c.poly_index} has {len(c.point)} coordinates, table has {v}")
            if v == 0:
                raise ValueError("a 0-variable table cannot be opened with a masked claim (use WeightedClaim)")
            per_table[c.poly_index] = per_table.get(c.poly_index, 0) + 1
            if per_table[c.poly_index] > max_masked_claims(v, params):
                raise ValueError(f"more masked claims on table {c.poly_index} than its mask hides "
                                 f"({max_masked_claims(v, params)}); raise mask_vars")
        elif c.offset + len(c.weights) > 1 << v:
            raise ValueError(f"weighted claim runs past table {c.poly_index}")


def mask_points(transcript: Transcript, log_rows: int) -> list[list[Fp2]]:
    """tau_0 .. tau_3 in K^l, uniform and independent: one transcript seed
    expanded with SHAKE-256 (`protocol.expanded_challenges`; 4 l transcript
    challenges cost ~0.4 ms of the verifier's ~5 ms at 2^20). They only
    place the pad-column masks; no soundness term depends on them."""
    from zkaudit.pcs import protocol

    raw = protocol.expanded_challenges(transcript, LABEL_MASK_POINT, _MASK_POINT_DOMAIN, NUM_PAD_MASKS * log_rows)
    flat = [Fp2(int(a), int(b)) for a, b in raw]
    return [flat[i * log_rows : (i + 1) * log_rows] for i in range(NUM_PAD_MASKS)]


def absorb_claims(transcript: Transcript, digest: bytes, claims) -> None:
    from zkaudit.pcs import protocol

    transcript.absorb_bytes(protocol.LABEL_COMMITMENT, digest)
    transcript.absorb_u64(LABEL_HIDING_CLAIMS, len(claims))
    for c in claims:
        transcript.absorb_bytes(LABEL_HIDING_CLAIMS, (b"\x01" + c.to_bytes()) if isinstance(c, Claim) else c.to_bytes())

batch_spec = pair_spec  # the batching sum-check's polynomial: sum_j c_j T_{2j} T_{2j+1}


def row_groups(terms: list[Term]) -> list[list[int]]:
    """Term indices grouped by row point, in order of first appearance.

    sum_t c_t eq(Y_t, y) W_t(y) = sum_G eq(Y_G, y) (sum_(t in G) c_t W_t(y)):
    terms on one row point make one pair of the batching sum-check, its
    column side the combination of theirs (coefficient 1; a lone term keeps
    its own). The summed polynomial is the same, so the sum-check and the
    verifier's final checks are unchanged in what they prove; the proof
    sends two final values per row point, not per term. A proof's
    claims mostly land on a few rows (every bank entry and every table
    narrower than a row sits on one), so a GRU's 19,821 terms become 86
    pairs.

    Fast path: terms are first grouped by the identity of their row-point
    tuple (most share one cached tuple, `bit_tuple`), then those groups by
    value, so each distinct tuple is hashed once, not each term's l field
    elements; `row_groups_reference` hashes every term's point, tested equal."""
    by_object: dict[int, list[int]] = {}
    for i, t in enumerate(terms):
        key = id(t.row_point)  # the tuples live in `terms` for the whole call: ids are not reused
        same = by_object.get(key)
        if same is None:
            by_object[key] = [i]
        else:
            same.append(i)
    groups: dict = {}
    merged = False
    for idx in by_object.values():  # in order of first appearance of each object
        point = terms[idx[0]].row_point
        if point in groups:
            groups[point] += idx
            merged = True
        else:
            groups[point] = idx
    out = list(groups.values())
    return [sorted(g) for g in out] if merged else out


def row_groups_reference(terms: list[Term]) -> list[list[int]]:
    groups: dict = {}
    for i, t in enumerate(terms):
        groups.setdefault(t.row_point, []).append(i)
    return list(groups.values())


def group_coeffs(groups: list[list[int]], coeffs: list[Fp2]) -> list[Fp2]:
    """The batching sum-check's coefficient per row group (see `row_groups`)."""
    return [coeffs[g[0]] if len(g) == 1 else _ONE for g in groups]


def expected_finals_at(row_points, taus, rho: list[Fp2], u_eval: np.ndarray, m: int,
                       row_values: list[Fp2]) -> list[Fp2]:
    """The values the batching sum-check must end on, from the verifier's own
    eq evaluations at the pairs' row points and the evaluation row
    (row_values[g] = sum_(t in g) c_t <w_t, u_eval[:m]>)."""
    out = []
    for y, w in zip(row_points, row_values):  # w None: checked by the caller (the verifier's column check)
        out.append(eq_eval(list(y), rho))
        out.append(w)
    for i, tau in enumerate(taus):
        out.append(eq_eval(tau, rho))
        out.append(Fp2(int(u_eval[m + i, 0]), int(u_eval[m + i, 1])))
    return out
