"""numba kernels shared by layer provers: contracting one side of a matrix
with an eq table (the prover's side of binding a dimension to a point), and
the verifier's wiring sums.

Each public function runs its numba kernel (`_name`) or, for a job below
`NUMPY_BELOW` elements while that kernel is not loaded in the process, the
numpy path `name_numpy` with the same signature and values
(`field.jit.use_kernel`)."""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field import vec
from zkaudit.field.jit import njit, prange
from zkaudit.poly.mle import eq_table, point_array

add, ext_mul, mul = jit.imported("zkaudit.field.arith", "add", "ext_mul", "mul")

# Below this many elements a call takes the numpy path (unless its kernel
# is loaded already).
NUMPY_BELOW = 1 << 14


@njit(parallel=True, cache=True)
def _vec_mat(e, a, out):
    """out[k] = sum_m e[m] a[m, k]: e extension (M, 2), a base (M, K), out (K, 2)."""
    rows, cols = a.shape
    for k in prange(cols):
        s0 = np.uint64(0)
        s1 = np.uint64(0)
        for m in range(rows):
            v = a[m, k]
            s0 = add(s0, mul(e[m, 0], v))
            s1 = add(s1, mul(e[m, 1], v))
        out[k, 0] = s0
        out[k, 1] = s1


@njit(parallel=True, cache=True)
def _mat_vec(a, e, out):
    """out[k] = sum_n a[k, n] e[n]: a base (K, N), e extension (N, 2), out (K, 2)."""
    rows, cols = a.shape
    for k in prange(rows):
        s0 = np.uint64(0)
        s1 = np.uint64(0)
        for n in range(cols):
            v = a[k, n]
            s0 = add(s0, mul(e[n, 0], v))
            s1 = add(s1, mul(e[n, 1], v))
        out[k, 0] = s0
        out[k, 1] = s1


@njit(cache=True)
def _wiring_table(eq_r, src_id, src_idx, which, size, out):
    """out[x] = sum of eq_r[y] over y with (src_id[y], src_idx[y]) = (which, x).
    Sequential: scatter-adds may collide (a reshape can read one x twice only
    in Expand-like maps, but we keep it safe)."""
    for x in range(size):
        out[x, 0] = np.uint64(0)
        out[x, 1] = np.uint64(0)
    for y in range(src_idx.shape[0]):
        if src_id[y] == which:
            x = src_idx[y]
            out[x, 0] = add(out[x, 0], eq_r[y, 0])
            out[x, 1] = add(out[x, 1], eq_r[y, 1])


@njit(cache=True)
def _wiring_eval(eq_r, eq_s, src_id, src_idx, which):
    """sum_y eq_r[y] eq_s[src_idx[y]] over y with src_id[y] = which: the
    wiring polynomial W_r evaluated at s, computed by the verifier itself."""
    s0 = np.uint64(0)
    s1 = np.uint64(0)
    for y in range(src_idx.shape[0]):
        if src_id[y] == which:
            x = src_idx[y]
            p0, p1 = ext_mul(eq_r[y, 0], eq_r[y, 1], eq_s[x, 0], eq_s[x, 1])
            s0 = add(s0, p0)
            s1 = add(s1, p1)
    return s0, s1


@njit(parallel=True, cache=True)
def _wiring_eval_parallel(eq_r, eq_s, src_id, src_idx, which, out):
    """`_wiring_eval` in out.shape[0] chunks of y, out[c] the chunk's partial sum."""
    n = src_idx.shape[0]
    chunks = out.shape[0]
    per = (n + chunks - 1) // chunks
    for c in prange(chunks):
        s0 = np.uint64(0)
        s1 = np.uint64(0)
        for y in range(c * per, min(n, (c + 1) * per)):
            if src_id[y] == which:
                x = src_idx[y]
                p0, p1 = ext_mul(eq_r[y, 0], eq_r[y, 1], eq_s[x, 0], eq_s[x, 1])
                s0 = add(s0, p0)
                s1 = add(s1, p1)
        out[c, 0] = s0
        out[c, 1] = s1


