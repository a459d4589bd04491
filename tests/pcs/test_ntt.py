"""NTT and Reed-Solomon encoding: kernels against the naive O(n^2) DFT and
point-by-point evaluation, round trips, and the code's defining property."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from zkaudit.field import P, vec
from zkaudit.field.constants import MULTIPLICATIVE_GENERATOR
from zkaudit.pcs import ntt
from zkaudit.pcs import ntt_reference as ref


def _rows(batch: int, log_n: int, seed: int) -> np.ndarray:
    return vec.random(batch << log_n, np.random.default_rng(seed)).reshape(batch, 1 << log_n)


@pytest.mark.parametrize("log_n", range(0, 7))
@pytest.mark.parametrize("batch", [1, 3])
def test_ntt_matches_naive_dft(log_n, batch):
    a = _rows(batch, log_n, log_n)
    assert np.array_equal(ntt.ntt(a), ref.ntt(a))
    assert np.array_equal(ntt.intt(a), ref.intt(a))
    assert np.array_equal(ntt.coset_ntt(a), ref.coset_ntt(a))
    assert np.array_equal(ntt.coset_ntt(a, 12345), ref.coset_ntt(a, 12345))


def test_vector_input_gives_vector_output():
    a = _rows(1, 5, 1)[0]
    out = ntt.ntt(a)
    assert out.shape == a.shape and np.array_equal(out, ref.ntt(a))
    assert np.array_equal(ntt.intt(out), a)


@given(st.integers(0, 10), st.integers(1, 4), st.integers(0, 2**32))
def test_inverse_round_trips(log_n, batch, seed):
    a = _rows(batch, log_n, seed)
    assert np.array_equal(ntt.intt(ntt.ntt(a)), a)
    assert np.array_equal(ntt.ntt(ntt.intt(a)), a)
    assert np.array_equal(ntt.coset_intt(ntt.coset_ntt(a)), a)
    assert np.array_equal(ntt.coset_intt(ntt.coset_ntt(a, 99), 99), a)


def test_edge_values_and_input_untouched():
    a = np.array([[P - 1, 0, 1, P - 2, 1 << 32, (1 << 32) - 1, 1 << 63, 7]], dtype=np.uint64)
    keep = a.copy()
    assert np.array_equal(ntt.ntt(a), ref.ntt(a))
    assert np.array_equal(a, keep)


def test_root_of_unity_orders():
    for log_n in (1, 5, 32):
        w = ntt.root_of_unity(log_n)
        assert pow(w, 1 << log_n, P) == 1 and pow(w, 1 << (log_n - 1), P) == P - 1
    with pytest.raises(ValueError):
        ntt.root_of_unity(33)


def test_bit_reverse_is_an_involution():
    a = _rows(2, 6, 3)
    assert np.array_equal(ntt.bit_reverse(ntt.bit_reverse(a)), a)
    assert not np.array_equal(ntt.bit_reverse(a), a)


@pytest.mark.parametrize("log_m", range(0, 6))
@pytest.mark.parametrize("log_blowup", [0, 1, 2, 3])
def test_rs_encode_matches_naive(log_m, log_blowup):
    a = _rows(3, log_m, 10 * log_m + log_blowup)
    code = ntt.rs_encode(a, log_blowup)
    assert np.array_equal(code, ref.rs_encode(a, log_blowup))
    # The transposed (commitment) layout holds the same codewords as columns.
    assert np.array_equal(ntt.rs_encode_transposed(a, log_blowup).T, code)


@pytest.mark.parametrize("rows", [1, 7, 8, 9, 33])
def test_transposed_encoder_on_ragged_row_counts(rows):
    a = _rows(rows, 4, rows)
    assert np.array_equal(ntt.rs_encode_transposed(a, 2).T, ntt.rs_encode(a, 2))


def test_codeword_is_a_low_degree_evaluation():
    """Undo the bit-reversed order and interpolate: only the m message
    coefficients survive, and they are the message."""
    a = _rows(2, 4, 5)
    code = ntt.rs_encode(a, 2)
    coeffs = ntt.intt(ntt.bit_reverse(code))
    assert np.array_equal(coeffs[:, :16], a)
    assert not coeffs[:, 16:].any()


def test_rs_encode_ext_encodes_each_coordinate():
    u = vec.ext_random(8, np.random.default_rng(4))
    enc = ntt.rs_encode_ext(u, 2)
    assert np.array_equal(enc[:, 0], ntt.rs_encode(u[:, 0].copy(), 2))
    assert np.array_equal(enc[:, 1], ntt.rs_encode(u[:, 1].copy(), 2))


def test_rejects_bad_input():
    with pytest.raises(ValueError):
        ntt.ntt(np.zeros(6, dtype=np.uint64))
    with pytest.raises(TypeError):
        ntt.ntt(np.zeros(8, dtype=np.int64))
    with pytest.raises(ValueError):
        ntt.coset_ntt(np.zeros(8, dtype=np.uint64), 0)
    assert MULTIPLICATIVE_GENERATOR == 7
