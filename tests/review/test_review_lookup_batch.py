"""Review of 494bb22..bdc0e79: the batched range lookup of an inference proof
(`layers.lookup_batch`), the zero-knowledge LogUp trees in lock step
(`lookup.gkr.prove_joint` / `lookup.verifier._verify_joint`, lookup proof
version 3) and the eq-factored zero-check prover (`sumcheck.eq_run`).

Each test is an attempt to make a verifier accept something false, and
expects a rejection: an exception, or (zero knowledge) a deferred check that
the bank opening would refuse, or a returned claim the advice opening would
refuse. Where a forgery needs the union's table tags, a control removes the
tag (beta^w -> 0) and shows the same forgery is then accepted, so the test
measures the tag and nothing else."""

from __future__ import annotations

import dataclasses
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "layers"))
from test_clamp import CLIP, discharge  # noqa: E402
from test_lookup_batch import RELU2, _setups  # noqa: E402

from zkaudit.errors import MalformedProof, ProofRejected  # noqa: E402
from zkaudit.field.scalar import Fp, Fp2  # noqa: E402
from zkaudit.layers import lookup_batch, lookup_batch_prover  # noqa: E402
from zkaudit.layers.clamp import prover as cprover  # noqa: E402
from zkaudit.layers.clamp import verifier as cverifier  # noqa: E402
from zkaudit.layers.lookup_batch import BatchSection, LookupBatch  # noqa: E402
from zkaudit.layers.stream import ProofReader  # noqa: E402
from zkaudit.layers.tensor import embed  # noqa: E402
from zkaudit.lookup import prover as lprover  # noqa: E402
from zkaudit.lookup import protocol  # noqa: E402
from zkaudit.lookup import verifier as lverifier  # noqa: E402
from zkaudit.lookup.errors import LookupShapeError  # noqa: E402
from zkaudit.lookup.proof import LookupProof  # noqa: E402
from zkaudit.lookup.protocol import Lookup, LookupInstance  # noqa: E402
from zkaudit.lookup.tables import TableSpec  # noqa: E402
from zkaudit.poly.mle import eq_table, evaluate  # noqa: E402
from zkaudit.sumcheck.zk import ZkProver, ZkSession  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

U64 = np.uint64
BANK = 1 << 14
P = 2**64 - 2**32 + 1


def _ext(v):
    return Fp2.from_base(v) if isinstance(v, Fp) else v


def _transcript(zk=None) -> Transcript:
    t = Transcript()
    t.absorb_statement("review-lookup-batch", 1)
    t.zk = zk
    return t


# ------------------------------------------------------------ layer harness


def _distinct_setups():
    """`_setups` with RELU2 on an input of its own (in `_setups` both Relus
    see the same values), over the same specs: same instance, other limbs."""
    from zkaudit.circuit import kernels

    nodes, specs, env, advice = _setups()
    x2 = np.array(env["x1"][::-1, ::-1], copy=True)
    x2.flat[5] = -x2.flat[5] if x2.flat[5] else 9
    env = {**env, "x2": x2, "y2": kernels.relu(x2, **RELU2.a)}
    assert int(env["y2"].max()) <= specs["y2"].hi and not np.array_equal(env["y1"], env["y2"])
    fresh = cprover._advice(RELU2, specs, env)
    advice = {**{k: v for k, v in advice.items() if not k.startswith("relu2/") and k != "y2"}, **fresh}
    return nodes, specs, env, advice


