"""GatherRows: Y = T[I, :], rows of a 2-D table (committed weights or an
activation) at indices computed at run time. One LogUp argument against the
table as a committed table (`lookup.committed_table`) and one zero-check
that Y is zero on its padding; the protocol is stated in `verifier.py`."""
