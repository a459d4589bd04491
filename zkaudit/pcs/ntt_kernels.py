"""numba kernels for radix-2 NTTs over Goldilocks (see `ntt.py` for the maths).

In place on uint64 arrays of canonical elements:

* row-wise (`dif_rows`, `dit_rows`): a (batch, n) array, one transform per
  row; threads split the batch.
* encode-and-transpose (`encode_rows_transposed`): Reed-Solomon codewords of
  the rows of an (R, m) message, written as the columns of an (n, R) array.
  This is the commitment's layout: codeword position j of every row is the
  contiguous row j, hashed as one Merkle leaf. (Running the butterflies
  down the columns directly measured 3-7x slower: every stage then strides
  over pages.)

Stage twiddles: `tws[h + j] = w_{2h}^j` for the stage of half-size h and
j < h (entries h .. 2h - 1, so each stage reads a contiguous run; tws[0] is
unused). Butterflies run over slices with the branch-free helpers of
`fastarith`, which is what lets LLVM keep the inner loop tight.

Each public function runs its numba kernel (`_name`) or, for a job below
`NUMPY_BELOW` elements while that kernel is not loaded in the process, the
numpy path `name_numpy` with the same signature and values (the same
butterflies, one whole stage per array operation; `field.jit.use_kernel`):
the verifier's few short codewords never load numba.
"""

from __future__ import annotations

import numpy as np

from zkaudit.field import jit
from zkaudit.field import npfield as nf
from zkaudit.field.jit import njit, prange

U64_1 = np.uint64(1)
mul = jit.imported("zkaudit.field.arith", "mul")
badd, bmul, bsub = jit.imported("zkaudit.pcs.fastarith", "badd", "bmul", "bsub")

# Below this many elements a call takes the numpy path (unless its kernel
# is loaded already).
NUMPY_BELOW = 1 << 14


@njit(cache=True)
def _powers(base, count, out):
    """out[j] = base^j for j < count."""
    acc = U64_1
    for j in range(count):
        out[j] = acc
        acc = mul(acc, base)


@njit(cache=True)
def _dif(row, tws):
    """DIF of a 1-D array: natural order in, bit-reversed out."""
    n = row.shape[0]
    h = n >> 1
    while h >= 1:
        tw = tws[h : 2 * h]
        for start in range(0, n, 2 * h):
            top = row[start : start + h]
            bot = row[start + h : start + 2 * h]
            for j in range(h):
                x = top[j]
                y = bot[j]
                top[j] = badd(x, y)
                bot[j] = bmul(bsub(x, y), tw[j])
        h >>= 1


@njit(cache=True)
def _dit(row, tws):
    """DIT of a 1-D array: bit-reversed in, natural order out (unscaled)."""
    n = row.shape[0]
    h = 1
    while h < n:
        tw = tws[h : 2 * h]
        for start in range(0, n, 2 * h):
            top = row[start : start + h]
            bot = row[start + h : start + 2 * h]
            for j in range(h):
                x = top[j]
                y = bmul(bot[j], tw[j])
                top[j] = badd(x, y)
                bot[j] = bsub(x, y)
        h <<= 1


@njit(parallel=True, cache=True)
def _dif_rows(a, tws):
    """Each row b becomes bitrev(DFT_w(row b)), w the root `tws` was built from."""
    for b in prange(a.shape[0]):
        _dif(a[b], tws)


@njit(parallel=True, cache=True)
def _dit_rows(a, tws):
    """The unscaled inverse of `dif_rows` when `tws` holds the inverse root's
    stage twiddles."""
    for b in prange(a.shape[0]):
        _dit(a[b], tws)


@njit(parallel=True, cache=True)
def _scale_rows(a, factors):
    """a[b, j] *= factors[j] for every row b."""
    batch, n = a.shape
    for b in prange(batch):
        for j in range(n):
            a[b, j] = bmul(a[b, j], factors[j])


@njit(parallel=True, cache=True)
def _encode_rows_transposed(msg, shift_powers, tws, out, group):
    """Reed-Solomon encode every row of `msg` (R, m) and store the codewords
    as the *columns* of `out` (B*m, R). Block t of a codeword (positions
    t*m .. t*m + m) is the DIF of the row scaled by shift_powers[t, i] = s_t^i,
    i.e. the row's polynomial on the coset s_t * <w_m>, bit-reversed within
    the block. Rows are encoded `group` at a time in a contiguous scratch
    buffer, then written out as `group`-wide runs of each output row, so the
    strided (transposing) access happens once, not once per butterfly stage."""
    num_rows, m = msg.shape
    blocks = shift_powers.shape[0]
    n = blocks * m
    ngroups = (num_rows + group - 1) // group
    for g in prange(ngroups):
        r0 = g * group
        r1 = min(num_rows, r0 + group)
        scratch = np.empty((r1 - r0, n), dtype=np.uint64)
        for r in range(r0, r1):
            src = msg[r]
            for t in range(blocks):
                block = scratch[r - r0, t * m : (t + 1) * m]
                sp = shift_powers[t]
                for i in range(m):
                    block[i] = bmul(src[i], sp[i])
                _dif(block, tws)
        for j in range(n):
            dst = out[j]
            for r in range(r0, r1):
                dst[r] = scratch[r - r0, j]


