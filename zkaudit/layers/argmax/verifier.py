"""ArgMax verifier.

The windows are the cells along `axis` (`pool.windows.axis_windows`); slot
k is the k-th cell. With K_p = 2^kv the keys
    key(y, k) = K_p X[y, k] + (K_p - 1 - k)     (first maximum)
    key(y, k) = K_p X[y, k] + k                 (select_last_index)
are distinct within a window and the largest key is at exactly the index
the executor returns. The keyed window-max argument (`pool.verifier`,
`Keying`) proves: m'[y] = max_k key(y, k) (range checks of every
m' - key, bits of K_p (hi - lo) + K_p - 1), a one-hot selector s on the
slot where m' = key (unique, since keys are distinct), and
Idx[y] = sum_k k s(y, k) for the committed index output Idx. Advice: Idx
(the node's output), m', s, multiplicities (and limbs). keepdims does not
change the tables (a size-1 dimension has no variables).
"""

from __future__ import annotations

import numpy as np

from zkaudit.layers.pool.proof import WindowMaxProof
from zkaudit.layers.pool.verifier import Keying, max_advice_shapes, max_names, verify_max
from zkaudit.layers.pool.windows import axis_windows


def setup(node, specs):
    x = specs[node.inputs[0]]
    a = node.a
    windows = axis_windows(x.shape, int(a["axis"]))
    kp = 1 << windows.slot_vars
    k = np.arange(windows.src.shape[0], dtype=np.int64) & (kp - 1)
    key = k if a["select_last_index"] else kp - 1 - k
    keying = Keying(kp, key, node.output)
    bits = max(1, (kp * (x.hi - x.lo) + kp - 1).bit_length())
    names = max_names(f"{node.name}/max", f"{node.name}/max", node.inputs[0], windows, bits)
    return windows, bits, names, keying


def advice_shapes(node, specs) -> dict:
    windows, bits, names, _ = setup(node, specs)
    return {node.output: tuple(specs[node.output].shape), names.y: windows.out_shape,
            **max_advice_shapes(names, windows, bits)}


def _argmax(node, specs, claim, reader, transcript):
    windows, bits, names, keying = setup(node, specs)
    out = verify_max(windows, bits, names, reader.read(WindowMaxProof), transcript,
                     where=f"node {node.name} (ArgMax)", keying=keying)
    return out if claim is None else out + [claim]


def register(handlers, shapes) -> None:
    handlers["ArgMax"] = _argmax
    shapes["ArgMax"] = advice_shapes
