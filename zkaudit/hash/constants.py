"""Constants of Poseidon2 over Goldilocks, width 8: Plonky3's
`default_goldilocks_poseidon2_8` instance (zero-knowledge.md §5.1).

    t = 8 lanes, S-box x^7 (7 is the smallest alpha with gcd(alpha, p - 1) = 1),
    R_F = 8 external rounds (4 before, 4 after), R_P = 22 internal rounds.

Round constants come from the Grain LFSR of the Poseidon paper (ePrint
2019/458, App. E), which `grain_round_constants` runs here:

* the 80-bit seed is, most significant bit first, field type (2 bits, 1 =
  GF(p)) | S-box type (4 bits, 0 = x^alpha) | n (12 bits, 64) | t (12 bits) |
  R_F (10 bits) | R_P (10 bits) | thirty 1-bits;
* each clock shifts the register by one and appends b0 ^ b13 ^ b23 ^ b38 ^
  b51 ^ b62 (b0 the oldest bit); the first 160 clocks are discarded;
* output is self-shrinking: clock a pair (a, b), emit b iff a = 1;
* a field element is 64 emitted bits, most significant first, redrawn when
  it is >= p;
* Poseidon2 takes R_F * t + R_P of them, in the order external-initial
  (4 rounds x t), internal (R_P, one per round, lane 0), external-final.

The S-box flag 0 is what tells Plonky3's constants from HorizenLabs' (flag 1,
a different permutation under the same name); the pinned table below is
checked against a fresh regeneration in tests/hash/test_constants.py, and the
permutation against Plonky3's published test vector.

Linear layers:

* external M_E = circ(2*M4, M4) for t = 8, i.e. [[2 M4, M4], [M4, 2 M4]],
  with Plonky3's `MDSMat4` M4 below; it is also applied once to the input,
  before the first external round;
* internal M_I = 1 * 1^T + diag(V) with Plonky3's MATRIX_DIAG_8_GOLDILOCKS
  V = (-2, 1, 2, 1/2, 3, -1/2, -3, -4): small entries, so the matrix is
  cheap, and Plonky3 chose them so that M_I is invertible and has no
  invariant subspaces (the Poseidon2 paper's condition on M_I).

Regenerate the pinned table with `python -m zkaudit.hash.constants`.
"""

from __future__ import annotations

from zkaudit.field.constants import P

WIDTH = 8
ALPHA = 7
HALF_FULL_ROUNDS = 4
FULL_ROUNDS = 2 * HALF_FULL_ROUNDS
PARTIAL_ROUNDS = 22
FIELD_BITS = 64

# The 4x4 MDS block of the external layer (Plonky3 `MDSMat4`).
M4 = ((2, 3, 1, 1), (1, 2, 3, 1), (1, 1, 2, 3), (3, 1, 1, 2))

_HALF = (P + 1) // 2  # 1/2 mod p
# Diagonal V of the internal matrix 1 * 1^T + diag(V) (Plonky3 MATRIX_DIAG_8_GOLDILOCKS).
MATRIX_DIAG_8 = (P - 2, 1, 2, _HALF, 3, P - _HALF, P - 3, P - 4)

_GRAIN_TAPS = (0, 13, 23, 38, 51, 62)
_GRAIN_WARMUP = 160


def _bits_msb_first(value: int, width: int) -> list[int]:
    if not 0 <= value < (1 << width):
        raise ValueError(f"{value} does not fit in {width} bits")
    return [(value >> (width - 1 - i)) & 1 for i in range(width)]


def grain_round_constants(
    width: int = WIDTH,
    full_rounds: int = FULL_ROUNDS,
    partial_rounds: int = PARTIAL_ROUNDS,
    sbox_type: int = 0,
    field_bits: int = FIELD_BITS,
    prime: int = P,
) -> list[int]:
    """The R_F * t + R_P Grain LFSR field elements, in Poseidon2's order."""
    state = (
        _bits_msb_first(1, 2)
        + _bits_msb_first(sbox_type, 4)
        + _bits_msb_first(field_bits, 12)
        + _bits_msb_first(width, 12)
        + _bits_msb_first(full_rounds, 10)
        + _bits_msb_first(partial_rounds, 10)
        + [1] * 30
    )
    pos = 0  # state[pos] is b0; the register is a ring buffer of 80 bits

    def clock() -> int:
        nonlocal pos
        new = 0
        for tap in _GRAIN_TAPS:
            new ^= state[(pos + tap) % 80]
        state[pos] = new  # the oldest bit leaves, the new one enters at the end
        pos = (pos + 1) % 80
        return new

    for _ in range(_GRAIN_WARMUP):
        clock()

    def next_bit() -> int:
        while True:
            a, b = clock(), clock()
            if a:
                return b

    out: list[int] = []
    while len(out) < full_rounds * width + partial_rounds:
        value = 0
        for _ in range(field_bits):
            value = (value << 1) | next_bit()
        if value < prime:  # rejection keeps every element exactly uniform
            out.append(value)
    return out


def split_round_constants(flat: list[int], width: int = WIDTH, half_full: int = HALF_FULL_ROUNDS):
    """(external_initial rows, internal scalars, external_final rows)."""
    n_ext = half_full * width
    initial = tuple(tuple(flat[r * width : (r + 1) * width]) for r in range(half_full))
    internal = tuple(flat[n_ext : len(flat) - n_ext])
    tail = flat[len(flat) - n_ext :]
    final = tuple(tuple(tail[r * width : (r + 1) * width]) for r in range(half_full))
    return initial, internal, final


