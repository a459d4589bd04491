"""A malicious inference prover: the honest witness with one value changed.

The vendor picks the weights it commits and every advice value, padding
included. `Attack` takes the honest `Witness` (`statements.inference.witness`),
changes one cell of one padded table -- a weight or committed-input cell
(real or padding), an advice cell (an op's output, a remainder, a limb, a
selector, a multiplicity) -- and then does what a dishonest prover would do
to make the rest consistent:

* downstream tensors are recomputed from the changed one: sum-check ops
  (MatMul, Add/Sub/Mul) over the *padded* tables exactly as their
  relations read them (`padded_op`), so a padding value that a sum picks
  up moves the real output; other ops by the integer executor on real
  cells, with their advice regenerated honestly;
* the committed tensors' range advice is regenerated from the tables;
* the public output is what the changed witness computes.

The unmodified prover proves that witness and the unmodified verifier
checks it against the commitment the vendor would publish for those
weights. The invariant: the verifier never accepts an output other than
the integer executor's on the committed real values.
"""

from __future__ import annotations

import copy
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from zkaudit.circuit import encode_circuit
from zkaudit.circuit.errors import CircuitError, InputError
from zkaudit.circuit.kernels import KERNELS
from zkaudit.errors import ZkauditError
from zkaudit.field.constants import P
from zkaudit.layers.dispatch_prover import ADVICE
from zkaudit.layers.tensor import padded_shape
from zkaudit.statements.inference import witness as witness_mod
from zkaudit.statements.inference.prover import prove_witness
from zkaudit.statements.inference.commitment import NoWeights, params
from zkaudit.statements.verify import verify_proof
from zkaudit.pcs import commit
from zkaudit.field import vec

SUMCHECK_OPS = ("MatMul", "Add", "Sub", "Mul")
SYSTEM_OPS = ("Requantize", "Clip", "Relu")


def _system(node, specs):
    from zkaudit.layers.clamp.verifier import clamp_system
    from zkaudit.layers.requantize.verifier import requantize_system

    return requantize_system(node, specs) if node.op == "Requantize" else clamp_system(node, specs)


def _real_quantities(node, specs, system, x) -> dict:
    from zkaudit.layers.clamp.prover import clamp_values
    from zkaudit.layers.requantize.prover import companions, requantize_values

    if node.op != "Requantize":
        return clamp_values(node, specs, x)
    values = requantize_values(node, system.shape, x)
    values.update(companions(system, values, node.name))
    return values


def _padding_quantities(node, x, y) -> dict:
    """Values that satisfy the op's relations on padding cells (I = 0, every
    public table 0) for padding input x and output y, as a prover would
    choose them: Requantize's relations there read only Y (y1 = Y, y2 = -Y,
    Y + a - b = 2h + pi, pi = g1 = g2 = 0); Clip's read X and Y (Y = X - a + b)."""
    pre = node.name
    zero = np.zeros_like(y)
    if node.op == "Requantize":
        return {f"{pre}/y_minus_lo": y, f"{pre}/hi_minus_y": -y, f"{pre}/above": zero, f"{pre}/below": zero,
                f"{pre}/half_q": y >> 1, f"{pre}/parity": y & 1, f"{pre}/rem_lo": zero, f"{pre}/rem_hi": zero,
                f"{pre}/above_scaled": zero, f"{pre}/below_scaled": zero}
    return {f"{pre}/y_minus_lo": y, f"{pre}/hi_minus_y": -y, f"{pre}/above": np.maximum(x - y, 0),
            f"{pre}/below": np.maximum(y - x, 0)}