def _run(nodes, specs, env, advice, *, zk=False, prover_order=None, section=None, verifier_batch=True,
         reorder=None):
    """Prove `nodes` (the prover walks `prover_order` if given; `reorder`
    permutes its batch's registrations) with one batched lookup, verify them
    in `nodes` order. Returns None when every check passes (accepted), else
    why it was refused."""
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    bank = np.random.default_rng(1).integers(0, P, size=(BANK, 2), dtype=U64)
    zp = ZkProver({"advice": BANK}, {"advice": bank}) if zk else None
    zv = ZkSession({"advice": BANK}) if zk else None
    pt, vt = _transcript(zp), _transcript(zv)
    pt.lookups = LookupBatch()
    vt.lookups = LookupBatch() if verifier_batch else None
    out: list[bytes] = []
    for node in prover_order or nodes:
        cprover._handler(node, specs, None, tables, pt, out)
    if reorder is not None:
        pt.lookups.items[:] = [pt.lookups.items[i] for i in reorder]
    sec, _ = lookup_batch_prover.prove(pt.lookups, tables, pt)
    out.append(sec if section is None else section(sec))
    try:
        reader = ProofReader(b"".join(out))
        claims = []
        for node in nodes:
            claims += cverifier._handler(node, specs, None, reader, vt)
        if verifier_batch:
            claims += lookup_batch.verify(vt.lookups, reader, vt)
        reader.finish()
    except ProofRejected as exc:
        return type(exc).__name__
    if zk:
        bad = [c for c in zv.checks if zp.value(c) != Fp2(0)]
        if bad:
            return f"deferred:{len(bad)}"
        for c in claims:
            if zp.value(c.value) != _ext(evaluate(tables[c.tensor], c.point)):
                return f"opening:{c.tensor}"
        return None
    bad = discharge(claims, tables)
    return f"opening:{bad}" if bad else None


@pytest.fixture
def tagless(monkeypatch):
    """Control: the union without its table tags (beta^w -> 0), as if
    duplicate or nested tables were merged."""

    def combiners(beta, width):
        out = [Fp2(1)]
        for _ in range(width):
            out.append(out[-1] * beta)
        return out[:-1] + [Fp2(0)]

    for mod in (lprover, lverifier, protocol):
        if hasattr(mod, "row_combiners"):  # the verifier's leaf check goes through protocol.leaf_sums
            monkeypatch.setattr(mod, "row_combiners", combiners)


def _cross_table_forgery():
    """CLIP's `above` (7 bits as limbs 6 + 1) at an element where it is >= 64
    recommitted as limb0 = above, limb1 = 0: the recomposition (all the
    zero-check sees) holds, limb0 leaves CLIP's 6-bit table but sits in
    RELU1's 7-bit table, and the multiplicities count it there."""
    nodes, specs, env, advice = _setups()
    advice = {k: np.array(v, copy=True) for k, v in advice.items()}
    l0, l1 = advice["clip/above/limb0"], advice["clip/above/limb1"]
    i = int(np.flatnonzero(l1.ravel() == 1)[0])
    above = int(l0.flat[i]) + 64
    advice["clip/mult6"][int(l0.flat[i])] -= 1
    advice["clip/mult1"][1] -= 1
    advice["clip/mult1"][0] += 1
    advice["relu/mult7"][above] += 1
    l0.flat[i], l1.flat[i] = above, 0
    return nodes, specs, env, advice


def _count_moved():
    """RELU1 and RELU2 have the same 7-bit table: one of RELU1's counts
    moved to RELU2's multiplicities (the union's totals unchanged)."""
    nodes, specs, env, advice = _setups()
    advice = {k: np.array(v, copy=True) for k, v in advice.items()}
    v = int(np.flatnonzero(advice["relu/mult7"] > 0)[-1])
    advice["relu/mult7"][v] -= 1
    advice["relu2/mult7"][v] += 1
    return nodes, specs, env, advice


def test_honest_batch_is_accepted_plain_and_zero_knowledge():
    nodes, specs, env, advice = _setups()
    assert _run(nodes, specs, env, advice) is None
    assert _run(nodes, specs, env, advice, zk=True) is None


@pytest.mark.parametrize("zk", [False, True])
def test_limb_in_a_wider_table_of_another_node_is_rejected(zk):
    assert _run(*_cross_table_forgery(), zk=zk) is not None


