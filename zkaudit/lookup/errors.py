"""Lookup rejections: every one a `ProofRejected` naming where it happened,
what was expected and what the proof held."""

from zkaudit.errors import MalformedProof, ProofRejected


class LookupRejected(ProofRejected):
    """Base of every lookup rejection."""


class LookupShapeError(LookupRejected, MalformedProof):
    """Wrong number of layers, columns, tables or values for the instance."""


class TableMismatch(LookupRejected):
    """The proof names a table (by digest) other than the verifier's."""


class LookupSumNonZero(LookupRejected):
    """The fractional sum sum_i 1/(alpha - f_i) - sum_j m_j/(alpha - t_j)
    does not vanish: some looked-up row is not in its table (or the
    multiplicities do not count the rows)."""


class DegenerateDenominator(LookupRejected):
    """The root denominator is zero, so the fraction says nothing."""


class GkrLayerMismatch(LookupRejected):
    """A GKR layer's eq value differs from eq(rho, rho') computed by the verifier."""


class LeafMismatch(LookupRejected):
    """The last GKR claim does not match the leaves rebuilt from the claimed
    column and multiplicity values and the verifier's own table evaluations."""


class ColumnClaimMismatch(LookupRejected):
    """A returned claim (column, multiplicity or recomposed value) does not
    match the data it was discharged against."""