@njit(parallel=True, cache=True)
def _split_wiring_eval(r_hi, r_lo, y_lo_bits, s_hi, s_lo, x_lo_bits, src_id, src_idx, which, out):
    """out[c] = chunk c's part of sum_y eq_r(y) eq_s(src_idx[y]) over y with
    src_id[y] = which, each eq from its two half tables:
    eq_r(y) = r_hi[y >> y_lo_bits] r_lo[y & mask], eq_s likewise. A run of
    y with one pair of high halves is summed (r_lo s_lo, one product per y)
    before its r_hi s_hi factor."""
    n = src_idx.shape[0]
    chunks = out.shape[0]
    per = (n + chunks - 1) // chunks
    y_low = (np.int64(1) << y_lo_bits) - 1
    x_low = (np.int64(1) << x_lo_bits) - 1
    for c in prange(chunks):
        t0 = np.uint64(0)
        t1 = np.uint64(0)
        a0 = np.uint64(0)
        a1 = np.uint64(0)
        cur_y = np.int64(-1)
        cur_x = np.int64(-1)
        for y in range(c * per, min(n, (c + 1) * per)):
            if src_id[y] != which:
                continue
            x = src_idx[y]
            yh = y >> y_lo_bits
            xh = x >> x_lo_bits
            if yh != cur_y or xh != cur_x:
                if cur_y >= 0:
                    h0, h1 = ext_mul(r_hi[cur_y, 0], r_hi[cur_y, 1], s_hi[cur_x, 0], s_hi[cur_x, 1])
                    p0, p1 = ext_mul(h0, h1, a0, a1)
                    t0 = add(t0, p0)
                    t1 = add(t1, p1)
                a0 = np.uint64(0)
                a1 = np.uint64(0)
                cur_y = yh
                cur_x = xh
            yl = y & y_low
            xl = x & x_low
            p0, p1 = ext_mul(r_lo[yl, 0], r_lo[yl, 1], s_lo[xl, 0], s_lo[xl, 1])
            a0 = add(a0, p0)
            a1 = add(a1, p1)
        if cur_y >= 0:
            h0, h1 = ext_mul(r_hi[cur_y, 0], r_hi[cur_y, 1], s_hi[cur_x, 0], s_hi[cur_x, 1])
            p0, p1 = ext_mul(h0, h1, a0, a1)
            t0 = add(t0, p0)
            t1 = add(t1, p1)
        out[c, 0] = t0
        out[c, 1] = t1


@njit(cache=True)
def _masked_eq_sum(eq_r, src_id, which):
    """sum of eq_r[y] over y with src_id[y] = which (e.g. the Pad constant's cells)."""
    s0 = np.uint64(0)
    s1 = np.uint64(0)
    for y in range(src_id.shape[0]):
        if src_id[y] == which:
            s0 = add(s0, eq_r[y, 0])
            s1 = add(s1, eq_r[y, 1])
    return s0, s1


@njit(parallel=True, cache=True)
def _slot_sums(eq_k, eq_y, src, zero_slots, out):
    """out[i, y] = eq_y[i, y] sum_k eq_k[i, k] over the slots k of window y
    (row y * Kp + k, Kp = eq_k.shape[1]) with src[row] >= 0, or src[row] = -2
    (a ZERO slot) when zero_slots."""
    terms, slots = eq_k.shape[0], eq_k.shape[1]
    for y in prange(out.shape[1]):
        for i in range(terms):
            s0 = np.uint64(0)
            s1 = np.uint64(0)
            for k in range(slots):
                s = src[y * slots + k]
                if s >= 0 or (zero_slots and s == -2):
                    s0 = add(s0, eq_k[i, k, 0])
                    s1 = add(s1, eq_k[i, k, 1])
            out[i, y, 0], out[i, y, 1] = ext_mul(eq_y[i, y, 0], eq_y[i, y, 1], s0, s1)