def _forged_quantities(node, system, x: np.ndarray, y: np.ndarray) -> dict:
    """Quantities built for a *changed* real output y, as a forger would:
    Requantize takes q = y - zo with no saturation (a = b = 0), its parity,
    half and the remainders t - 2^s q + 2^(s-1) - pi, 2^s - 2 pi - g1 that
    this q leaves; Clip/Relu take a = max(x - y, 0), b = max(y - x, 0).
    Whatever these violate (a remainder out of range, a saturation
    product) is what must catch the lie."""
    from zkaudit.layers.clamp.system import Channel, broadcast
    from zkaudit.layers.requantize.verifier import channels

    pre = node.name
    x = np.asarray(x, dtype=object)
    y = np.asarray(y, dtype=object)
    zero = np.zeros_like(y)
    a = node.a
    if node.op == "Requantize":
        zi, zo, lo, hi = int(a["in_zero_point"]), int(a["out_zero_point"]), int(a["out_min"]), int(a["out_max"])
        axis, ms, ss = channels(node, len(system.shape))
        m = broadcast(Channel(axis, tuple(ms)), system.shape).astype(object)
        sh = broadcast(Channel(axis, tuple(ss)), system.shape).astype(object)
        t = (x - zi) * m
        q = y - zo
        pi = q & 1
        one = np.ones_like(q)
        g1 = t - (q * (one << sh)) + (one << (sh - 1)) - pi
        return {f"{pre}/y_minus_lo": y - lo, f"{pre}/hi_minus_y": hi - y, f"{pre}/above": zero,
                f"{pre}/below": zero, f"{pre}/half_q": q >> 1, f"{pre}/parity": pi, f"{pre}/rem_lo": g1,
                f"{pre}/rem_hi": (one << sh) - 2 * pi - g1, f"{pre}/above_scaled": zero,
                f"{pre}/below_scaled": zero}
    return {f"{pre}/above": np.maximum(x - y, 0), f"{pre}/below": np.maximum(y - x, 0)}


def lenient_multiplicities(instance, columns) -> list[np.ndarray]:
    """What a cheating prover commits as multiplicities: the counts of the
    looked-up values that are in their tables (an out-of-table value is
    simply not counted; the lookup's sums then cannot balance)."""
    from zkaudit.lookup.tables import NotInTable

    out = [np.zeros(t.num_rows, dtype=np.int64) for t in instance.tables]
    for lk, cols in zip(instance.lookups, columns):
        table = instance.tables[lk.table]
        for row in range(len(cols[0])):
            try:
                idx = table.row_indices([np.asarray(c[row:row + 1]) for c in cols])
            except (NotInTable, ValueError):
                continue
            out[lk.table][int(idx[0])] += 1
    return out


@contextmanager
def cheating_advice(*, wrap_limbs: bool = False):
    """While inside, the honest advice generators compute what a cheater
    commits: multiplicities that count only in-table values
    (`lenient_multiplicities`) and, with `wrap_limbs`, limbs that keep the
    low bits of an out-of-range column instead of refusing it."""
    from zkaudit.layers.pool.ranges import MultiRange
    from zkaudit.lookup import prover as lookup_prover

    def wrapping_decompose(self, j, values):
        out, shift = [], 0
        for width in self.widths(j):
            out.append([(values >> np.uint64(shift)) & np.uint64((1 << width) - 1)])
            shift += width
        return out

    honest = (lookup_prover.multiplicities, MultiRange.decompose)
    lookup_prover.multiplicities = lenient_multiplicities
    if wrap_limbs:
        MultiRange.decompose = wrapping_decompose
    try:
        yield
    finally:
        lookup_prover.multiplicities, MultiRange.decompose = honest


def complete_average(node, w: witness_mod.Witness) -> None:
    """An AveragePool whose output was changed: its remainder, half and
    parity built for the changed output (`average_prover.advice_from`),
    with lenient multiplicities when a remainder leaves its range."""
    from zkaudit.layers.pool import average_prover
    from zkaudit.layers.pool.average import setup

    st = setup(node, w.circuit.specs())
    x, y = w.real(node.inputs[0]), w.real(node.output)
    with cheating_advice(wrap_limbs=True):
        advice = average_prover.advice_from(st, x, y)
    for name, value in advice.items():
        w.padded.pop(name, None)
        w.advice[name] = np.asarray(value)
    w.env[node.output] = np.asarray(y)


def _wrapping_limbs(q, values: np.ndarray, real: np.ndarray) -> list[np.ndarray]:
    """A quantity's limbs; an out-of-range value keeps only its low bits (its
    lookup or relation then fails, which is the point). A signed quantity is
    sum_j 2^(w j) l_j - 2^(k-1) I: the offset applies on real cells only."""
    u = values + (1 << (q.bits - 1)) * real if q.signed else values
    out, shift = [], 0
    for width in q.widths:
        out.append((u >> shift) & ((1 << width) - 1))
        shift += width
    return out


