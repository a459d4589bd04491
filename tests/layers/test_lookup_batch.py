"""The batched lookup (`layers.lookup_batch`): several constraint systems'
range lookups proven by one LogUp argument after the walk. Honest runs
discharge; a limb outside its table in any one system is rejected; a proof
that sends a system's lookup inline where the statement batches them (or the
reverse), or leaves the batch's section out, is refused."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from test_clamp import CLIP, RELU, _attack_setup, _mutate, _t, discharge

from zkaudit.circuit import Node, TensorSpec, kernels
from zkaudit.errors import MalformedProof
from zkaudit.layers import lookup_batch, lookup_batch_prover
from zkaudit.layers.clamp import prover, verifier
from zkaudit.layers.lookup_batch import BatchSection, LookupBatch
from zkaudit.layers.stream import ProofReader
from zkaudit.layers.tensor import embed
from zkaudit.lookup.errors import LookupSumNonZero
from zkaudit.lookup.protocol import Lookup, LookupInstance
from zkaudit.lookup.tables import TableSpec

# Three advice-output nodes on tensors of their own; the two Relu make the
# union list the same range tables twice.
RELU1 = Node.make("relu", "Relu", ["x1"], "y1", zero_point=0)
RELU2 = Node.make("relu2", "Relu", ["x2"], "y2", zero_point=0)
SUFFIX = {CLIP.name: "", RELU1.name: "1", RELU2.name: "2"}


def _renamed(advice: dict, node) -> dict:
    """RELU's advice (as `_attack_setup` makes it, on x -> y) under `node`'s names."""
    sfx = SUFFIX[node.name]
    return {(f"y{sfx}" if k == "y" else k.replace("relu/", f"{node.name}/", 1)): v for k, v in advice.items()}


def _setups(advice_for=None):
    """The three nodes' specs, inputs and advice: honest unless `advice_for[name]` is given."""
    nodes, specs, env, advice = [], {}, {}, {}
    for node in (CLIP, RELU1, RELU2):
        base = CLIP if node is CLIP else RELU
        e, s, _, _ = _attack_setup(base)
        honest = prover._advice(base, s, e)
        if node is not CLIP:
            sfx = SUFFIX[node.name]
            e = {f"{k}{sfx}": v for k, v in e.items()}
            s = {f"{k}{sfx}": TensorSpec(f"{k}{sfx}", v.shape, v.lo, v.hi) for k, v in s.items()}
            honest = _renamed(honest, node)
        nodes.append(node)
        specs.update(s)
        env.update(e)
        advice.update((advice_for or {}).get(node.name, honest))
    return nodes, specs, env, advice


def _run(nodes, specs, env, advice, *, batch_prover=True, batch_verifier=True, drop_section=False):
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    pt, vt = _t(), _t()
    pt.lookups = LookupBatch() if batch_prover else None
    vt.lookups = LookupBatch() if batch_verifier else None
    out: list[bytes] = []
    pclaims = []
    for node in nodes:
        pclaims += prover._handler(node, specs, None, tables, pt, out)
    if batch_prover:
        section, more = lookup_batch_prover.prove(pt.lookups, tables, pt)
        pclaims += more
        if not drop_section:
            out.append(section)
    reader = ProofReader(b"".join(out))
    vclaims = []
    for node in nodes:
        vclaims += verifier._handler(node, specs, None, reader, vt)
    if batch_verifier:
        vclaims += lookup_batch.verify(vt.lookups, reader, vt)
    reader.finish()
    assert pclaims == vclaims
    return vclaims, tables


def test_union_lists_every_systems_tables_and_shifts_the_lookups():
    a = LookupInstance((TableSpec.range(4), TableSpec.range(2)), (Lookup(1, 8), Lookup(0, 3)))
    b = LookupInstance((TableSpec.range(4),), (Lookup(0, 5),))
    batch = LookupBatch()
    batch.add("a", a, [["a0"], ["a1"]], ["ma4", "ma2"])
    batch.add("b", b, [["b0"]], ["mb4"])
    u = batch.union()
    assert [t.digest() for t in u.tables] == [t.digest() for t in (*a.tables, *b.tables)]
    assert u.lookups == (Lookup(1, 8), Lookup(0, 3), Lookup(2, 5))
    arrays = batch.column_arrays({"a0": 0, "a1": 1, "b0": 2})
    assert arrays == [[0], [1], [2]] and batch.mult_names() == ["ma4", "ma2", "mb4"]
    assert LookupBatch().union() is None
    with pytest.raises(ValueError):
        batch.add("c", b, [["c0"], ["c1"]], ["mc"])  # two column names for one lookup


def test_honest_systems_batched_discharge():
    nodes, specs, env, advice = _setups()
    claims, tables = _run(nodes, specs, env, advice)
    assert discharge(claims, tables) is None
    # every limb and multiplicity of every system got a claim from the union argument
    names = {c.tensor for c in claims}
    for node in nodes:
        system = verifier.clamp_system(node, specs)
        assert {n for n, _ in system.limb_list()} | set(system.mult_names()) <= names


