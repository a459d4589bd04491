"""LogUp lookups proven by fractional-sum GKR: range checks and function tables.

`protocol.py` states the protocol and the leaf layout; `tables.py` generates
tables from specs; `prover.py`/`verifier.py` run it; `limbs.py` proves wide
and signed ranges by limb decomposition. Claims on the looked-up columns and
the multiplicities come out for the caller to discharge.

Imports: field, poly, transcript, sumcheck, pcs."""

from zkaudit.lookup.claim import LookupClaims, PointClaim
from zkaudit.lookup.errors import (
    ColumnClaimMismatch,
    DegenerateDenominator,
    GkrLayerMismatch,
    LeafMismatch,
    LookupRejected,
    LookupShapeError,
    LookupSumNonZero,
    TableMismatch,
)
from zkaudit.lookup.limbs import RangeCheck
from zkaudit.lookup.proof import LookupProof
from zkaudit.lookup.protocol import Lookup, LookupInstance, soundness
from zkaudit.lookup.tables import NotInTable, TableSpec

__all__ = [
    "ColumnClaimMismatch",
    "DegenerateDenominator",
    "GkrLayerMismatch",
    "LeafMismatch",
    "Lookup",
    "LookupClaims",
    "LookupInstance",
    "LookupProof",
    "LookupRejected",
    "LookupShapeError",
    "LookupSumNonZero",
    "NotInTable",
    "PointClaim",
    "RangeCheck",
    "TableMismatch",
    "TableSpec",
    "soundness",
]