@njit(parallel=True, cache=True)
def _bit_reverse_rows(a, rev, out):
    batch, n = a.shape
    for b in prange(batch):
        for j in range(n):
            out[b, rev[j]] = a[b, j]


@njit(inline="always", cache=True)
def _fold_pad_block(src, m, sp, pad_sp, block):
    """block[i] = (D + s_t^m Pad)[i] * s_t^i: the hiding row's polynomial
    reduced mod X^m - s_t^m (it has the same values on the coset s_t H_m,
    and degree < m because l_pad <= m), scaled for the block's DIF.
    pad_sp[k] = s_t^(m + k). The first loop is the plain encoder's, kept
    alone so LLVM compiles it the same way (a fused single loop measured
    ~9% slower per row)."""
    for i in range(m):
        block[i] = bmul(src[i], sp[i])
    for k in range(pad_sp.shape[0]):
        block[k] = badd(block[k], bmul(src[m + k], pad_sp[k]))


@njit(parallel=True, cache=True)
def _encode_padded_rows_transposed(msg, m, shift_powers, pad_shift_powers, tws, out, group):
    """The hiding code's `encode_rows_transposed`: row r of msg (R, m + l) is
    P_r(X) = sum_{c < m} msg[r, c] X^c + X^m sum_{k < l} msg[r, m + k] X^k,
    l <= m. On block t's coset s_t H_m, X^m is the constant s_t^m, so P_r
    there is the degree < m polynomial D_r + s_t^m Pad_r: one size-m DIF per
    block, exactly the plain encoder's work plus l products
    (pad_shift_powers[t, k] = s_t^(m + k)). Writes columns 0 .. R - 1 of
    `out` (n, >= R) (the leaf's later words, its salt, are the caller's)."""
    num_rows = msg.shape[0]
    blocks = shift_powers.shape[0]
    n = blocks * m
    ngroups = (num_rows + group - 1) // group
    for g in prange(ngroups):
        r0 = g * group
        r1 = min(num_rows, r0 + group)
        scratch = np.empty((r1 - r0, n), dtype=np.uint64)
        for r in range(r0, r1):
            src = msg[r]
            for t in range(blocks):
                block = scratch[r - r0, t * m : (t + 1) * m]
                _fold_pad_block(src, m, shift_powers[t], pad_shift_powers[t], block)
                _dif(block, tws)
        for j in range(n):
            dst = out[j]
            for r in range(r0, r1):
                dst[r] = scratch[r - r0, j]


@njit(parallel=True, cache=True)
def _encode_padded_rows(msg, m, shift_powers, pad_shift_powers, tws, out):
    """The same codewords, row-major: out (R, n). Threads split (row, block)
    pairs, so the verifier's four coordinate rows use every core."""
    num_rows = msg.shape[0]
    blocks = shift_powers.shape[0]
    for task in prange(num_rows * blocks):
        r = task // blocks
        t = task % blocks
        block = out[r, t * m : (t + 1) * m]
        _fold_pad_block(msg[r], m, shift_powers[t], pad_shift_powers[t], block)
        _dif(block, tws)


# ---------------------------------------------------------------- dispatch


def powers(base, count, out):
    """out[j] = base^j for j < count."""
    if jit.use_kernel(count, NUMPY_BELOW, _powers):
        _powers(base, count, out)
    else:
        powers_numpy(base, count, out)


def dif_rows(a, tws):
    """Each row b becomes bitrev(DFT_w(row b)), w the root `tws` was built from."""
    if jit.use_kernel(a.size, NUMPY_BELOW, _dif_rows):
        _dif_rows(a, tws)
    else:
        dif_rows_numpy(a, tws)


def dit_rows(a, tws):
    """The unscaled inverse of `dif_rows` for the inverse root's twiddles."""
    if jit.use_kernel(a.size, NUMPY_BELOW, _dit_rows):
        _dit_rows(a, tws)
    else:
        dit_rows_numpy(a, tws)


def scale_rows(a, factors):
    """a[b, j] *= factors[j] for every row b."""
    if jit.use_kernel(a.size, NUMPY_BELOW, _scale_rows):
        _scale_rows(a, factors)
    else:
        scale_rows_numpy(a, factors)


def bit_reverse_rows(a, rev, out):
    """out[b, rev[j]] = a[b, j]."""
    if jit.use_kernel(a.size, NUMPY_BELOW, _bit_reverse_rows):
        _bit_reverse_rows(a, rev, out)
    else:
        bit_reverse_rows_numpy(a, rev, out)


def encode_rows_transposed(msg, shift_powers, tws, out, group):
    """Codewords of the rows of msg as the columns of out (see `_encode_rows_transposed`)."""
    if jit.use_kernel(out.shape[0] * msg.shape[0], NUMPY_BELOW, _encode_rows_transposed):
        _encode_rows_transposed(msg, shift_powers, tws, out, group)
    else:
        encode_rows_transposed_numpy(msg, shift_powers, tws, out, group)