@njit(parallel=True, cache=True)
def _slot_gather_sums(eq_k, eq_y, src, e_hi, e_lo, lo_bits, acc, out):
    """out[c, i] = sum over the windows y of chunk c of eq_y[i, y] sum_k
    eq_k[i, k] e(src[row]) over slots with src[row] >= 0, where
    e(x) = e_hi[x >> lo_bits] e_lo[x & (2^lo_bits - 1)] (chunks: out.shape[0]).
    Sums are taken by runs of one x >> lo_bits (within and across windows:
    a pool's window reads nearby x) and multiplied by e_hi once per run, so
    no eq table over all of X is needed. acc (chunks, 2, T, 2) is scratch:
    [c, 0] the window's sum before eq_y, [c, 1] the run's before e_hi."""
    terms, slots = eq_k.shape[0], eq_k.shape[1]
    windows = eq_y.shape[1]
    chunks = out.shape[0]
    per = (windows + chunks - 1) // chunks
    low = (np.int64(1) << lo_bits) - 1
    for c in prange(chunks):
        for i in range(terms):
            out[c, i, 0] = np.uint64(0)
            out[c, i, 1] = np.uint64(0)
            for a in range(2):
                acc[c, a, i, 0] = np.uint64(0)
                acc[c, a, i, 1] = np.uint64(0)
        cur = np.int64(-1)
        for y in range(c * per, min(windows, (c + 1) * per)):
            for k in range(slots):
                s = src[y * slots + k]
                if s < 0:
                    continue
                h = s >> lo_bits
                if h != cur:
                    for i in range(terms):  # close the run: window part into it, e_hi into the total
                        p0, p1 = ext_mul(eq_y[i, y, 0], eq_y[i, y, 1], acc[c, 0, i, 0], acc[c, 0, i, 1])
                        r0 = add(acc[c, 1, i, 0], p0)
                        r1 = add(acc[c, 1, i, 1], p1)
                        if cur >= 0:
                            p0, p1 = ext_mul(e_hi[cur, 0], e_hi[cur, 1], r0, r1)
                            out[c, i, 0] = add(out[c, i, 0], p0)
                            out[c, i, 1] = add(out[c, i, 1], p1)
                        for a in range(2):
                            acc[c, a, i, 0] = np.uint64(0)
                            acc[c, a, i, 1] = np.uint64(0)
                    cur = h
                lo = s & low
                e0, e1 = e_lo[lo, 0], e_lo[lo, 1]
                for i in range(terms):
                    p0, p1 = ext_mul(eq_k[i, k, 0], eq_k[i, k, 1], e0, e1)
                    acc[c, 0, i, 0] = add(acc[c, 0, i, 0], p0)
                    acc[c, 0, i, 1] = add(acc[c, 0, i, 1], p1)
            for i in range(terms):  # close the window: its part into the run
                p0, p1 = ext_mul(eq_y[i, y, 0], eq_y[i, y, 1], acc[c, 0, i, 0], acc[c, 0, i, 1])
                acc[c, 1, i, 0] = add(acc[c, 1, i, 0], p0)
                acc[c, 1, i, 1] = add(acc[c, 1, i, 1], p1)
                acc[c, 0, i, 0] = np.uint64(0)
                acc[c, 0, i, 1] = np.uint64(0)
        if cur >= 0:
            for i in range(terms):
                p0, p1 = ext_mul(e_hi[cur, 0], e_hi[cur, 1], acc[c, 1, i, 0], acc[c, 1, i, 1])
                out[c, i, 0] = add(out[c, i, 0], p0)
                out[c, i, 1] = add(out[c, i, 1], p1)