@pytest.mark.parametrize("zk", [False, True])
def test_count_moved_between_duplicate_tables_is_rejected(zk):
    assert _run(*_count_moved(), zk=zk) is not None


@pytest.mark.parametrize("zk", [False, True])
@pytest.mark.parametrize("forgery", [_cross_table_forgery, _count_moved])
def test_control_without_the_tag_both_forgeries_pass(tagless, forgery, zk):
    """The attacks above are real: only the tag stops them."""
    assert _run(*forgery(), zk=zk) is None


@pytest.mark.parametrize("zk", [False, True])
def test_registrations_reordered_by_the_prover_are_rejected(zk):
    """RELU1 and RELU2 register identical instances: a prover that proves
    them in the other order makes a valid union argument whose claims the
    verifier assigns to the other node's advice."""
    nodes, specs, env, advice = _distinct_setups()
    assert _run(nodes, specs, env, advice, zk=zk) is None  # the honest order
    assert _run(nodes, specs, env, advice, zk=zk, reorder=[0, 2, 1]) is not None
    # the whole walk in the other order: the node proofs arrive swapped too
    order = [nodes[0], nodes[2], nodes[1]]
    assert _run(nodes, specs, env, advice, zk=zk, prover_order=order) is not None


def _other_instance_proof(zk):
    """A valid LogUp proof of CLIP's lookup alone (the union minus both Relus)."""
    nodes, specs, env, advice = _setups()
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    t = _transcript(ZkProver({"advice": BANK}) if zk else None)
    t.lookups = LookupBatch()
    cprover._handler(CLIP, specs, None, tables, t, [])
    sec, _ = lookup_batch_prover.prove(t.lookups, tables, t)
    return sec


@pytest.mark.parametrize("zk", [False, True])
@pytest.mark.parametrize("how", ["empty", "truncated", "trailing", "other_instance", "plain_in_zk"])
def test_batched_section_replaced_is_rejected(zk, how):
    nodes, specs, env, advice = _setups()

    def section(sec):
        if how == "empty":
            return struct.pack("<I", 0)
        if how == "truncated":
            return struct.pack("<I", len(sec) - 4) + sec[4:-1]
        if how == "trailing":
            return struct.pack("<I", len(sec) - 3) + sec[4:] + b"\0"
        if how == "other_instance":
            return _other_instance_proof(zk)
        return _other_instance_proof(not zk)

    got = _run(nodes, specs, env, advice, zk=zk, section=section)
    assert got is not None and got != "deferred:0"


def test_section_with_a_proof_where_nothing_registered_is_rejected():
    sec = _other_instance_proof(False)
    with pytest.raises(MalformedProof, match="present/absent"):
        lookup_batch.verify(LookupBatch(), ProofReader(sec), _transcript())


def test_inline_proofs_where_the_verifier_batches_are_rejected():
    """A prover that proves every system inline and sends an empty section."""
    nodes, specs, env, advice = _setups()
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    out: list[bytes] = []
    for node in nodes:
        cprover._handler(node, specs, None, tables, _transcript(), out)
    out.append(BatchSection(None).to_bytes())
    vt = _transcript()
    vt.lookups = LookupBatch()
    with pytest.raises(MalformedProof, match="inline"):
        reader = ProofReader(b"".join(out))
        for node in nodes:
            cverifier._handler(node, specs, None, reader, vt)


def test_deferred_proofs_where_the_verifier_does_not_batch_are_rejected():
    nodes, specs, env, advice = _setups()
    assert _run(nodes, specs, env, advice, verifier_batch=False) == "MalformedProof"


# ------------------------------------------------------------ Table nodes


