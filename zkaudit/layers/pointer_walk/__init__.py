"""PointerWalk: D pointer steps P_l[t] = S[P_{l-1}[t]] through a successor
table S (R, 1) from T start indices (how a tree ensemble's walk reaches
its leaves). One LogUp of all T * D steps against S as a committed table
(O(R + T D)) and one zero-check on the levels' padding; the protocol is
stated in `verifier.py`."""
