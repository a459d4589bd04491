"""Chunked training proofs: what prover and verifier share.

A run whose tape is laid out by chunk (`train/tape.py`: K chunks of S
steps) is proven in K independent pieces and one closing part, so that the
prover holds one chunk's witness at a time (and may prove chunks side by
side); one piece is the one-piece protocol of `protocol.py` over S steps.

**What ties the pieces.** Before any challenge the prover commits, with the
hiding commitment, to a *global* table set G:

    boundary   (k, x)   theta at the start of chunk k (k < K) and theta_T (k = K),
                        in the proof's coordinate layout
    mirror.i   (row)    a copy of dataset column i (each column the policy reads)
    thetaT, the hash link's tables                  (as in one piece)
    a bank              (E = 2 + columns entries per chunk, then the closing part's)

Chunk k's transcript starts from the statement and the commitments to G,
the tape, the dataset, its own advice and its index k, so the chunks are
independent. Inside, steps 1-5 run unchanged on the chunk's plan; then:

 6'. theta at the chunk's first and last row equals boundary rows k and
     k + 1: for a fresh r, one zero-knowledge sum-check each of
     sum_x eq(r, x) (theta(row, x) - boundary(k', x)) = 0, whose two final
     values take their pads from the chunk's bank and from G's entries for
     chunk k (a claim on G carried out of the chunk);
 7'. the chunk's claims on the tape are re-padded on its sub-cube of the
     tape (pads 3k .. 3k + 2 of the tape's bank) and those on the dataset
     on G's mirrors (G's entries for chunk k): claims carried out, each
     hidden by a pad of the commitment it is on; the chunk's advice opens.

The closing part's transcript absorbs the digest of every chunk's bytes and
then: boundary(0) = theta_0 (public, an exact claim), boundary(K) = theta_T
with the hash link to c_theta (as in one piece), each mirror equals its
dataset column at a fresh point (one sum-check, pads from G and from the
dataset's bank), the K carried claims on each tape table combined into one
(a sum-check whose mask and pad come from the tape's bank), the claims on
each G table combined likewise with G's bank; then G, the tape and the
dataset open once each.

Soundness: G, the tape and the dataset are fixed before any chunk's
challenge, so each chunk's reduction to claims on them is an ordinary
argument; theta_(k S) is the one committed boundary row that both chunk
k - 1's last row and chunk k's first row equal (at a random point each).
The error is max_k e_k + e_close, not the sum over the chunks. R_k is
chunk k's relation on the unique decodings of G, the tape, the dataset and
its advice (a commitment outside the decoding radius counts as a failed
relation of the part that opens it: chunk k's own opening, charged in e_k,
or the closing part's three, charged in e_close). If the statement is
false, either the closing relation fails (the closing part, whose inputs
are then false, accepts with probability <= e_close) or some R_k fails.
Take the first chunk, in the order the chunks' advice commitments are made
(not by index: chunks may interleave), whose R_k fails: that is decided
when its advice is committed, before its challenges, which are independent
of everything else; it passes with its carried claims true with
probability <= e_k, else it fails or hands the closing part a false claim
(<= e_close). So Pr[accept] <= sum_k Pr[first bad = k] e_k + e_close <=
max_k e_k + e_close. e_close grows with K where it should: its
combinations draw one coefficient per carried claim, each charged. Under
Fiat-Shamir the reading is round-by-round: every hash query extends one of
the K + 1 prefix-free chains, so a prover of Q queries succeeds with
probability about Q times the largest round error, independent of K (as
for one chained transcript). The verifier reports -log2(max_k e_k +
e_close), interactive bits as every proof here.
Zero knowledge: every carried value is hidden by a pad used once, each
commitment is opened once, with one combined claim per table (G, tape) or
per column (dataset)."""

from __future__ import annotations

from zkaudit.errors import MalformedProof
from zkaudit.field.hidden import Hidden
from zkaudit.field.scalar import Fp2
from zkaudit.statements.inference.zk import ADVICE_BANK
from zkaudit.statements.training import protocol as pr
from zkaudit.sumcheck.claim import SumOfProducts

GLOBAL_BANK = "global"
EQUALITY = SumOfProducts.of(3, [(Fp2(1), (0, 1)), (Fp2(-1), (0, 2))])  # eq(r, x) (A(x) - B(x))
LABEL_MIRROR = b"training/chunked/mirror-point"
LABEL_TAPE_COMBINE = b"training/chunked/tape-combine"
FINAL_BANK = 1 << 16  # G's bank entries for the closing part (its sum-checks' masks and pads, the hash link)
TAPE_TABLES = ("R:gap", "R:last", "R:noise")


def chunk_statement_commitments(g_bytes: bytes, tape_bytes: bytes, ds_bytes: bytes) -> dict:
    return {"global": g_bytes, "tape": tape_bytes, "dataset": ds_bytes}


class Layout:
    """The chunking of one run: chunk ranges, G's tables, bank offsets."""

    def __init__(self, plan_full, shape, ds_columns: list[int], ds_num_vars: int):
        self.shape = shape
        self.K, self.S = shape.num_chunks, shape.chunk_steps
        self.a_c, self.kv = shape.chunk_step_vars, shape.chunk_vars
        self.c = plan_full.c
        self.kb = max(1, self.K.bit_length())  # boundary rows 0..K
        self.ds_columns = list(ds_columns)
        self.ds_num_vars = ds_num_vars
        self.theta_vars = plan_full.theta_vars
        self.per_chunk = 2 + len(self.ds_columns)

    def steps(self, k: int) -> int:
        s0, s1 = self.shape.chunk_range(k)
        return s1 - s0

    def global_tables(self) -> list[tuple[str, int]]:
        """(name, num_vars) of G's tables before the hash link's and the bank."""
        return [("boundary", self.kb + self.c)] + [(f"mirror.{i}", self.ds_num_vars) for i in self.ds_columns] + \
            [("thetaT", self.theta_vars)]

    def remap(self, v, k: int) -> Hidden:
        """A value carried out of chunk k, its pads renamed to the closing part's
        banks: the chunk's tape entry j is the tape bank's 3k + j, its global
        entry j is G's bank entry E k + j."""
        v = Hidden.of(v)
        terms = []
        for (bank, idx), c in v.terms:
            if bank == pr.TAPE_BANK:
                terms.append(((pr.TAPE_BANK, len(TAPE_TABLES) * k + idx), c))
            elif bank == GLOBAL_BANK:
                terms.append(((ADVICE_BANK, self.per_chunk * k + idx), c))
            else:
                raise MalformedProof("a value carried out of a chunk depends on the chunk's own bank",
                                     where=f"{pr.WHERE}.chunk {k}")
        return Hidden(v.const, terms)


class GlobalBook(pr.ClaimBook):
    """Claims on G's tables (none stacked): the closing part combines them."""

    def __init__(self):
        self.claims, self.exact, self.where = {}, [], {}


def sort_carried(carried: list) -> tuple[GlobalBook, dict[int, list]]:
    """The chunks' carried claims: those on G into a book, those on tape table i
    into tape[i] (the same on both sides)."""
    from zkaudit.lookup.claim import PointClaim

    book = GlobalBook()
    tape: dict[int, list] = {i: [] for i in range(len(TAPE_TABLES))}
    for name, point, value in carried:
        if name.startswith("tape."):
            tape[int(name[5:])].append(PointClaim(point, value))
        else:
            book.add(name, point, value)
    return book, tape