def _table_run(prover_advice, verifier_advice):
    from test_lookup_batch import _table_case

    from zkaudit.layers.table import prover as tprover
    from zkaudit.layers.table import verifier as tverifier

    node, specs, env = _table_case()
    advice = tprover._advice(node, specs, env)
    tables = {k: embed(np.asarray(v)) for k, v in {**env, **advice}.items()}
    pt, vt = _transcript(), _transcript()
    pt.lookups = LookupBatch(frozenset(prover_advice(advice)))
    vt.lookups = LookupBatch(frozenset(verifier_advice(advice)))
    out: list[bytes] = []
    tprover._handler(node, specs, None, tables, pt, out)
    out.append(lookup_batch_prover.prove(pt.lookups, tables, pt)[0])
    reader = ProofReader(b"".join(out))
    claims = tverifier._handler(node, specs, None, reader, vt)
    claims += lookup_batch.verify(vt.lookups, reader, vt)
    reader.finish()
    return claims, tables


def test_table_on_a_walked_input_is_never_deferred_by_the_verifier():
    """X not advice for the verifier: a prover that defers anyway (so that X's
    claim would only arrive after the walk passed X) is refused at the node."""
    with pytest.raises(MalformedProof, match="inline"):
        _table_run(lambda a: set(a) | {"xt"}, lambda a: set(a))


def test_table_inline_where_the_verifier_defers_is_rejected():
    with pytest.raises(MalformedProof, match="inline"):
        _table_run(lambda a: set(a), lambda a: set(a) | {"xt"})


def test_table_deferred_claims_land_on_x_and_y():
    claims, tables = _table_run(lambda a: set(a) | {"xt"}, lambda a: set(a) | {"xt"})
    assert {"xt", "yt"} <= {c.tensor for c in claims} and discharge(claims, tables) is None


# ------------------------------------------------------------ ZK LogUp in lock step


def _instance(rows):
    """Range-4 lookups of `rows` rows each, one range-4 table (16 rows):
    the layout's trees have the bits of the total leaf count as depths."""
    return LookupInstance((TableSpec.range(4),), tuple(Lookup(0, n) for n in rows))


def _columns(rows, seed=0):
    rng = np.random.default_rng(seed)
    return [[rng.integers(0, 16, n, dtype=U64)] for n in rows]


def _zk_prove(inst, cols, mults, bank):
    zp = ZkProver({"advice": BANK}, {"advice": bank})
    proof, claims = lprover.prove(inst, cols, mults, _transcript(zp))
    return zp, proof, claims


def _zk_verdict(inst, cols, mults, zp, proof):
    """None if the ZK verifier accepts `proof` and the bank opening would too."""
    zv = ZkSession({"advice": BANK})
    try:
        claims = lverifier.verify(inst, LookupProof.from_bytes(proof.to_bytes()), _transcript(zv))
    except ProofRejected as exc:
        return type(exc).__name__
    bad = [c for c in zv.checks if zp.value(c) != Fp2(0)]
    if bad:
        return f"deferred:{len(bad)}"
    for cl, col in zip(claims.columns, cols):
        if zp.value(cl[0].value) != _ext(evaluate(col[0], list(cl[0].point))):
            return "opening:column"
    for cl, m in zip(claims.multiplicities, mults):
        if zp.value(cl.value) != _ext(evaluate(m, list(cl.point))):
            return "opening:mult"
    return None


# totals 16 + 7: trees of depth 4, 2, 1, 0 (a lone leaf, and a depth-1 tree)
SHAPES = {"deep_and_shallow": [4, 2, 1], "single": [16], "lone_leaf": [1], "two_equal": [8, 8]}


@pytest.fixture(scope="module")
def bank():
    return np.random.default_rng(7).integers(0, P, size=(BANK, 2), dtype=U64)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_zk_lock_step_honest_every_tree_depth(shape, bank):
    rows = SHAPES[shape]
    inst, cols = _instance(rows), _columns(rows)
    mults = lprover.multiplicities(inst, cols)
    zp, proof, _ = _zk_prove(inst, cols, mults, bank)
    tree_vars = inst.layout()[0]
    assert len(proof.joint_layers) == max(tree_vars) and all(len(t) == 0 for t in proof.layers)
    assert _zk_verdict(inst, cols, mults, zp, proof) is None