@njit(parallel=True, cache=True)
def _placed_sums(c, off, digits, x, e_hi, e_lo, lo_bits, weighted, out):
    """out[ch] = sum over the entries j of chunk ch of
    e(x[j]) c[off + j div k] digits[j mod k] (c extension, digits base,
    k = digits.shape[0]), e(x) = e_hi[x >> lo_bits] e_lo[x & (2^lo_bits - 1)]
    when weighted, else 1. Factored by runs: an element's k entries share
    c[pos] and entries of one x >> lo_bits share e_hi (x in increasing
    order: one product per element and one per run), so an entry costs a
    base-by-extension product e_lo digit."""
    n = x.shape[0]
    k = digits.shape[0]
    chunks = out.shape[0]
    per = (n + chunks - 1) // chunks
    low = (np.int64(1) << lo_bits) - 1
    one = np.uint64(1)
    for ch in prange(chunks):
        t0 = np.uint64(0)
        t1 = np.uint64(0)
        r0 = np.uint64(0)  # the current run's sum (before e_hi)
        r1 = np.uint64(0)
        a0 = np.uint64(0)  # the current element's sum (before c[pos])
        a1 = np.uint64(0)
        cur_h = np.int64(-1)
        cur_p = np.int64(-1)
        start = ch * per
        q = off + start // k  # entry j is digit u of element q
        u = start % k
        for j in range(start, min(n, (ch + 1) * per)):
            h = (x[j] >> lo_bits) if weighted else np.int64(0)
            if q != cur_p or h != cur_h:
                if cur_p >= 0:
                    p0, p1 = ext_mul(c[cur_p, 0], c[cur_p, 1], a0, a1)
                    r0 = add(r0, p0)
                    r1 = add(r1, p1)
                a0 = np.uint64(0)
                a1 = np.uint64(0)
                cur_p = q
            if h != cur_h:
                if cur_h >= 0:
                    p0, p1 = ext_mul(e_hi[cur_h, 0], e_hi[cur_h, 1], r0, r1)
                    t0 = add(t0, p0)
                    t1 = add(t1, p1)
                r0 = np.uint64(0)
                r1 = np.uint64(0)
                cur_h = h
            v = digits[u]
            if weighted:
                lo = x[j] & low
                if v == one:
                    a0 = add(a0, e_lo[lo, 0])
                    a1 = add(a1, e_lo[lo, 1])
                else:
                    a0 = add(a0, mul(e_lo[lo, 0], v))
                    a1 = add(a1, mul(e_lo[lo, 1], v))
            else:
                a0 = add(a0, v)
            u += 1
            if u == k:
                u = 0
                q += 1
        if cur_p >= 0:
            p0, p1 = ext_mul(c[cur_p, 0], c[cur_p, 1], a0, a1)
            r0 = add(r0, p0)
            r1 = add(r1, p1)
            p0, p1 = ext_mul(e_hi[cur_h, 0], e_hi[cur_h, 1], r0, r1) if weighted else (r0, r1)
            t0 = add(t0, p0)
            t1 = add(t1, p1)
        out[ch, 0] = t0
        out[ch, 1] = t1


# ---------------------------------------------------------------- dispatch


def vec_mat(e, a, out):
    """out[k] = sum_m e[m] a[m, k]: e extension (M, 2), a base (M, K), out (K, 2)."""
    if jit.use_kernel(a.size, NUMPY_BELOW, _vec_mat):
        _vec_mat(e, a, out)
    else:
        vec_mat_numpy(e, a, out)


def mat_vec(a, e, out):
    """out[k] = sum_n a[k, n] e[n]: a base (K, N), e extension (N, 2), out (K, 2)."""
    if jit.use_kernel(a.size, NUMPY_BELOW, _mat_vec):
        _mat_vec(a, e, out)
    else:
        mat_vec_numpy(a, e, out)


def wiring_table(eq_r, src_id, src_idx, which, size, out):
    """out[x] = sum of eq_r[y] over y with (src_id[y], src_idx[y]) = (which, x)."""
    if jit.use_kernel(src_idx.shape[0], NUMPY_BELOW, _wiring_table):
        _wiring_table(eq_r, src_id, src_idx, which, size, out)
    else:
        wiring_table_numpy(eq_r, src_id, src_idx, which, size, out)


# From this many entries `wiring_eval` runs in parallel chunks: wall time
# only (CPU time is the same), and one more kernel to load (~4 ms) in a
# process whose serial kernel is loaded already; big_cnn's largest job is
# now 2^18 (its IndexMap; MaxPool's wiring went to `pool.wiring`).
WIRING_PARALLEL_FROM = 1 << 20


def wiring_eval(eq_r, eq_s, src_id, src_idx, which):
    """sum_y eq_r[y] eq_s[src_idx[y]] over y with src_id[y] = which, as (c0, c1)."""
    n = src_idx.shape[0]
    if n >= WIRING_PARALLEL_FROM and jit.use_kernel(n, NUMPY_BELOW, _wiring_eval_parallel):
        out = np.empty((GATHER_CHUNKS, 2), dtype=np.uint64)
        _wiring_eval_parallel(eq_r, eq_s, src_id, src_idx, which, out)
        s0, s1 = nf.ext_sum(out)
        return np.uint64(s0), np.uint64(s1)
    if jit.use_kernel(n, NUMPY_BELOW, _wiring_eval):
        return _wiring_eval(eq_r, eq_s, src_id, src_idx, which)
    return wiring_eval_numpy(eq_r, eq_s, src_id, src_idx, which)