def complete_system(node, w: witness_mod.Witness, *, keep_output: bool) -> None:
    """Re-derive every advice value of a Requantize/Clip/Relu node from its
    input and output tables, padding included: real cells honestly where the
    output is the executor's and as `_forged_quantities` where it was
    changed, padding cells by `_padding_quantities` (the output's padding
    follows the input's for Clip/Relu unless it was itself changed)."""
    specs = w.circuit.specs()
    system = _system(node, specs)
    shape = system.shape
    pshape = padded_shape(shape)
    real = np.zeros(pshape, dtype=bool)
    real[tuple(slice(0, d) for d in shape)] = True
    x = w.table(node.inputs[0]).reshape(pshape)
    y = w.table(node.output).reshape(pshape).copy() if keep_output else None
    honest = _real_quantities(node, specs, system, w.real(node.inputs[0]))
    if y is None:
        y = np.zeros(pshape, dtype=np.int64)
        y[real] = np.asarray(KERNELS[node.op](w.real(node.inputs[0]), **node.a), dtype=np.int64).ravel()
        if node.op != "Requantize":
            y[~real] = x[~real]
    pad = _padding_quantities(node, x[~real], y[~real])
    honest_y = np.asarray(KERNELS[node.op](w.real(node.inputs[0]), **node.a), dtype=np.int64)
    y_real = y[real].reshape(shape)
    changed = y_real != honest_y  # real cells whose output the forger changed
    forged = _forged_quantities(node, system, w.real(node.inputs[0]), y_real) if changed.any() else {}
    if node.op != "Requantize" and changed.any():
        lo_hi = {k: v for k, v in honest.items() if k.endswith(("/y_minus_lo", "/hi_minus_y"))}
        forged.update({k: (y_real - (honest_y - np.asarray(v, dtype=object))) if k.endswith("/y_minus_lo")
                       else (np.asarray(v, dtype=object) + honest_y - y_real) for k, v in lo_hi.items()})
    values = {}
    for key, v in honest.items():
        real_values = np.asarray(v, dtype=object)
        if key in forged:
            real_values = np.where(changed, np.asarray(forged[key], dtype=object), real_values)
        full = np.zeros(pshape, dtype=np.int64)
        full[real] = real_values.astype(np.int64).ravel()
        full[~real] = pad[key]
        values[key] = full
    w.padded[node.output] = y.ravel()
    w.env[node.output] = w.real(node.output)
    w.advice[node.output] = w.env[node.output]
    for name in system.bits.values():
        w.padded[name] = values[name].ravel()
    limbs = {}
    for q in system.quantities:
        for name, limb in zip(q.limb_names, _wrapping_limbs(q, values[q.name], real.astype(np.int64))):
            limbs[name] = limb.ravel()
            w.padded[name] = limbs[name]
    for mname, width in zip(system.mult_names(), system.widths()):
        counts = np.zeros(1 << width, dtype=np.int64)
        for name, lw in system.limb_list():
            if lw == width:
                counts += np.bincount(limbs[name], minlength=1 << width)[: 1 << width]
        w.padded.pop(mname, None)
        w.advice[mname] = counts


def _signed(v: int) -> int:
    v %= P
    return v - P if v > P // 2 else v


def _indicator(shape) -> np.ndarray:
    ind = np.zeros(padded_shape(shape), dtype=object)
    ind[tuple(slice(0, d) for d in shape)] = 1
    return ind


def padded_op(node, w: witness_mod.Witness) -> np.ndarray:
    """A sum-check op's output over padded tables, as its verifier's relation
    defines it (layers/matmul, layers/elementwise), in exact integers."""
    spec = w.circuit.specs()
    a = node.a

    def tab(name):
        return w.table(name).astype(object).reshape(padded_shape(spec[name].shape))

    if node.op == "MatMul":
        x, b = tab(node.inputs[0]), tab(node.inputs[1])
        xs, bs = spec[node.inputs[0]].shape, spec[node.inputs[1]].shape
        x = x - int(a.get("a_zero_point", 0)) * _indicator(xs)
        b = b - int(a.get("b_zero_point", 0)) * _indicator(bs)
        y = x.dot(b)
        if len(node.inputs) == 3:
            rows = _indicator((xs[0],)).reshape(-1, 1)
            y = y + rows * tab(node.inputs[2]).reshape(1, -1)
    else:
        shape = spec[node.output].shape
        ind = _indicator(shape)
        x = tab(node.inputs[0]) - int(a.get("a_zero_point", 0)) * ind
        b = tab(node.inputs[1]) - int(a.get("b_zero_point", 0)) * ind
        y = {"Add": x + b, "Sub": x - b, "Mul": x * b}[node.op]
    return np.array([_signed(int(v)) for v in y.ravel()], dtype=np.int64)