def _tamper_final(proof, k, i):
    """Add 1 to value i (after eq) of joint layer k's final values."""
    layers = list(proof.joint_layers)
    lay = layers[k]
    finals = list(lay.final_values)
    finals[i] = finals[i] + Fp2(1)
    layers[k] = dataclasses.replace(lay, final_values=tuple(finals))
    return dataclasses.replace(proof, joint_layers=tuple(layers))


@pytest.mark.parametrize("k,i", [(0, 0), (0, 1), (0, 5), (0, 12), (1, 4), (1, 8), (3, 1)])
def test_zk_tampered_lock_step_final_value_is_rejected(k, i, bank):
    """Every tree's share of a lock-step layer is bound (mu_i), including
    the trees weighted by a random mu and the layer of 0 rounds."""
    rows = SHAPES["deep_and_shallow"]
    inst, cols = _instance(rows), _columns(rows)
    mults = lprover.multiplicities(inst, cols)
    zp, proof, _ = _zk_prove(inst, cols, mults, bank)
    assert i < len(proof.joint_layers[k].final_values)
    assert _zk_verdict(inst, cols, mults, zp, _tamper_final(proof, k, i)) is not None


def test_zk_two_trees_final_values_swapped_is_rejected(bank):
    rows = SHAPES["deep_and_shallow"]
    inst, cols = _instance(rows), _columns(rows)
    mults = lprover.multiplicities(inst, cols)
    zp, proof, _ = _zk_prove(inst, cols, mults, bank)
    lay = proof.joint_layers[0]
    f = list(lay.final_values)
    f[1:5], f[5:9] = f[5:9], f[1:5]
    forged = dataclasses.replace(proof, joint_layers=(dataclasses.replace(lay, final_values=tuple(f)),)
                                 + proof.joint_layers[1:])
    assert _zk_verdict(inst, cols, mults, zp, forged) is not None


@pytest.mark.parametrize("how", ["drop_last", "extra", "into_tree_layers", "empty"])
def test_zk_lock_step_layer_count_or_place_is_rejected(how, bank):
    rows = SHAPES["deep_and_shallow"]
    inst, cols = _instance(rows), _columns(rows)
    mults = lprover.multiplicities(inst, cols)
    zp, proof, _ = _zk_prove(inst, cols, mults, bank)
    j = proof.joint_layers
    if how == "drop_last":
        forged = dataclasses.replace(proof, joint_layers=j[:-1])
    elif how == "extra":
        forged = dataclasses.replace(proof, joint_layers=j + j[-1:])
    elif how == "empty":
        forged = dataclasses.replace(proof, joint_layers=())
    else:  # the deepest tree's layers where a plain proof keeps them
        forged = dataclasses.replace(proof, layers=(j,) + proof.layers[1:], joint_layers=())
    with pytest.raises(LookupShapeError):
        lverifier.verify(inst, LookupProof.from_bytes(forged.to_bytes()), _transcript(ZkSession({"advice": BANK})))


@pytest.mark.parametrize("rows", [SHAPES["deep_and_shallow"], SHAPES["lone_leaf"]])
def test_zk_row_outside_the_table_is_rejected(rows, bank):
    """A looked-up value 16 (outside range 4) with multiplicities counting the
    rest: in the deepest tree, a shallow one, or the lone leaf (depth 0)."""
    inst, cols = _instance(rows), _columns(rows)
    for victim in range(len(rows)):
        bad = [[c[0].copy()] for c in cols]
        bad[victim][0][0] = U64(16)
        mults = lprover.multiplicities(inst, cols)
        mults[0][int(cols[victim][0][0])] -= U64(1)
        zp, proof, _ = _zk_prove(inst, bad, mults, bank)
        assert _zk_verdict(inst, bad, mults, zp, proof) is not None