def _halves(point):
    """eq tables of a point's first and second halves, and the second's size in variables."""
    pts = point_array(point)
    lo_bits = pts.shape[0] // 2
    return eq_table(pts[: pts.shape[0] - lo_bits]), eq_table(pts[pts.shape[0] - lo_bits:]), lo_bits


def split_wiring_eval(r, s, src_id, src_idx, which):
    """`wiring_eval(eq_table(r), eq_table(s), ...)` without either table:
    eq(r, .) and eq(s, .) from their halves' tables (`_split_wiring_eval`)."""
    r_hi, r_lo, y_lo_bits = _halves(r)
    s_hi, s_lo, x_lo_bits = _halves(s)
    if jit.use_kernel(src_idx.shape[0], NUMPY_BELOW, _split_wiring_eval):
        out = np.empty((GATHER_CHUNKS, 2), dtype=np.uint64)
        _split_wiring_eval(r_hi, r_lo, y_lo_bits, s_hi, s_lo, x_lo_bits, src_id, src_idx, which, out)
        s0, s1 = nf.ext_sum(out)
        return np.uint64(s0), np.uint64(s1)
    return split_wiring_eval_numpy(r_hi, r_lo, y_lo_bits, s_hi, s_lo, x_lo_bits, src_id, src_idx, which)


def masked_eq_sum(eq_r, src_id, which):
    """sum of eq_r[y] over y with src_id[y] = which, as (c0, c1)."""
    if jit.use_kernel(src_id.shape[0], NUMPY_BELOW, _masked_eq_sum):
        return _masked_eq_sum(eq_r, src_id, which)
    return masked_eq_sum_numpy(eq_r, src_id, which)


def slot_sums(eq_k, eq_y, src, zero_slots, out):
    """out[i, y] = eq_y[i, y] sum_k eq_k[i, k] over window y's slots with
    src >= 0 (or = -2 when zero_slots): eq_k (T, Kp, 2), eq_y and out (T, Y, 2),
    src (Y * Kp,)."""
    if jit.use_kernel(src.shape[0], NUMPY_BELOW, _slot_sums):
        _slot_sums(eq_k, eq_y, src, zero_slots, out)
    else:
        slot_sums_numpy(eq_k, eq_y, src, zero_slots, out)


# Partial sums of `slot_gather_sums`, one per prange chunk.
GATHER_CHUNKS = 64


def slot_gather_sums(eq_k, eq_y, src, point_x) -> np.ndarray:
    """(T, 2): sum_y eq_y[i, y] sum_k eq_k[i, k] eq(point_x, src[y * Kp + k])
    over slots with src >= 0, eq(point_x, .) from its halves' tables."""
    e_hi, e_lo, lo_bits = _halves(point_x)
    if jit.use_kernel(src.shape[0], NUMPY_BELOW, _slot_gather_sums):
        out = np.empty((GATHER_CHUNKS, eq_k.shape[0], 2), dtype=np.uint64)
        acc = np.empty((GATHER_CHUNKS, 2, eq_k.shape[0], 2), dtype=np.uint64)
        _slot_gather_sums(eq_k, eq_y, src, e_hi, e_lo, lo_bits, acc, out)
        return np.array([nf.ext_sum(out[:, i]) for i in range(eq_k.shape[0])], dtype=np.uint64)
    return slot_gather_sums_numpy(eq_k, eq_y, src, e_hi, e_lo, lo_bits)


def placed_sum(c, off, digits, x, point=None):
    """sum_j eq(point, x[j]) c[off + j div k] digits[j mod k] as (c0, c1)
    (eq = 1 without a point; k = len(digits)): c extension (M, 2), digits
    base (k,), x int64 (J,) increasing. eq(point, .) comes from its halves'
    tables: no table of 2^len(point) entries is built."""
    if point is None:
        e_hi = e_lo = np.zeros((1, 2), dtype=np.uint64)
        lo_bits = 0
    else:
        e_hi, e_lo, lo_bits = _halves(point)
    if jit.use_kernel(x.shape[0], NUMPY_BELOW, _placed_sums):
        out = np.empty((GATHER_CHUNKS, 2), dtype=np.uint64)
        _placed_sums(c, off, digits, x, e_hi, e_lo, lo_bits, point is not None, out)
        return nf.ext_sum(out)
    return placed_sum_numpy(c, off, digits, x, e_hi, e_lo, lo_bits, point is not None)