def encode_padded_rows_transposed(msg, m, shift_powers, pad_shift_powers, tws, out, group):
    """The hiding code's `encode_rows_transposed` (see `_encode_padded_rows_transposed`)."""
    if jit.use_kernel(shift_powers.size * msg.shape[0], NUMPY_BELOW, _encode_padded_rows_transposed):
        _encode_padded_rows_transposed(msg, m, shift_powers, pad_shift_powers, tws, out, group)
    else:
        encode_padded_rows_transposed_numpy(msg, m, shift_powers, pad_shift_powers, tws, out, group)


def encode_padded_rows(msg, m, shift_powers, pad_shift_powers, tws, out):
    """The hiding code's codewords, row-major (see `_encode_padded_rows`)."""
    if jit.use_kernel(shift_powers.size * msg.shape[0], NUMPY_BELOW, _encode_padded_rows):
        _encode_padded_rows(msg, m, shift_powers, pad_shift_powers, tws, out)
    else:
        encode_padded_rows_numpy(msg, m, shift_powers, pad_shift_powers, tws, out)


# ---------------------------------------------------------------- numpy paths


def powers_numpy(base, count, out):
    if count <= 0:
        return
    out[0] = 1
    done = 1
    while done < count:  # out[done : 2 done] = out[:done] * base^done
        take = min(done, count - done)
        out[done : done + take] = nf.mul(out[:take], nf.pow_scalar(base, done))
        done += take


def _rows_view(a):
    """(work, write_back): a C-contiguous array to transform in place."""
    if a.flags.c_contiguous:
        return a, False
    return np.ascontiguousarray(a), True


def dif_rows_numpy(a, tws):
    work, back = _rows_view(a)
    batch, n = work.shape
    h = n >> 1
    while h >= 1:
        v = work.reshape(batch, n // (2 * h), 2, h)
        x, y = v[:, :, 0, :].copy(), v[:, :, 1, :]
        v[:, :, 0, :] = nf.add(x, y)  # y is still the old bottom half
        v[:, :, 1, :] = nf.mul(nf.sub(x, y), tws[h : 2 * h])
        h >>= 1
    if back:
        a[...] = work


def dit_rows_numpy(a, tws):
    work, back = _rows_view(a)
    batch, n = work.shape
    h = 1
    while h < n:
        v = work.reshape(batch, n // (2 * h), 2, h)
        x, y = v[:, :, 0, :].copy(), nf.mul(v[:, :, 1, :], tws[h : 2 * h])
        v[:, :, 0, :] = nf.add(x, y)
        v[:, :, 1, :] = nf.sub(x, y)
        h <<= 1
    if back:
        a[...] = work


def scale_rows_numpy(a, factors):
    a[...] = nf.mul(a, factors)


def bit_reverse_rows_numpy(a, rev, out):
    out[:, rev] = a


def _dif_blocks_numpy(blocks, tws):
    """dif_rows_numpy over a (blocks, R, m) array as one (blocks R, m) batch:
    a stage is then one array operation for every block at once (numpy's
    per-call cost, not the arithmetic, is what a verifier's short codewords
    pay: one call per block measured ~8x the array work at m = 256)."""
    flat = blocks.reshape(-1, blocks.shape[2])
    dif_rows_numpy(flat, tws)
    return flat.reshape(blocks.shape)


def encode_rows_transposed_numpy(msg, shift_powers, tws, out, group):
    m, rows = msg.shape[1], msg.shape[0]
    blocks = _dif_blocks_numpy(nf.mul(msg[None, :, :], shift_powers[:, None, :]), tws)
    out[: shift_powers.shape[0] * m, :rows] = blocks.transpose(0, 2, 1).reshape(-1, rows)


def _fold_pad_blocks_numpy(msg, m, sp, pad_sp):
    """`_fold_pad_block` for every row and block: (R, m + l) with (B, m) and
    (B, l) shift powers -> (B, R, m)."""
    block = nf.mul(msg[None, :, :m], sp[:, None, :])
    pad = pad_sp.shape[1]
    block[:, :, :pad] = nf.add(block[:, :, :pad], nf.mul(msg[None, :, m : m + pad], pad_sp[:, None, :]))
    return block


def encode_padded_rows_transposed_numpy(msg, m, shift_powers, pad_shift_powers, tws, out, group):
    rows = msg.shape[0]
    blocks = _dif_blocks_numpy(_fold_pad_blocks_numpy(msg, m, shift_powers, pad_shift_powers), tws)
    out[: shift_powers.shape[0] * m, :rows] = blocks.transpose(0, 2, 1).reshape(-1, rows)


def encode_padded_rows_numpy(msg, m, shift_powers, pad_shift_powers, tws, out):
    blocks = _dif_blocks_numpy(_fold_pad_blocks_numpy(msg, m, shift_powers, pad_shift_powers), tws)
    out[...] = blocks.transpose(1, 0, 2).reshape(msg.shape[0], -1)