def test_plain_proof_in_a_zk_statement_and_the_reverse_are_rejected(bank):
    rows = SHAPES["deep_and_shallow"]
    inst, cols = _instance(rows), _columns(rows)
    mults = lprover.multiplicities(inst, cols)
    plain, _ = lprover.prove(inst, cols, mults, _transcript())
    _, zk_proof, _ = _zk_prove(inst, cols, mults, bank)
    with pytest.raises(LookupShapeError):
        lverifier.verify(inst, LookupProof.from_bytes(plain.to_bytes()), _transcript(ZkSession({"advice": BANK})))
    with pytest.raises(LookupShapeError):
        lverifier.verify(inst, LookupProof.from_bytes(zk_proof.to_bytes()), _transcript())
    # the ZK proof stripped of its zero-knowledge parts (empty trees), read by a plain verifier
    moved = dataclasses.replace(zk_proof, root_q=None, root_layers=(), joint_layers=())
    with pytest.raises(LookupShapeError):
        lverifier.verify(inst, LookupProof.from_bytes(moved.to_bytes()), _transcript())


def test_plain_proof_still_verifies_and_refuses_lock_step_bytes():
    rows = SHAPES["deep_and_shallow"]
    inst, cols = _instance(rows), _columns(rows)
    mults = lprover.multiplicities(inst, cols)
    proof, _ = lprover.prove(inst, cols, mults, _transcript())
    assert proof.root_q is None and proof.joint_layers == ()
    lverifier.verify(inst, LookupProof.from_bytes(proof.to_bytes()), _transcript()).discharge(cols, mults)
    with pytest.raises(MalformedProof, match="trailing"):  # lock-step layers after a plain proof
        LookupProof.from_bytes(proof.to_bytes() + struct.pack("<I", 0))
    with pytest.raises(ValueError):
        dataclasses.replace(proof, joint_layers=proof.layers[0]).to_bytes()
    # a version-2 proof (trees one by one) is no longer read
    data = bytearray(proof.to_bytes())
    data[4] = 2
    with pytest.raises(MalformedProof, match="version"):
        LookupProof.from_bytes(bytes(data))


# ------------------------------------------------------------ eq-factored prover


def _edge_point(rng, n, edges):
    pt = [Fp2(int(rng.integers(0, P, dtype=U64)), int(rng.integers(0, P, dtype=U64))) for _ in range(n)]
    for j, v in edges.items():
        pt[j] = Fp2(v)
    return pt


@pytest.mark.parametrize("zk", [False, True])
@pytest.mark.parametrize("eq_only", [False, True])
@pytest.mark.parametrize("num_vars,edges", [(1, {}), (1, {0: 0}), (1, {0: 1}), (3, {0: 0, 2: 1}), (4, {1: 1, 3: 0})])
def test_eq_factored_prover_same_proof_on_edge_points(zk, eq_only, num_vars, edges, monkeypatch):
    """rho with coordinates 0 or 1 (eq's line is then 1 - t or t), a term of
    eq alone, one variable, and zero knowledge (Libra mask and pads on the
    same bank): the same bytes as the generic prover."""
    from zkaudit.sumcheck import prover as sprover
    from zkaudit.sumcheck.claim import SumOfProducts

    rng = np.random.default_rng(num_vars * 7 + len(edges))
    rho = _edge_point(rng, num_vars, edges)
    other = [rng.integers(0, P, size=1 << num_vars, dtype=U64) for _ in range(3)]
    tables = [eq_table(rho)] + other
    spec = SumOfProducts.of(4, [(Fp2(3), (0,)), (Fp2(5, 1), (0, 1, 2)), (Fp2(1), (0, 3)), (Fp2(7), (0, 1, 2))])
    if eq_only:  # degree 1: s(t) is a constant
        spec = SumOfProducts.of(4, [(Fp2(3), (0,)), (Fp2(2, 9), (0,))])
    total = sum((spec.combine([_ext(Fp2(int(tables[0][x, 0]), int(tables[0][x, 1])))]
                              + [Fp2(int(t[x])) for t in other]) for x in range(1 << num_vars)), Fp2(0))
    bank = np.random.default_rng(3).integers(0, P, size=(BANK, 2), dtype=U64)

    monkeypatch.setattr(sprover, "EQ_RUN_FROM", 0)  # small tables: make prove take the eq run

    def run(eq_point):
        t = _transcript(ZkProver({"advice": BANK}, {"advice": bank}) if zk else None)
        return sprover.prove(tables, spec, t, claimed_sum=total, public=(0,), eq_point=eq_point)

    generic, fast = run(None), run(rho)
    assert fast[0].to_bytes() == generic[0].to_bytes()
    assert tuple(fast[1].point) == tuple(generic[1].point)