# ---- pinned table: `python -m zkaudit.hash.constants` prints it ----
# fmt: off
EXTERNAL_INITIAL = (
    (0xdd5743e7f2a5a5d9, 0xcb3a864e58ada44b, 0xffa2449ed32f8cdc, 0x42025f65d6bd13ee,
     0x7889175e25506323, 0x34b98bb03d24b737, 0xbdcc535ecc4faa2a, 0x5b20ad869fc0d033),
    (0xf1dda5b9259dfcb4, 0x27515210be112d59, 0x4227d1718c766c3f, 0x26d333161a5bd794,
     0x49b938957bf4b026, 0x4a56b5938b213669, 0x1120426b48c8353d, 0x6b323c3f10a56cad),
    (0xce57d6245ddca6b2, 0xb1fc8d402bba1eb1, 0xb5c5096ca959bd04, 0x6db55cd306d31f7f,
     0xc49d293a81cb9641, 0x1ce55a4fe979719f, 0xa92e60a9d178a4d1, 0x002cc64973bcfd8c),
    (0xcea721cce82fb11b, 0xe5b55eb8098ece81, 0x4e30525c6f1ddd66, 0x43c6702827070987,
     0xaca68430a7b5762a, 0x3674238634df9c93, 0x88cee1c825e33433, 0xde99ae8d74b57176),
)
INTERNAL = (
    0x488897d85ff51f56, 0x1140737ccb162218, 0xa7eeb9215866ed35, 0x9bd2976fee49fcc9,
    0xc0c8f0de580a3fcc, 0x4fb2dae6ee8fc793, 0x343a89f35f37395b, 0x223b525a77ca72c8,
    0x56ccb62574aaa918, 0xc4d507d8027af9ed, 0xa080673cf0b7e95c, 0xf0184884eb70dcf8,
    0x044f10b0cb3d5c69, 0xe9e3f7993938f186, 0x1b761c80e772f459, 0x606cec607a1b5fac,
    0x14a0c2e1d45f03cd, 0x4eace8855398574f, 0xf905ca7103eff3e6, 0xf8c8f8d20862c059,
    0xb524fe8bdd678e5a, 0xfbb7865901a1ec41,
)
EXTERNAL_FINAL = (
    (0x014ef1197d341346, 0x9725e20825d07394, 0xfdb25aef2c5bae3b, 0xbe5402dc598c971e,
     0x93a5711f04cdca3d, 0xc45a9a5b2f8fb97b, 0xfe8946a924933545, 0x2af997a27369091c),
    (0xaa62c88e0b294011, 0x058eb9d810ce9f74, 0xb3cb23eced349ae4, 0xa3648177a77b4a84,
     0x43153d905992d95d, 0xf4e2a97cda44aa4b, 0x5baa2702b908682f, 0x082923bdf4f750d1),
    (0x98ae09a325893803, 0xf8a6475077968838, 0xceb0735bf00b2c5f, 0x0a1a5d953888e072,
     0x2fcb190489f94475, 0xb5be06270dec69fc, 0x739cb934b09acf8b, 0x537750b75ec7f25b),
    (0xe9dd318bae1f3961, 0xf7462137299efe1a, 0xb1f6b8eee9adb940, 0xbdebcc8a809dfe6b,
     0x40fc1f791b178113, 0x3ac1c3362d014864, 0x9a016184bdb8aeba, 0x95f2394459fbc25e),
)
# fmt: on


def _format_table() -> str:
    initial, internal, final = split_round_constants(grain_round_constants())

    def rows(name, table):
        lines = [f"{name} = ("]
        for row in table:
            words = [f"0x{v:016x}" for v in row]
            lines.append("    (" + ", ".join(words[:4]) + ",")
            lines.append("     " + ", ".join(words[4:]) + "),")
        lines.append(")")
        return lines

    out = rows("EXTERNAL_INITIAL", initial)
    out.append("INTERNAL = (")
    for i in range(0, len(internal), 4):
        out.append("    " + ", ".join(f"0x{v:016x}" for v in internal[i : i + 4]) + ",")
    out.append(")")
    out += rows("EXTERNAL_FINAL", final)
    return "\n".join(out)


def _check() -> None:
    # Import-time sanity on shapes and canonical values; the regeneration
    # itself (~0.1 s) is a test, not an import cost.
    if len(EXTERNAL_INITIAL) != HALF_FULL_ROUNDS or len(EXTERNAL_FINAL) != HALF_FULL_ROUNDS:
        raise RuntimeError("pinned Poseidon2 table has the wrong number of external rounds")
    if any(len(r) != WIDTH for r in EXTERNAL_INITIAL + EXTERNAL_FINAL) or len(INTERNAL) != PARTIAL_ROUNDS:
        raise RuntimeError("pinned Poseidon2 table has the wrong shape")
    values = [v for r in EXTERNAL_INITIAL + EXTERNAL_FINAL for v in r] + list(INTERNAL) + list(MATRIX_DIAG_8)
    if any(not 0 <= v < P for v in values):
        raise RuntimeError("pinned Poseidon2 table holds a non-canonical element")


_check()

if __name__ == "__main__":
    print(_format_table())
