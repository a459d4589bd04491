"""The integer circuit IR: a closed op set, frozen nodes, a validator, the canonical
encoding and digest, and the integer reference executor that *is* the semantics.

Imports: field (for the encoding only)."""