# ------------------------------------------------------------ whole proofs


def _attack(name):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "adversarial"))
    import small_circuits
    from malicious_prover import Attack

    return Attack(*small_circuits.instance(small_circuits.BUILDERS[name]))


def _prove_and_verify(attack, w, zk, monkeypatch=None, section=None):
    """(verdict, the batch the verifier registered) for witness `w`;
    `section` rewrites the batched section's bytes on the prover's side."""
    from zkaudit.field import vec
    from zkaudit.pcs import commit
    from zkaudit.statements.inference import prover as iprover
    from zkaudit.statements.inference.commitment import params
    from zkaudit.statements.verify import verify_proof

    seen = []
    real_verify, real_prove = lookup_batch.verify, lookup_batch_prover.prove

    def spy(batch, reader, transcript):
        seen.append(batch)
        return real_verify(batch, reader, transcript)

    def tampered(batch, tables, transcript):
        sec, claims = real_prove(batch, tables, transcript)
        return section(sec), claims

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lookup_batch, "verify", spy)
        if section is not None:
            mp.setattr(iprover.lookup_batch_prover, "prove", tampered)
        proof = iprover.prove_witness(w, zero_knowledge=zk)
        tables = [vec.from_int64(w.table(s.name)) for s in w.circuit.weights]
        com = commit(tables, params())[0].to_bytes()
        verdict = verify_proof(proof, circuit_bin=attack.circuit_bin, weight_commitment=com)
    return verdict, (seen[0] if seen else None)


@pytest.mark.parametrize("zk", [False, True])
@pytest.mark.parametrize("name", ["mlp_clip", "argmax_table"])
def test_whole_proof_honest_batch_and_soundness_bits(name, zk):
    """Every Clip/Relu/Requantize (and the Table on ArgMax's advice index)
    registers, and the weights' range checks; the verdict's soundness, which now charges the union's alpha
    and beta and the lock-step mu's, stays >= 100 bits."""
    attack = _attack(name)
    verdict, batch = _prove_and_verify(attack, attack.honest, zk)
    assert verdict.valid, verdict.reason
    assert verdict.soundness_bits >= 100
    # the committed tensors' range lookup registers last (`committed_range.register`)
    expected = {"mlp_clip": {"rq1", "cl", "re"}, "argmax_table": {"rq", "tb"}}[name] | {"inference.range"}
    assert {item.where for item in batch.items} == expected and batch.items[-1].where == "inference.range"


def _cross_table_witness(attack):
    """mlp_clip's Clip `above` at element 0 is 5 + 16 * 2 (limbs 4 + 2 bits):
    recommitted as 21 + 16 * 1, its 4-bit limb 21 counted in rq1's 5-bit
    table. Every node's zero-check holds; only the tag separates the tables."""
    import copy

    w = copy.copy(attack.honest)
    adv = {k: np.array(v, copy=True) for k, v in w.advice.items()}
    l0, l1 = adv["cl/above/limb0"], adv["cl/above/limb1"]
    assert (int(l0.flat[0]), int(l1.flat[0])) == (5, 2)
    l0.flat[0], l1.flat[0] = 21, 1
    adv["cl/mult4"][5] -= 1
    adv["cl/mult2"][2] -= 1
    adv["cl/mult2"][1] += 1
    adv["rq1/mult5"][21] += 1
    w.advice = {**w.advice, **{k: adv[k] for k in ("cl/above/limb0", "cl/above/limb1", "cl/mult4", "cl/mult2",
                                                    "rq1/mult5")}}
    w.padded = {k: v for k, v in w.padded.items() if k not in w.advice}
    return w


