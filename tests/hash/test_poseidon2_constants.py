"""The Poseidon2 instance is Plonky3's default_goldilocks_poseidon2_8: the
Grain LFSR regenerates the pinned constant table bit for bit, and the
matrices are the ones that instance uses (zero-knowledge.md §5.1, §9 item 1)."""

from __future__ import annotations

from itertools import combinations

from zkaudit.field.constants import P
from zkaudit.hash import constants as C
from zkaudit.hash import reference as R


def test_grain_regenerates_the_pinned_table():
    initial, internal, final = C.split_round_constants(C.grain_round_constants())
    assert initial == C.EXTERNAL_INITIAL
    assert internal == C.INTERNAL
    assert final == C.EXTERNAL_FINAL


def test_the_printed_table_is_the_one_in_the_source():
    src = open(C.__file__).read()
    pinned = src.split("# fmt: off\n")[1].split("# fmt: on")[0].strip()
    assert pinned == C._format_table()


def test_constants_named_in_the_design_note():
    assert C.EXTERNAL_INITIAL[0][0] == 0xDD5743E7F2A5A5D9
    assert C.INTERNAL[-1] == 0xFBB7865901A1EC41
    assert len(C.grain_round_constants()) == C.FULL_ROUNDS * C.WIDTH + C.PARTIAL_ROUNDS == 86


def test_the_seed_fields_matter():
    # Width 12 of the same family, and the HorizenLabs instance (S-box flag 1):
    # the first constants the design note quotes for each.
    assert C.grain_round_constants(width=12)[0] == 0x13DCF33ABA214F46
    assert C.grain_round_constants(sbox_type=1)[0] == 0x57056152CEDF0FE7
    assert C.grain_round_constants(partial_rounds=23)[0] != C.EXTERNAL_INITIAL[0][0]


def test_internal_diagonal_is_plonky3s():
    assert C.MATRIX_DIAG_8 == (
        0xFFFFFFFEFFFFFFFF, 0x0000000000000001, 0x0000000000000002, 0x7FFFFFFF80000001,
        0x0000000000000003, 0x7FFFFFFF80000000, 0xFFFFFFFEFFFFFFFE, 0xFFFFFFFEFFFFFFFD,
    )  # fmt: skip
    named = (-2, 1, 2, None, 3, None, -3, -4)
    for v, n in zip(C.MATRIX_DIAG_8, named):
        if n is not None:
            assert v == n % P
    assert 2 * C.MATRIX_DIAG_8[3] % P == 1 and 2 * C.MATRIX_DIAG_8[5] % P == P - 1


def _det(m: list[list[int]]) -> int:
    a = [row[:] for row in m]
    n, det = len(a), 1
    for c in range(n):
        piv = next((r for r in range(c, n) if a[r][c] % P), None)
        if piv is None:
            return 0
        if piv != c:
            a[c], a[piv] = a[piv], a[c]
            det = -det
        det = det * a[c][c] % P
        inv = pow(a[c][c], P - 2, P)
        for r in range(c + 1, n):
            f = a[r][c] * inv % P
            a[r] = [(x - f * y) % P for x, y in zip(a[r], a[c])]
    return det % P


def test_m4_is_mds_and_the_layers_are_invertible():
    for k in range(1, 5):
        for rows in combinations(range(4), k):
            for cols in combinations(range(4), k):
                assert _det([[C.M4[i][j] for j in cols] for i in rows]) != 0
    assert _det(R.external_matrix()) != 0
    assert _det(R.internal_matrix()) != 0


def test_external_matrix_is_circ_2m4_m4():
    me = R.external_matrix()
    for i in range(8):
        for j in range(8):
            k = 2 if i // 4 == j // 4 else 1
            assert me[i][j] == k * C.M4[i % 4][j % 4]