# ---------------------------------------------------------------- numpy paths


def vec_mat_numpy(e, a, out):
    for c in range(2):
        out[:, c] = nf.sum_axis(nf.mul(a, e[:, c, None]), axis=0)


def mat_vec_numpy(a, e, out):
    for c in range(2):
        out[:, c] = nf.sum_axis(nf.mul(a, e[:, c]), axis=1)


def wiring_table_numpy(eq_r, src_id, src_idx, which, size, out):
    sel = src_id == which
    x = src_idx[sel]
    vals = eq_r[sel]
    # scatter-add of the 32-bit halves: exact in uint64 for < 2^31 terms
    hi = np.zeros((size, 2), dtype=np.uint64)
    lo = np.zeros((size, 2), dtype=np.uint64)
    np.add.at(hi, x, vals >> np.uint64(32))
    np.add.at(lo, x, vals & np.uint64(0xFFFFFFFF))
    out[:size] = _recombine(hi, lo)


def _recombine(hi, lo):
    """hi * 2^32 + lo (mod p) for exact uint64 sums of 32-bit halves (< 2^63)."""
    p = np.uint64(nf.P)
    hi = np.where(hi >= p, hi - p, hi)
    lo = np.where(lo >= p, lo - p, lo)
    return nf.add(nf.mul(hi, np.uint64(1 << 32)), lo)


def wiring_eval_numpy(eq_r, eq_s, src_id, src_idx, which):
    sel = src_id == which
    s = nf.sum_axis(nf.ext_mul(eq_r[sel], eq_s[src_idx[sel]]), axis=0)
    return s[0], s[1]


def masked_eq_sum_numpy(eq_r, src_id, which):
    s = nf.sum_axis(eq_r[src_id == which], axis=0)
    return s[0], s[1]


def slot_sums_numpy(eq_k, eq_y, src, zero_slots, out):
    slots = eq_k.shape[1]
    rows = np.nonzero((src >= 0) | (zero_slots & (src == -2)))[0]
    for i in range(eq_k.shape[0]):
        out[i] = nf.ext_mul(eq_y[i], vec.sum_by_index(eq_k[i][rows % slots], rows // slots, out.shape[1]))


def slot_gather_sums_numpy(eq_k, eq_y, src, e_hi, e_lo, lo_bits) -> np.ndarray:
    slots = eq_k.shape[1]
    rows = np.nonzero(src >= 0)[0]
    x = src[rows]
    e = nf.ext_mul(e_hi[x >> lo_bits], e_lo[x & ((1 << lo_bits) - 1)])
    out = np.empty((eq_k.shape[0], 2), dtype=np.uint64)
    for i in range(eq_k.shape[0]):
        w = nf.ext_mul(eq_y[i][rows // slots], eq_k[i][rows % slots])
        out[i] = nf.ext_sum(nf.ext_mul(w, e))
    return out


def placed_sum_numpy(c, off, digits, x, e_hi, e_lo, lo_bits, weighted):
    j = np.arange(x.shape[0], dtype=np.int64)
    k = digits.shape[0]
    v = nf.ext_mul_base(c[off + j // k], digits[j % k])
    if weighted:
        v = nf.ext_mul(v, nf.ext_mul(e_hi[x >> lo_bits], e_lo[x & ((1 << lo_bits) - 1)]))
    return nf.ext_sum(v)


def split_wiring_eval_numpy(r_hi, r_lo, y_lo_bits, s_hi, s_lo, x_lo_bits, src_id, src_idx, which):
    y = np.nonzero(src_id == which)[0]
    x = src_idx[y]
    eq_r = nf.ext_mul(r_hi[y >> y_lo_bits], r_lo[y & ((1 << y_lo_bits) - 1)])
    eq_s = nf.ext_mul(s_hi[x >> x_lo_bits], s_lo[x & ((1 << x_lo_bits) - 1)])
    v = nf.ext_sum(nf.ext_mul(eq_r, eq_s))
    return np.uint64(v[0]), np.uint64(v[1])
