"""Reshape / Flatten / Squeeze / Unsqueeze / Transpose / Concat / Pad: ops that
move values without arithmetic (see `verifier.py`)."""
