"""The verifier's row groups of a hiding opening, on arrays.

The batching sum-check of `hiding.py` has one pair per row point Y_G:

    sum_G  eq(Y_G, y) * (sum_(t in G) c_t W_t(y))      (a lone term: c_t as the
                                                         pair's coefficient)

and the verifier needs, per group, the row point Y_G, the pair's
coefficient, and after the sum-check the value sum_(t in G) c_t W_t(rho)
(a lone term: W_t(rho)) from the evaluation row. `plan_reference` gets
them from `hiding.claim_terms` (one `Term` object per claim term),
`hiding.row_groups` and `hiding_verifier._group_values_reference`.

`plan` gets the same (tests/pcs/test_group_plan.py: row points, pair
coefficients and values equal) for openings whose claims are all
`LinearClaim`s -- a zero-knowledge proof's, by the ten thousand -- without
building a Term: every claim's evaluations, bank entries and dense blocks go
into flat arrays, terms are keyed by their row (an int for a Boolean row
point; a wide table's point with a non-Boolean row coordinate by its value),
the groups are the keys in order of first appearance in the reference's
term order (claims in order; per claim its evaluations, then its entries'
rows ascending, then its block rows), and the sums are numpy (`vec.mul`,
`vec.sum_by_index`, one `kernels.eval_blocks` call for every evaluation).
At vitals_gru's 9,157 claims the whole hiding verification took 200 ms
CPU through Term objects (a third of it garbage collection: tens of
thousands of small objects on a large heap) and takes 62 ms with this,
21 ms of it here.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Callable

import numpy as np

from zkaudit.field import vec
from zkaudit.field.scalar import Fp2, _fp2
from zkaudit.pcs import column_check
from zkaudit.pcs import kernels as k
from zkaudit.pcs.layout import Layout, bit_tuple

U64 = np.uint64
_ONE = Fp2(1)


@dataclass
class GroupPlan:
    row_points: list[tuple[Fp2, ...]]  # Y_G per group, l coordinates
    coeffs: list[Fp2]  # the pair's coefficient per group
    values: Callable[[np.ndarray], list[Fp2]]  # data row u_z[:m] -> per group sum_(t in G) c_t W_t(rho)
    # The same sums split for the column check (`column_check`): the explicit
    # terms' part per group, (groups, 2), and the eq-weighted terms as arrays.
    direct: Callable[[np.ndarray], np.ndarray]
    eq_group: np.ndarray  # (T,) each eq-weighted term's group
    eq_scale: np.ndarray  # (T, 2) its scale in the group (1 for a lone term)
    eq_points: np.ndarray  # (T, log_cols, 2) its column point X_t


def plan_reference(layout: Layout, num_tables: int, claims, params, powers: list[Fp2], log_rows: int) -> GroupPlan:
    """Through Term objects (`hiding.claim_terms`, `row_groups`)."""
    from zkaudit.pcs.hiding_claims import claim_terms, group_coeffs, row_groups
    from zkaudit.pcs.hiding_verifier import _group_values_reference
    from zkaudit.pcs.verifier import _inner_with_row

    terms = claim_terms(layout, num_tables, claims, params, log_rows)
    flat, coeffs = [], []
    for g, ts in zip(powers, terms):
        for t in ts:
            flat.append(t)
            c = t.coeff
            coeffs.append(g if c.c0 == 1 and not c.c1 else g * c)
    groups = row_groups(flat)
    eq_at = [i for i, t in enumerate(flat) if t.col_point is not None]

    def values(data_row: np.ndarray) -> list[Fp2]:
        eq_values = _inner_with_row([flat[i].col_point for i in eq_at], data_row) if eq_at else []
        return _group_values_reference(flat, groups, coeffs, eq_at, eq_values, data_row)

    def direct(data_row: np.ndarray) -> np.ndarray:
        sums = _group_values_reference(flat, groups, coeffs, eq_at, [Fp2(0)] * len(eq_at), data_row)
        return np.array([(v.c0, v.c1) for v in sums], dtype=U64).reshape(len(groups), 2)

    group_of = np.empty(len(flat), dtype=np.int64)
    scale = [_ONE] * len(flat)
    for g, members in enumerate(groups):
        group_of[members] = g
        if len(members) > 1:
            for i in members:
                scale[i] = coeffs[i]
    eq_scale = np.array([(scale[i].c0, scale[i].c1) for i in eq_at], dtype=U64).reshape(len(eq_at), 2)
    eq_points = (column_check.points_array([flat[i].col_point for i in eq_at]) if eq_at
                 else np.zeros((0, layout.log_cols, 2), dtype=U64))
    return GroupPlan([flat[g[0]].row_point for g in groups], group_coeffs(groups, coeffs), values, direct,
                     group_of[eq_at], eq_scale, eq_points)


def _placement_arrays(layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, col, num_vars) per table as int64 arrays, kept on the layout
    (layouts are memoized: a verifier meets the same one in every proof)."""
    cached = layout.__dict__.get("_placement_arrays")
    if cached is None:
        rows = np.array([p.row for p in layout.placements], dtype=np.int64)
        cols = np.array([p.col for p in layout.placements], dtype=np.int64)
        nv = np.array([p.num_vars for p in layout.placements], dtype=np.int64)
        cached = (rows, cols, nv)
        object.__setattr__(layout, "_placement_arrays", cached)  # a cache, not a field: eq and hash ignore it
    return cached


