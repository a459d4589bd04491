"""The Fiat-Shamir transcript: the one object that turns a public-coin
protocol into a non-interactive one.

State is a running SHA-256 over a framed log of everything absorbed:
    absorb:    'A' || u32 len(label) || label || u64 len(data) || data
    squeeze:   d = SHA-256(state || 'C' || u32 len(label) || label || u64 counter),
               then 'S' || d is absorbed, so every later challenge depends on
               every earlier one.
Framing with lengths makes the log prefix-free: two different sequences of
(label, data) never hash the same bytes.

Challenges:
* `challenge_ext`: uniform in GF(p^2). Each coordinate is a little-endian u64
  from the squeeze output, rejected (and re-squeezed) when >= p, so there is
  no modular bias. One challenge has log2(p^2) ~ 128 bits of entropy.
* `challenge_index(n)`: uniform in [0, n) by rejection from u64 words.

A statement (protocol id and version, digests, public values, commitments)
must be absorbed with `absorb_statement` before the first challenge; asking
for a challenge earlier raises, so no protocol can forget to bind it.

Soundness ledger. Every bad event of our protocols is "a non-zero polynomial
vanishes at a challenge" (Schwartz-Zippel). The transcript charges each
extension challenge DEFAULT_DEGREE / p^2, which covers every use whose
polynomial has degree <= 8 in it (sum-check rounds, random points of MLE
claims, combination coefficients, GKR's lambda and merge). A protocol whose
challenges carry more (LogUp's alpha/beta, the commitment's column queries
and claim batching) `charge`s its proven bound on top. `soundness_bits` is
then -log2 of the union bound over the whole run; the verifier reports it.
"""

from __future__ import annotations

import hashlib
import math
import struct
from collections.abc import Mapping

import numpy as np

from zkaudit.field import vec
from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp, Fp2, _fp2

DOMAIN = b"zkaudit/transcript/v1"

# Labels used by the transcript itself. Protocol modules define their own
# label constants next to the protocol.
LABEL_STATEMENT_PROTOCOL = b"statement/protocol"
LABEL_STATEMENT_DIGEST = b"statement/digest"
LABEL_STATEMENT_PUBLIC = b"statement/public"
LABEL_STATEMENT_COMMITMENT = b"statement/commitment"
LABEL_STATEMENT_END = b"statement/end"

_U64_LIMIT = 1 << 64
DEFAULT_DEGREE = 8  # the highest degree a challenge enters without its own charge


class TranscriptError(RuntimeError):
    """Misuse of the transcript by protocol code (a bug, not a bad proof)."""


_LABELS: dict[bytes, bytes] = {}  # label -> its frame prefix u32 len || label (labels are module constants)
_MAX_LABELS = 4096


def _label(label) -> bytes:
    """u32 len(label) || label, for a non-empty bytes label (checked once per label)."""
    # exact bytes only: a memoryview or bytearray equal to a cached label must not find it
    got = _LABELS.get(label) if type(label) is bytes else None
    if got is None:
        if not isinstance(label, bytes) or not label:
            raise TranscriptError("labels are non-empty bytes constants")
        got = struct.pack("<I", len(label)) + label
        if len(_LABELS) < _MAX_LABELS:
            _LABELS[label] = got
    return got


