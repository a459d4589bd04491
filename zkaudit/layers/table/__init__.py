"""Table: Y = values[X - in_min] (<= 2^16 entries), one LogUp lookup of the
pairs (X, Y) in a public table built from the node's values. The protocol is
stated in `verifier.py`; `values.py` holds the table."""