def _u64(words: list[int]) -> np.ndarray:
    """A list of canonical words as a uint64 array: through array('Q'), a C
    loop (numpy converts ints past 2^63 one by one, ~8 ms for 2 10^5)."""
    return np.frombuffer(array("Q", words), dtype=U64)


def _ext_words(pairs: list[int]) -> np.ndarray:
    return _u64(pairs).reshape(-1, 2)


def plan(layout: Layout, claims, powers: np.ndarray, log_rows: int) -> GroupPlan | None:
    """The plan of `plan_reference` on arrays, or None when a claim is not a
    `LinearClaim` (the caller then takes the reference). `powers` is the
    (q, 2) array of the batching powers gamma^i. The claims' shapes are
    checked already (`hiding_verifier._check_claims`)."""
    from zkaudit.pcs.hiding_claims import LinearClaim, _block_terms

    if not all(type(c) is LinearClaim for c in claims):
        return None
    m, log_cols, l = layout.cols, layout.log_cols, log_rows
    p_row, p_col, p_nv = _placement_arrays(layout)
    placements = layout.placements

    # ---- evaluations: one eq-weighted term each
    ev_claim: list[int] = []
    ev_sub: list[int] = []
    ev_key: list[int] = []
    ev_start: list[int] = []
    ev_log: list[int] = []
    ev_coef: list[int] = []  # the coefficient a, two words each
    ev_words: list[int] = []  # each block's point, zero-padded to log_cols coordinates
    odd_points: dict[tuple, int] = {}  # non-Boolean row points of wide tables -> key 2^l + k
    odd_list: list[tuple] = []
    zeros = [0] * (2 * log_cols)
    has_coef = False
    shapes: dict[int, tuple] = {}  # table -> (wide, free or None, row, start, log size)
    claim_add, sub_add, key_add = ev_claim.append, ev_sub.append, ev_key.append
    start_add, log_add = ev_start.append, ev_log.append
    words_add, words_extend = ev_words.append, ev_words.extend
    for i, c in enumerate(claims):
        for j, (t, z, a) in enumerate(c.evals):
            shape = shapes.get(t)
            if shape is None:
                p = placements[t]
                if p.num_vars >= log_cols:
                    shape = shapes[t] = (True, p.num_vars - log_cols, p.row, 0, log_cols)
                else:
                    shape = shapes[t] = (False, 0, p.row, p.col, p.num_vars)
            wide, free, key, start, log_size = shape
            point = z
            if wide:
                head, point = z[:free], z[free:]
                for bit, r in enumerate(head):
                    if r.c1 or r.c0 > 1:
                        full = bit_tuple(key >> free, l - free) + head
                        key = odd_points.get(full)
                        if key is None:
                            key = odd_points[full] = (1 << l) + len(odd_list)
                            odd_list.append(full)
                        break
                    key += r.c0 << (free - 1 - bit)
            # leading 0/1 column coordinates pick a sub-block (as `kernels.block_points`):
            # the block folded is the one `column_check.block_entries` counts
            lead = 0
            for r in point:
                if r.c1 or r.c0 > 1:
                    break
                lead += 1
            if lead:
                for r in point[:lead]:
                    log_size -= 1
                    start += r.c0 << log_size
                point = point[lead:]
            claim_add(i)
            sub_add(j)
            key_add(key)
            start_add(start)
            log_add(log_size)
            if a.c0 != 1 or a.c1:
                has_coef = True
            ev_coef.append(a.c0)
            ev_coef.append(a.c1)
            for r in point:
                words_add(r.c0)
                words_add(r.c1)
            words_extend(zeros[2 * len(point):])

    # ---- weighted entries: one term per (claim, matrix row)
    en_claim: list[int] = []
    en_table: list[int] = []
    en_index: list[int] = []
    en_weight: list[int] = []
    blocks = []  # (claim, sub, row, start, w)
    for i, c in enumerate(claims):
        en = c.entries
        if en:
            en_claim += [i] * len(en)
            for t, idx, w in en:
                en_table.append(t)
                en_index.append(idx)
                en_weight.append(w.c0)
                en_weight.append(w.c1)
        if c.block is not None:
            for j, term in enumerate(_block_terms(layout, c.block, l)):
                row = sum(int(b.c0) << (l - 1 - x) for x, b in enumerate(term.row_point))
                blocks.append((i, j, row, term.block[0], term.block[1]))

    n_ev = len(ev_claim)
    if en_claim:
        e_claim = np.array(en_claim, dtype=np.int64)
        e_tab = np.array(en_table, dtype=np.int64)
        e_idx = np.array(en_index, dtype=np.int64)
        wide = p_nv[e_tab] >= log_cols
        e_row = np.where(wide, p_row[e_tab] + e_idx // m, p_row[e_tab])
        e_col = np.where(wide, e_idx % m, p_col[e_tab] + e_idx)
        # the entry terms: distinct (claim, row) pairs, each entry's term index
        pair_key = e_claim * (np.int64(1) << np.int64(l + 1)) + e_row
        uniq_pairs, e_term = np.unique(pair_key, return_inverse=True)
        et_claim = uniq_pairs >> np.int64(l + 1)
        et_row = uniq_pairs & ((np.int64(1) << np.int64(l + 1)) - 1)
    else:
        e_term = np.zeros(0, dtype=np.int64)
        et_claim = et_row = np.zeros(0, dtype=np.int64)
    n_et = et_claim.shape[0]

    # ---- every term in the reference's order: (claim, kind, sub)
    t_claim = np.concatenate([np.array(ev_claim, dtype=np.int64), et_claim,
                              np.array([b[0] for b in blocks], dtype=np.int64)])
    t_kind = np.concatenate([np.zeros(n_ev, np.int64), np.ones(n_et, np.int64), np.full(len(blocks), 2, np.int64)])
    t_sub = np.concatenate([np.array(ev_sub, dtype=np.int64), et_row, np.array([b[1] for b in blocks], np.int64)])
    t_key = np.concatenate([np.array(ev_key, dtype=np.int64), et_row, np.array([b[2] for b in blocks], np.int64)])
    order = np.lexsort((t_sub, t_kind, t_claim))
    keys_in_order = t_key[order]
    uniq_keys, first, t_group_sorted = np.unique(keys_in_order, return_index=True, return_inverse=True)
    rank = np.empty(uniq_keys.shape[0], dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(uniq_keys.shape[0])
    t_group = np.empty(order.shape[0], dtype=np.int64)
    t_group[order] = rank[t_group_sorted.reshape(-1)]
    num_groups = uniq_keys.shape[0]
    group_key = np.empty(num_groups, dtype=np.int64)
    group_key[rank] = uniq_keys
    counts = np.bincount(t_group, minlength=num_groups)
    lone = counts == 1

    # ---- coefficients: gamma^i (times a for an evaluation); 1 inside a shared group
    t_coef = np.ascontiguousarray(powers[t_claim])
    if has_coef:
        t_coef[:n_ev] = vec.mul(np.ascontiguousarray(t_coef[:n_ev]), _ext_words(ev_coef))
    scale = t_coef.copy()
    scale[lone[t_group]] = (1, 0)
    lone_coef = np.zeros((num_groups, 2), dtype=U64)
    lone_coef[t_group[lone[t_group]]] = t_coef[lone[t_group]]
    coeffs = [_fp2(a, b) if is_lone else _ONE for (a, b), is_lone in zip(lone_coef.tolist(), lone.tolist())]
    row_points = [bit_tuple(key, l) if key < 1 << l else odd_list[key - (1 << l)] for key in group_key.tolist()]

    ev_group = t_group[:n_ev]
    ev_scale = np.ascontiguousarray(scale[:n_ev])
    if en_claim:
        en_group = t_group[n_ev + e_term.reshape(-1)]
        en_w = vec.mul(_ext_words(en_weight), np.ascontiguousarray(scale[n_ev + e_term.reshape(-1)]))
    # the dense blocks' terms as one product: their weights side by side, each entry's position in the data
    # row and its block (logistic_risk's three blocks, 256, 256 and 198 entries, took ~65 us each as
    # separate numpy inner products)
    if blocks:
        bl_w = np.ascontiguousarray(np.concatenate([b[4] for b in blocks]))
        bl_col = np.concatenate([np.arange(b[3], b[3] + b[4].shape[0], dtype=np.int64) for b in blocks])
        bl_id = np.repeat(np.arange(len(blocks), dtype=np.int64), [b[4].shape[0] for b in blocks])
        bl_at = [(int(t_group[n_ev + n_et + j]), _fp2(int(scale[n_ev + n_et + j][0]), int(scale[n_ev + n_et + j][1])))
                 for j in range(len(blocks))]
    ev_points = _u64(ev_words).reshape(n_ev, log_cols, 2) if n_ev else None
    ev_starts, ev_logs = np.array(ev_start, dtype=np.int64), np.array(ev_log, dtype=np.int64)

    def sums(data_row: np.ndarray, with_eq: bool) -> list[Fp2]:
        parts, at = [], []
        if n_ev and with_eq:
            out = np.empty((n_ev, 2), dtype=U64)
            k.eval_blocks(data_row, ev_starts, ev_logs, ev_points, out)
            parts.append(vec.mul(out, ev_scale))
            at.append(ev_group)
        if en_claim:
            parts.append(vec.mul(en_w, np.ascontiguousarray(data_row[e_col])))
            at.append(en_group)
        total = (vec.sum_by_index(np.concatenate(parts), np.concatenate(at), num_groups) if parts
                 else np.zeros((num_groups, 2), dtype=U64))
        result = [_fp2(a, b) for a, b in total.tolist()]
        if blocks:
            per_block = vec.sum_by_index(vec.mul(bl_w, np.ascontiguousarray(data_row[bl_col])), bl_id, len(blocks))
            for (g, s), (a, b) in zip(bl_at, per_block.tolist()):
                result[g] = result[g] + s * _fp2(a, b)
        return result

    def values(data_row: np.ndarray) -> list[Fp2]:
        return sums(data_row, True)

    def direct(data_row: np.ndarray) -> np.ndarray:
        out = sums(data_row, False)
        return np.array([(v.c0, v.c1) for v in out], dtype=U64).reshape(num_groups, 2)

    eq_points = (column_check.full_points(ev_starts, ev_logs, ev_points, log_cols) if n_ev
                 else np.zeros((0, log_cols, 2), dtype=U64))
    return GroupPlan(row_points, coeffs, values, direct, ev_group, ev_scale, eq_points)