class Transcript:
    """Prover and verifier each build one with the same domain and then make
    the same calls in the same order; any divergence changes every later
    challenge."""

    def __init__(self, domain: bytes = DOMAIN):
        if not isinstance(domain, bytes) or not domain:
            raise TranscriptError("domain must be non-empty bytes")
        self._h = hashlib.sha256()
        self._counter = 0
        self._statement_bound = False
        self.ext_challenges = 0
        self.zk = None  # a zero-knowledge session (zkaudit.sumcheck.zk) when the proof is zero-knowledge
        self.lookups = None  # a statement's batched lookup (zkaudit.layers.lookup_batch) when it defers them
        self.charges: list[tuple[str, float]] = []  # (what, log2 of its error bound)
        self._frame(b"D", b"domain", domain)

    # ------------------------------------------------------------- absorbing

    def _frame(self, tag: bytes, label: bytes, data: bytes) -> None:
        self._h.update(tag + _label(label) + struct.pack("<Q", len(data)) + data)

    def absorb_bytes(self, label: bytes, data: bytes) -> None:
        self._frame(b"A", label, bytes(data))

    def absorb_u64(self, label: bytes, value: int) -> None:
        if not 0 <= value < _U64_LIMIT:
            raise TranscriptError(f"u64 out of range: {value}")
        self._frame(b"A", label, struct.pack("<Q", value))

    def absorb_base(self, label: bytes, x: Fp) -> None:
        if not isinstance(x, Fp):
            raise TypeError(f"absorb_base takes Fp, got {type(x).__name__}")
        self._frame(b"A", label, b"\x01" + x.to_bytes())

    def absorb_ext(self, label: bytes, x: Fp2) -> None:
        if not isinstance(x, Fp2):
            raise TypeError(f"absorb_ext takes Fp2, got {type(x).__name__}")
        self._frame(b"A", label, b"\x02" + x.to_bytes())

    def absorb_exts(self, label: bytes, xs) -> None:
        """A list of extension elements, with its length."""
        words = [c for x in xs for c in (x.c0, x.c1)]  # the encoding of Fp2.to_bytes, packed at once
        self._frame(b"A", label, b"\x02" + struct.pack(f"<Q{len(words)}Q", len(xs), *words))

    def absorb_vec(self, label: bytes, a: np.ndarray) -> None:
        """A base or extension vector, with its kind and length."""
        kind = b"\x02" if vec.is_ext(a) else b"\x01"
        self._frame(b"A", label, kind + struct.pack("<Q", a.shape[0]) + vec.encode(a))

    def absorb_statement(
        self,
        protocol: str,
        version: int,
        *,
        digests: Mapping[str, bytes] | None = None,
        public: Mapping[str, np.ndarray | bytes] | None = None,
        commitments: Mapping[str, bytes] | None = None,
    ) -> None:
        """Bind everything the proof is about before any challenge. Entries are
        absorbed in sorted key order, each with its name."""
        self._frame(b"A", LABEL_STATEMENT_PROTOCOL, protocol.encode() + struct.pack("<I", version))
        for label, items in (
            (LABEL_STATEMENT_DIGEST, digests),
            (LABEL_STATEMENT_PUBLIC, public),
            (LABEL_STATEMENT_COMMITMENT, commitments),
        ):
            items = items or {}
            self.absorb_u64(label, len(items))
            for name in sorted(items):
                value = items[name]
                self.absorb_bytes(label, name.encode())
                if isinstance(value, np.ndarray):
                    self.absorb_vec(label, value)
                else:
                    self.absorb_bytes(label, bytes(value))
        self._frame(b"A", LABEL_STATEMENT_END, b"")
        self._statement_bound = True

    # ------------------------------------------------------------ squeezing

    def _squeeze(self, label: bytes) -> bytes:
        if not self._statement_bound:
            raise TranscriptError("a challenge was requested before the statement was absorbed")
        h = self._h.copy()
        h.update(b"C" + _label(label) + struct.pack("<Q", self._counter))
        out = h.digest()
        self._counter += 1
        self._frame(b"S", label, out)
        return out

    def _u64s(self, label: bytes):
        while True:
            block = self._squeeze(label)
            yield from struct.unpack("<4Q", block)

    def challenge_base(self, label: bytes) -> Fp:
        for w in self._u64s(label):
            if w < P:  # rejection: no modular bias (rejects with probability ~2^-32)
                return Fp(w)
        raise AssertionError("unreachable")

    def challenge_ext(self, label: bytes) -> Fp2:
        # Fast path, same result as the loop below: the first block almost
        # always holds two accepted words.
        first = [w for w in struct.unpack("<4Q", self._squeeze(label)) if w < P]
        if len(first) >= 2:
            self.ext_challenges += 1
            return _fp2(first[0], first[1])  # canonical: both words below p
        coords = first
        for w in self._u64s(label):
            if w < P:
                coords.append(w)
                if len(coords) == 2:
                    self.ext_challenges += 1
                    return Fp2(coords[0], coords[1])
        raise AssertionError("unreachable")

    def challenge_exts(self, label: bytes, count: int) -> list[Fp2]:
        return [self.challenge_ext(label) for _ in range(count)]

    def challenge_index(self, label: bytes, n: int) -> int:
        """Uniform in [0, n), n >= 1, by rejection from u64 words."""
        if not 1 <= n <= _U64_LIMIT:
            raise TranscriptError(f"index bound out of range: {n}")
        limit = (_U64_LIMIT // n) * n
        for w in self._u64s(label):
            if w < limit:
                return w % n
        raise AssertionError("unreachable")

    def challenge_indices(self, label: bytes, n: int, count: int) -> list[int]:
        """`count` independent uniform indices in [0, n) (with repetition)."""
        return [self.challenge_index(label, n) for _ in range(count)]

    # ------------------------------------------------------ soundness ledger

    def charge(self, what: str, log2_error: float) -> None:
        """Record a bound that the default per-challenge charge does not cover."""
        self.charges.append((what, float(log2_error)))

    @staticmethod
    def soundness_meaning(bits: float) -> str:
        """What a soundness figure promises, in the words `verify` prints."""
        return (f"bound for the interactive protocol: a cheating prover succeeds with probability at most "
                f"2^-{bits:.1f}; through Fiat-Shamir a prover who tries 2^k transcript hashes gains about k bits "
                f"(after 2^64 hashes about {max(bits - 64, 0):.1f} bits remain)")

    def soundness_bits(self) -> float:
        """-log2 of the union bound over every challenge drawn and every charge."""
        terms = [c for _, c in self.charges]
        if self.ext_challenges:
            terms.append(math.log2(self.ext_challenges * DEFAULT_DEGREE) - 2 * math.log2(P))
        if not terms:
            return math.inf
        top = max(terms)
        return -(top + math.log2(sum(2.0 ** (t - top) for t in terms)))

    # ---------------------------------------------------------------- debug

    def state_digest(self) -> bytes:
        """A fingerprint of the state, to show prover and verifier in lockstep."""
        return self._h.copy().digest()
