"""LogUp lookups proven by fractional-sum GKR: range checks and function tables.

Imports: field, poly, transcript, sumcheck, pcs."""
