"""Polynomial commitments: NTT / Reed-Solomon, Merkle trees, the tensor-code
(Ligero/Brakedown-style) multilinear commitment with batched openings.

Imports: field, poly, transcript, sumcheck.

Use:

    from zkaudit.pcs import PcsParams, Claim, commit, open, verify

    params = PcsParams.default()                # >= 100 bits: params.soundness_bits
    commitment, prover_data = commit([f, g], params)   # base-field tables, 2^k each
    # Prover and verifier absorb the commitment into their transcript as part
    # of the statement, before any challenge:
    transcript.absorb_statement(..., commitments={"advice": commitment.to_bytes()})
    claims = [Claim(0, point_f, value_f), Claim(1, point_g, value_g)]   # points in GF(p^2)
    proof = open(prover_data, claims, transcript)       # samples its own challenges
    verify(commitment, claims, proof, transcript_v, params)  # raises a PcsRejected subclass

* Many tables of different sizes share one matrix and one Merkle root;
  many claims (table, point, value) are discharged by one opening proof.
* A point is in the table's variable order: x_1 is the most significant bit
  of the table index (zkaudit.poly's convention).
* `Commitment.to_bytes` / `OpeningProof.to_bytes` are canonical and
  versioned; `from_bytes` parses strictly (MalformedOpening).
* `PcsParams.default_hiding()` selects the zero-knowledge commitment
  (`hiding.py`: padded rows, blinding rows, salted leaves, a masked
  batching sum-check). Its `Claim`s are on the masked polynomial
  f^ = f~ + Z * mu (see `hiding.py`; `ProverData.masked_value` gives it);
  `hiding.WeightedClaim` opens an exact weighted sum of a random table
  (sum-check masks). `PcsParams.default()` stays the plain, non-hiding one.

Modules: `ntt` (+ `ntt_kernels`, `ntt_reference`), `merkle`
(+ `merkle_reference`), `layout` (where tables sit in the matrix), `params`
(soundness and shape), `protocol` (the opening, step by step), `claim`,
`proof` (wire types), `prover`, `verifier`, `errors`, `kernels`; hiding:
`hiding`, `hiding_code` (its encoder), `hiding_verifier`, `hiding_groups`, `column_check` (+ `column_check_prover`; the evaluation
row against the groups' values by one sum-check), `pair_sumcheck` (the batching sum-check's
serial prover, byte-identical to the generic one).
"""

from zkaudit.pcs.claim import Claim
from zkaudit.pcs.errors import PcsRejected
from zkaudit.pcs.params import PcsParams
from zkaudit.pcs.proof import Commitment, OpeningProof
from zkaudit.pcs.verifier import verify

_PROVER = ("ProverData", "commit", "open")


def __getattr__(name: str):
    # The prover is loaded only by whoever commits or opens: a verifier that
    # imports this package never imports prover code (STYLE: the verifier
    # never imports the prover), nor the kernels only the prover needs.
    if name in _PROVER:
        from zkaudit.pcs import prover

        return getattr(prover, name)
    raise AttributeError(f"module 'zkaudit.pcs' has no attribute {name!r}")

__all__ = ["Claim", "Commitment", "OpeningProof", "PcsParams", "PcsRejected", "ProverData", "commit", "open", "verify"]