@pytest.mark.parametrize("victim", [CLIP.name, RELU1.name, RELU2.name])
def test_a_limb_outside_its_table_in_any_system_is_rejected(victim):
    """The node passes an input below its range through (Y = X < lo, b = 0):
    every relation of the zero-check holds, but y - lo wraps mod p and its
    top limb leaves its table, which only the union argument can see; the
    other systems are honest."""
    base = CLIP if victim == CLIP.name else RELU
    env, specs, system, values = _attack_setup(base)
    lo = -20 if base is CLIP else 0
    i = int(np.flatnonzero((env["x"].ravel() < lo - 3) & (env["x"].ravel() > -60))[0])
    x = int(env["x"].flat[i])
    forged = _mutate(base, env, specs, system, values, i, x, below=0)
    if base is RELU:
        forged = _renamed(forged, RELU1 if victim == RELU1.name else RELU2)
    nodes, specs, env, advice = _setups({victim: forged})
    with pytest.raises(LookupSumNonZero):
        _run(nodes, specs, env, advice)


def test_inline_lookup_where_batched_is_refused_and_the_reverse():
    nodes, specs, env, advice = _setups()
    with pytest.raises(MalformedProof, match="inline"):
        _run(nodes, specs, env, advice, batch_prover=False, batch_verifier=True)
    with pytest.raises(MalformedProof, match="inline"):
        _run(nodes, specs, env, advice, batch_prover=True, batch_verifier=False)


def test_missing_or_empty_section_is_refused():
    nodes, specs, env, advice = _setups()
    with pytest.raises(MalformedProof):
        _run(nodes, specs, env, advice, drop_section=True)
    # an empty section where systems registered lookups
    batch = LookupBatch()
    batch.add("a", LookupInstance((TableSpec.range(2),), (Lookup(0, 2),)), [["a0"]], ["m"])
    with pytest.raises(MalformedProof, match="present/absent"):
        lookup_batch.verify(batch, ProofReader(struct.pack("<I", 0)), _t())
    # and a proof where none registered
    full = BatchSection(None).to_bytes()
    assert lookup_batch.verify(LookupBatch(), ProofReader(full), _t()) == []


# ---------------------------------------------------------------- Table nodes

def _table_case():
    rng = np.random.default_rng(4)
    values = rng.integers(-128, 128, size=64)
    node = Node.make("tab", "Table", ["xt"], "yt", function="sigmoid", in_min=-32, values=values)
    x = rng.integers(-32, 32, size=(3, 5))
    specs = {"xt": TensorSpec("xt", (3, 5), -32, 31), "yt": TensorSpec("yt", (3, 5), -128, 127)}
    return node, specs, {"xt": x, "yt": kernels.table(x, **node.a)}


def _run_table(node, specs, env, advice, advice_names):
    """The table node beside CLIP, with a batch whose advice is `advice_names`."""
    from zkaudit.layers.table import prover as tprover
    from zkaudit.layers.table import verifier as tverifier

    nodes, cspecs, cenv, cadvice = _setups()
    tables = {k: embed(np.asarray(v)) for k, v in {**cenv, **cadvice, **env, **advice}.items()}
    pt, vt = _t(), _t()
    pt.lookups, vt.lookups = LookupBatch(frozenset(advice_names)), LookupBatch(frozenset(advice_names))
    out: list[bytes] = []
    pclaims = tprover._handler(node, specs, None, tables, pt, out) + prover._handler(CLIP, cspecs, None, tables,
                                                                                     pt, out)
    section, more = lookup_batch_prover.prove(pt.lookups, tables, pt)
    out.append(section)
    reader = ProofReader(b"".join(out))
    vclaims = tverifier._handler(node, specs, None, reader, vt) + verifier._handler(CLIP, cspecs, None, reader, vt)
    vclaims += lookup_batch.verify(vt.lookups, reader, vt)
    reader.finish()
    assert pclaims + more == vclaims
    return vclaims, tables, len(pt.lookups.items)


def test_a_table_on_advice_joins_the_batch_and_one_on_a_walked_tensor_does_not():
    from zkaudit.layers.table import prover as tprover

    node, specs, env = _table_case()
    advice = tprover._advice(node, specs, env)
    everything = set(advice) | {"xt"}
    claims, tables, registered = _run_table(node, specs, env, advice, everything)
    assert registered == 2 and discharge(claims, tables) is None
    # X not committed: its claim must go down the walk now, so the table proves its lookup inline
    claims, tables, registered = _run_table(node, specs, env, advice, set(advice))
    assert registered == 1 and discharge(claims, tables) is None


def test_a_wrong_table_output_in_the_batch_is_rejected():
    from zkaudit.layers.table import prover as tprover

    node, specs, env = _table_case()
    advice = tprover._advice(node, specs, env)
    advice["yt"] = advice["yt"].copy()
    advice["yt"].flat[3] += 1
    with pytest.raises(LookupSumNonZero):
        _run_table(node, specs, env, advice, set(advice) | {"xt"})


def test_a_table_lookup_inline_where_the_statement_batches_it_is_refused():
    from zkaudit.layers.table import prover as tprover
    from zkaudit.layers.table import verifier as tverifier

    node, specs, env = _table_case()
    advice = tprover._advice(node, specs, env)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    out: list[bytes] = []
    tprover._handler(node, specs, None, tables, _t(), out)  # no batch: inline
    vt = _t()
    vt.lookups = LookupBatch(frozenset(set(advice) | {"xt"}))
    with pytest.raises(MalformedProof, match="inline"):
        tverifier._handler(node, specs, None, ProofReader(b"".join(out)), vt)