@dataclass
class Outcome:
    accepted: bool
    outputs: dict | None  # the verified outputs when accepted
    reference: dict | None  # the executor's outputs on the committed real values (None: no valid execution)
    stage: str  # "verified", "rejected: <reason>", "prover refused: <why>", "no execution: <why>"

    @property
    def forged(self) -> bool:
        """Accepted with an output the executor does not compute."""
        return self.accepted and self.outputs != self.reference


class Attack:
    def __init__(self, circuit, weights, inputs, *, commit_input: bool = False):
        self.circuit_bin = encode_circuit(circuit)
        self.honest = witness_mod.build(circuit, weights, inputs, commit_input=commit_input)
        self.nodes = list(self.honest.circuit.nodes)
        self.producer = {n.output: n for n in self.nodes}

    # -- what a prover can vary -------------------------------------------
    def committed(self) -> list[str]:
        c = self.honest.circuit
        return [s.name for s in c.weights] + ([s.name for s in c.inputs] if self.honest.commit_input else [])

    def advice(self) -> list[str]:
        return sorted(self.honest.advice)

    def cells(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(padding cells, real cells) of a tensor's padded table, as flat indices."""
        shape = self.honest.shape(name)
        real = np.zeros(padded_shape(shape), dtype=bool)
        real[tuple(slice(0, d) for d in shape)] = True
        flat = real.ravel()
        return np.flatnonzero(~flat), np.flatnonzero(flat)

    # -- one attack -------------------------------------------------------
    def mutate(self, changes) -> witness_mod.Witness:
        """The witness with `changes` [(tensor, flat padded index, value)]
        applied and everything downstream made consistent."""
        w = copy.copy(self.honest)
        w.env, w.advice, w.padded = dict(w.env), dict(w.advice), dict(w.padded)
        dirty = set()
        for name, index, value in changes:
            table = w.table(name).copy()
            table[index] = value
            w.padded[name] = table
            dirty.add(name)
        for node in self.nodes:
            if node.output in dirty:
                # its output changed: its remainders and limbs follow, built for the new output
                if node.op in SYSTEM_OPS:
                    complete_system(node, w, keep_output=True)
                elif node.op == "AveragePool":
                    complete_average(node, w)
                continue
            if not dirty.intersection(node.inputs):
                continue
            if node.op in SUMCHECK_OPS:
                w.padded[node.output] = padded_op(node, w)
                w.env[node.output] = w.real(node.output)
            elif node.op in SYSTEM_OPS:
                complete_system(node, w, keep_output=False)
            else:
                self._rerun(node, w)
            dirty.add(node.output)
        if dirty.intersection(self.committed()):
            # a committed value outside its range: the cheater still commits
            # multiplicities (counting what is in the tables) and proves
            with cheating_advice():
                w.refresh_range_advice()
        return w

    def _rerun(self, node, w) -> None:
        """An op after a changed tensor, recomputed honestly on real cells."""
        env = {i: w.real(i) for i in node.inputs}
        out = KERNELS[node.op](*(env[i] for i in node.inputs), **node.a)
        env[node.output] = out
        w.env[node.output] = out
        for key in list(w.padded):
            if key == node.output or key.startswith(node.name + "/"):
                del w.padded[key]
        fn = ADVICE.get(node.op)
        if fn is not None:
            w.advice.update(fn(node, w.circuit.specs(), env))

    def run(self, w: witness_mod.Witness) -> Outcome:
        reference = self.reference(w)
        try:
            proof = prove_witness(w)
        except (ZkauditError, ValueError, KeyError, IndexError, OverflowError) as exc:
            return Outcome(False, None, reference, f"prover refused: {type(exc).__name__}: {exc}")
        tables = [vec.from_int64(w.table(s.name)) for s in w.circuit.weights]
        commitment = (commit(tables, params())[0] if tables else NoWeights()).to_bytes()  # a weightless model
        verdict = verify_proof(proof, circuit_bin=self.circuit_bin, weight_commitment=commitment)
        if not verdict.valid:
            return Outcome(False, None, reference, f"rejected: {verdict.reason}")
        outputs = {k: np.asarray(v).tolist() for k, v in verdict.output.items()}
        return Outcome(True, outputs, reference, "verified")

    def reference(self, w) -> dict | None:
        """The executor's output on the committed real values (weights and inputs)."""
        c = w.circuit
        weights = {s.name: w.real(s.name) for s in c.weights}
        inputs = {s.name: w.real(s.name) for s in c.inputs}
        try:
            out = c.execute(weights, inputs)
        except (InputError, CircuitError):  # out-of-range committed values: nothing is honest
            return None
        return {k: np.asarray(v).tolist() for k, v in out.items()}

    def attempt(self, *changes) -> Outcome:
        """`changes`: (tensor, flat padded index, value) triples."""
        try:
            w = self.mutate(changes)
        except (InputError, CircuitError, ZkauditError, ValueError) as exc:
            # the changed value makes some downstream op impossible to run
            # honestly (e.g. a range overflow); prove it anyway with what
            # the executor refused left as it was
            return Outcome(False, None, None, f"no execution: {exc}")
        return self.run(w)


def sweep(attack: Attack, rng: np.random.Generator, *, padding_cells: int, real_cells: int,
          values=(1,), names=None, alternate: bool = False) -> tuple[dict, list]:
    """Vary every committed and advice tensor (or `names`): up to
    `padding_cells` of its padding cells to each of `values`, and up to
    `real_cells` of its real cells by +1 (a 0/1 column is flipped).
    `alternate`: a tensor with both kinds of cells gets only its padding
    trials or only its real ones, by turns down the list (so each op's
    family of tensors, listed together, sees both kinds at half the
    proofs). Returns (counts by outcome kind, forgeries)."""
    counts: dict[str, int] = {}
    forged = []
    turn = 0
    for name in names if names is not None else attack.committed() + attack.advice():
        pad, real = attack.cells(name)
        if alternate and len(pad) and len(real):
            pad, real = (pad, real[:0]) if turn % 2 == 0 else (pad[:0], real)
            turn += 1
        honest = attack.honest.table(name)
        trials = [(int(i), int(v)) for i in rng.permutation(pad)[:padding_cells] for v in values]
        for i in rng.permutation(real)[:real_cells]:
            v = int(honest[i])
            trials.append((int(i), 1 - v if v in (0, 1) and "select" in name or "parity" in name else v + 1))
        for index, value in trials:
            out = attack.attempt((name, index, value))
            kind = "forged" if out.forged else out.stage.split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
            if out.forged:
                forged.append((name, index, value, out))
    return counts, forged


def coordinated(attack: Attack, values=(2, 100)) -> list[tuple]:
    """Changes that only work together, as a forger would make them: for
    every MatMul whose inner dimension is padded, a padding column k of A
    set to G and padding row k of B set to 1 (the sum would add G per
    column); for every ArgMax, a selector bit on each unwired slot with the
    index raised by that slot."""
    specs = attack.honest.circuit.specs()
    out = []
    for node in attack.nodes:
        if node.op == "MatMul":
            a, b = specs[node.inputs[0]].shape, specs[node.inputs[1]].shape
            ap, bp = padded_shape(a), padded_shape(b)
            source = node.inputs[0]
            # A is not committed when a linear op made it: change the advice
            # it was made from (Add/Sub pass padding through)
            while source in attack.producer and attack.producer[source].op in ("Add", "Sub"):
                source = attack.producer[source].inputs[0]
            for k in range(a[1], ap[1]):
                for g in values:
                    change = [(source, m * ap[1] + k, g) for m in range(a[0])]
                    change += [(node.inputs[1], k * bp[1] + n, 1) for n in range(b[1])]
                    out.append(tuple(change))
        elif node.op == "ArgMax":
            from zkaudit.layers.argmax.verifier import setup

            windows, _, names, _ = setup(node, specs)
            slots = 1 << windows.slot_vars
            idx = attack.honest.real(node.output).ravel()
            for k in range(windows.window, slots):
                out.append(((names.select, k, 1), (node.output, 0, int(idx[0]) + k)))
    return out