@pytest.mark.parametrize("zk", [False, True])
def test_whole_proof_limb_counted_in_another_nodes_wider_table_is_rejected(zk):
    attack = _attack("mlp_clip")
    verdict, _ = _prove_and_verify(attack, _cross_table_witness(attack), zk)
    assert not verdict.valid


@pytest.mark.parametrize("zk", [False, True])
def test_whole_proof_control_without_the_tag_the_forgery_passes(tagless, zk):
    attack = _attack("mlp_clip")
    verdict, _ = _prove_and_verify(attack, _cross_table_witness(attack), zk)
    assert verdict.valid, verdict.reason


@pytest.mark.parametrize("zk", [False, True])
@pytest.mark.parametrize("how", ["empty", "flipped_byte"])
def test_whole_proof_batched_section_tampered_is_rejected(zk, how):
    attack = _attack("mlp_clip")

    def section(sec):
        if how == "empty":
            return struct.pack("<I", 0)
        data = bytearray(sec)
        data[len(data) // 2] ^= 1
        return bytes(data)

    verdict, _ = _prove_and_verify(attack, attack.honest, zk, section=section)
    assert not verdict.valid


def _rand_ext(rng, n):
    return [Fp2(int(a), int(b)) for a, b in rng.integers(0, P, size=(n, 2), dtype=U64)]


@pytest.mark.parametrize("num_vars,edges,trees", [(2, {}, 1), (2, {0: 1}, 3), (3, {1: 1}, 2), (4, {0: 1, 3: 1}, 4),
                                                  (3, {2: 0}, 2)])
def test_lock_step_layer_fused_run_same_proof_as_generic(num_vars, edges, trees):
    """`gkr.joint_layer_prove` (JointRun on the fused kernels, or the generic
    prover where rho has a zero coordinate) against the generic zero-knowledge
    sum-check on [eq] + every tree's four tables, on the same bank: same
    bytes and final claim, with rho coordinates equal to 1 (eq's line is t)."""
    from zkaudit.lookup import gkr
    from zkaudit.lookup.protocol import joint_layer_spec
    from zkaudit.sumcheck import prover as sprover

    rng = np.random.default_rng(num_vars * 13 + trees)
    rho = _edge_point(rng, num_vars, edges)
    stacks = [rng.integers(0, P, size=(4, 1 << num_vars, 2), dtype=U64) for _ in range(trees)]
    lam, mus = _rand_ext(rng, 1)[0], [Fp2(1)] + _rand_ext(rng, trees - 1)
    spec = joint_layer_spec(lam, mus)
    eq = eq_table(rho)
    tables = [eq] + [t for st in stacks for t in st]
    total = Fp2(0)
    for x in range(1 << num_vars):
        total = total + spec.combine([Fp2(int(t[x, 0]), int(t[x, 1])) for t in tables])
    bank = np.random.default_rng(5).integers(0, P, size=(BANK, 2), dtype=U64)

    def zt():
        return _transcript(ZkProver({"advice": BANK}, {"advice": bank}))

    fast = gkr.joint_layer_prove(rho, [s.copy() for s in stacks], lam, mus, zt(), claimed_sum=total)
    generic = sprover.prove(tables, spec, zt(), claimed_sum=total, public=(0,))
    assert fast[0].to_bytes() == generic[0].to_bytes()
    assert tuple(fast[1].point) == tuple(generic[1].point)
