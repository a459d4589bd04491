"""The consent prover's sparse table-side work (statements/consent/sparse.py,
kernels.py) against its dense references: the multiplicities against
`table_multiplicities`, the sparse evaluation against `poly.mle.evaluate`,
and the uniqueness zero-check against the generic sum-check prover (plain
and zero-knowledge: the same proof bytes, claims and transcript)."""

from __future__ import annotations

import numpy as np
import pytest

from zkaudit.field.constants import P
from zkaudit.field.scalar import Fp2
from zkaudit.field.randomness import random_ext
from zkaudit.lookup.committed_table_prover import RowNotInTable, table_multiplicities
from zkaudit.poly.mle import eq_table, evaluate
from zkaudit.statements.consent import sparse
from zkaudit.statements.consent.verifier import uniqueness_spec
from zkaudit.sumcheck import prover as sumcheck_prover
from zkaudit.sumcheck.zk import ADVICE, ZkProver
from zkaudit.transcript import Transcript

U64 = np.uint64


def _table(rng, rows, k, *, equal_hi=False):
    hi = rng.integers(0, P, rows, dtype=U64)
    if equal_hi:  # many rows sharing a high limb: the search must compare the low one
        hi[: rows // 2] = hi[0]
    lo = rng.integers(0, P, rows, dtype=U64)
    order = np.lexsort((lo, hi))
    hs, ls = np.zeros(1 << k, dtype=U64), np.zeros(1 << k, dtype=U64)
    hs[:rows], ls[:rows] = hi[order], lo[order]
    return hs, ls


@pytest.mark.parametrize("equal_hi", [False, True])
def test_multiplicities_match_reference(equal_hi):
    rng = np.random.default_rng(1)
    hi, lo = _table(rng, 300, 9, equal_hi=equal_hi)
    pick = rng.integers(0, 300, 64)  # repeats: multiplicities above 1
    ids = [hi[pick].copy(), lo[pick].copy()]
    valid = (rng.random(64) < 0.8).astype(U64)
    ids[0][valid == 0] = U64(12345)  # an invalid record's ID is not looked up
    got = sparse.multiplicities(ids, valid, [hi, lo], 300)
    want = table_multiplicities(ids, valid, [hi, lo], 300)
    assert got.dtype == U64 and np.array_equal(got, want) and int(got.sum()) == int(valid.sum())


def test_multiplicities_missing_row_and_padding():
    rng = np.random.default_rng(2)
    hi, lo = _table(rng, 100, 8)
    pick = rng.integers(0, 100, 16)
    ids = [hi[pick].copy(), lo[pick].copy()]
    valid = np.ones(16, dtype=U64)
    ids[1][5] = U64((int(ids[1][5]) + 1) % P)  # the high limb of a real row, another low limb
    with pytest.raises(RowNotInTable) as exc:
        sparse.multiplicities(ids, valid, [hi, lo], 100)
    with pytest.raises(RowNotInTable) as ref:
        table_multiplicities(ids, valid, [hi, lo], 100)
    assert exc.value.row == ref.value.row == 5
    ids = [np.zeros(16, dtype=U64), np.zeros(16, dtype=U64)]  # the padding rows' (0, 0) is not a real row
    with pytest.raises(RowNotInTable):
        sparse.multiplicities(ids, valid, [hi, lo], 100)


def test_multiplicities_unsorted_table_takes_reference():
    rng = np.random.default_rng(3)
    hi, lo = rng.integers(0, P, 64, dtype=U64), rng.integers(0, P, 64, dtype=U64)
    pick = rng.integers(0, 50, 20)
    ids, valid = [hi[pick], lo[pick]], np.ones(20, dtype=U64)
    assert np.array_equal(sparse.multiplicities(ids, valid, [hi, lo], 50),
                          table_multiplicities(ids, valid, [hi, lo], 50))


@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_sparse_evaluate(k):
    rng = np.random.default_rng(k)
    m = np.zeros(1 << k, dtype=U64)
    m[rng.integers(0, 1 << k, max(1, (1 << k) // 7))] = rng.integers(0, 3, max(1, (1 << k) // 7), dtype=U64)
    point = [Fp2(int(a), int(b)) for a, b in random_ext(k)]
    assert sparse.sparse_evaluate(m, point) == evaluate(m, point)
    assert sparse.sparse_evaluate(np.zeros(1 << k, dtype=U64), point) == Fp2(0)


def _m(rng, k, kind):
    n = 1 << k
    m = np.zeros(n, dtype=U64)
    if kind == "sparse":
        m[rng.choice(n, max(1, n // 16), replace=False)] = 1
    elif kind == "dense":
        m[:] = rng.integers(0, 2, n, dtype=U64)
    elif kind == "cheat":  # a multiplicity of 2 and arbitrary values: the rounds are still the true ones
        m[rng.choice(n, max(1, n // 8), replace=False)] = rng.integers(0, P, max(1, n // 8), dtype=U64)
        m[0] = 2
    elif kind == "top":  # only the upper half used, and the last entry
        m[n // 2 :: 3] = 1
        m[-1] = 1
    return m


def _run(r, m, zk, sparse_path):
    t = Transcript()
    t.absorb_statement("consent-sparse-test", 1, digests={"case": b"zero-check".ljust(32, b"\0")})
    session = None
    if zk is not None:
        session = ZkProver({ADVICE: zk.shape[0]}, {ADVICE: zk})
        t.zk = session
    claimed = Fp2(0)
    if sparse_path:
        proof, claim, _ = sparse.prove_zero_check(r, m, uniqueness_spec(), t, claimed_sum=claimed)
    else:
        proof, claim, _ = sumcheck_prover.prove([eq_table(r), m], uniqueness_spec(), t, claimed_sum=claimed,
                                                public=(0,))
    tail = t.challenge_ext(b"test/after")
    used = session.banks_used() if session is not None else None
    return proof.to_bytes(), claim.point, claim.values, tail, used


@pytest.mark.parametrize("k", [1, 2, 3, 8, 11])
@pytest.mark.parametrize("kind", ["sparse", "dense", "cheat", "top"])
@pytest.mark.parametrize("zero_knowledge", [False, True], ids=["plain", "zk"])
def test_zero_check_matches_generic_prover(k, kind, zero_knowledge):
    rng = np.random.default_rng(100 * k + len(kind))
    m = _m(rng, k, kind)
    r = [Fp2(int(a), int(b)) for a, b in random_ext(k)]
    bank = random_ext(8 * k + 64) if zero_knowledge else None
    assert _run(r, m, bank, True) == _run(r, m, bank, False)


def test_zero_check_run_rounds_match_generic_run():
    """Round by round, before the transcript: the sparse run's evaluations,
    pairs and finals are the generic run's."""
    rng = np.random.default_rng(7)
    k = 9
    m = _m(rng, k, "sparse")
    r = [Fp2(int(a), int(b)) for a, b in random_ext(k)]
    spec = uniqueness_spec()
    fast, slow = sparse.ZeroCheckRun(r, m, spec), sumcheck_prover._GenericRun([eq_table(r), m], spec)
    assert fast.first_round() == slow.first_round()
    for j, s in enumerate(random_ext(k - 1)):
        s = Fp2(int(s[0]), int(s[1]))
        assert fast.fold_and_next(s, last=j == k - 2) == slow.fold_and_next(s, last=j == k - 2)
    assert fast.pairs() == slow.pairs()


def _layer_tables(rng, h, nnz):
    """p_L, p_R sparse (about nnz entries each, extension values), q dense."""
    tabs = [np.zeros((h, 2), dtype=U64) for _ in range(2)]
    for t in tabs:
        at = rng.choice(h, nnz, replace=False)
        t[at] = random_ext(nnz)
    tabs[0][h - 1] = random_ext(1)[0]  # the last pair's right end
    return tabs + [random_ext(h), random_ext(h)]


def _layer_run(prove, rho, tables, lam, bank):
    from zkaudit.lookup.protocol import layer_spec

    t = Transcript()
    t.absorb_statement("consent-sparse-test", 1, digests={"case": b"gkr-layer".ljust(32, b"\0")})
    session = None
    if bank is not None:
        session = ZkProver({ADVICE: bank.shape[0]}, {ADVICE: bank})
        t.zk = session
    claimed = Fp2(123456789, 987654321)  # any claim: the rounds are the tables' own either way
    proof, claim, _ = prove(rho, tables, layer_spec(lam), t, claimed_sum=claimed)
    tail = t.challenge_ext(b"test/after")
    return proof.to_bytes(), claim.point, claim.values, tail, session.banks_used() if session else None


@pytest.mark.parametrize("nnz", [1, 40, 400])
@pytest.mark.parametrize("zero_knowledge", [False, True], ids=["plain", "zk"])
def test_sparse_layer_matches_fused(monkeypatch, nnz, zero_knowledge):
    from zkaudit.lookup import gkr

    monkeypatch.setattr(sparse, "SPARSE_MIN_PAIRS", 4)  # small layers take the sparse path too
    rng = np.random.default_rng(nnz)
    h = 1 << 12
    tables = _layer_tables(rng, h, nnz)
    rho = [Fp2(int(a), int(b)) for a, b in random_ext(12)]
    lam = Fp2(int(random_ext(1)[0, 0]), 5)
    bank = random_ext(200) if zero_knowledge else None
    called = []
    monkeypatch.setattr(sparse, "SparseLayerRun", _spy(sparse.SparseLayerRun, called))
    fast = _layer_run(sparse.layer_prove, rho, tables, lam, bank)
    assert called, "the sparse path did not run"
    assert fast == _layer_run(gkr.fused_layer_prove, rho, tables, lam, bank)


def _spy(cls, called):
    def make(*args, **kwargs):
        called.append(1)
        return cls(*args, **kwargs)

    return make


def test_sparse_layer_serial_and_parallel_kernels(monkeypatch):
    """Layers above and below the kernels' serial cut (SERIAL_PAIRS)."""
    from zkaudit.lookup import gkr

    monkeypatch.setattr(sparse, "SPARSE_MIN_PAIRS", 4)
    rng = np.random.default_rng(9)
    for h in (8, 1 << 13):
        tables = _layer_tables(rng, h, max(1, h // 64))
        rho = [Fp2(int(a), int(b)) for a, b in random_ext(h.bit_length() - 1)]
        lam = Fp2(3, 4)
        assert _layer_run(sparse.layer_prove, rho, tables, lam, None) == _layer_run(gkr.fused_layer_prove, rho,
                                                                                    tables, lam, None)


@pytest.mark.parametrize("zero_knowledge", [False, True], ids=["plain", "zk"])
def test_committed_table_proof_unchanged_by_sparse_hooks(monkeypatch, zero_knowledge):
    """The whole LogUp against a committed table: the consent prover's hooks
    (sparse layers, sparse m~) give the dense prover's bytes and claims."""
    from zkaudit.lookup import committed_table_prover
    from zkaudit.lookup.committed_table import CommittedTableInstance

    monkeypatch.setattr(sparse, "SPARSE_MIN_PAIRS", 4)
    rng = np.random.default_rng(11)
    k, n = 12, 6
    hi, lo = _table(rng, 3000, k)
    pick = rng.choice(3000, 50, replace=False)
    ids = [np.zeros(1 << n, dtype=U64), np.zeros(1 << n, dtype=U64)]
    ids[0][:50], ids[1][:50] = hi[pick], lo[pick]
    valid = np.zeros(1 << n, dtype=U64)
    valid[:50] = 1
    ids[0][50:], ids[1][50:] = hi[0], lo[0]  # padding rows hold a real ID, numerator 0
    m = sparse.multiplicities(ids, valid, [hi, lo], 3000)
    inst = CommittedTableInstance(2, n, k, 3000)
    bank = random_ext(4000) if zero_knowledge else None

    def run(**hooks):
        t = Transcript()
        t.absorb_statement("consent-sparse-test", 1, digests={"case": b"committed-table".ljust(32, b"\0")})
        session = ZkProver({ADVICE: bank.shape[0]}, {ADVICE: bank}) if zero_knowledge else None
        t.zk = session
        proof, claims = committed_table_prover.prove(inst, ids, valid, [hi, lo], m, t, **hooks)
        pub = lambda c: (c.point, session.value(c.value) if session else c.value)  # noqa: E731
        return (proof.to_bytes(), [pub(c) for c in claims.table_columns], pub(claims.multiplicities),
                t.challenge_ext(b"test/after"))

    # a per-tree layer prover makes a zero-knowledge run prove its trees one after the other (version 2,
    # `committed_table.py`): the dense reference is the default layer prover given the same way
    from zkaudit.lookup import gkr

    dense = run(layer_prove=gkr.fused_layer_prove) if zero_knowledge else run()
    assert run(layer_prove=sparse.layer_prove, evaluate_multiplicities=sparse.sparse_evaluate) == dense


@pytest.mark.parametrize("zero_knowledge", [True, False], ids=["zk", "plain"])
def test_consent_proof_on_the_sparse_paths(monkeypatch, zero_knowledge):
    """A whole consent proof with every table-tree layer on the sparse path
    (thresholds lowered to this small table): the honest proof verifies; a
    prover claiming a record twice under --unique-ids (m_j = 2) is refused,
    as is one that drops a record from m (the LogUp no longer balances)."""
    import secrets

    import pyarrow as pa

    from zkaudit.data.consent_table import commit_consent_table
    from zkaudit.data.dataset import commit_dataset
    from zkaudit.errors import ProofRejected
    from zkaudit.statements.consent.prover import prove_consent
    from zkaudit.statements.consent.verifier import verify_consent

    monkeypatch.setattr(sparse, "SPARSE_MIN_PAIRS", 4)
    called = []
    monkeypatch.setattr(sparse, "SparseLayerRun", _spy(sparse.SparseLayerRun, called))
    table_ids = [secrets.token_hex(16) for _ in range(3000)]
    tb, top, _ = commit_consent_table(table_ids, issuer="irb-a", purpose="train:sepsis", version=1)
    schema = {"columns": [{"name": "patient", "type": "id"}, {"name": "age", "type": "int", "min": 0, "max": 120}],
              "id_column": "patient", "population": "synthetic"}
    patients = [table_ids[i] for i in range(0, 3000, 97)]
    ds, dop = commit_dataset({"patient": pa.array(patients), "age": pa.array(["40"] * len(patients))}, schema)
    proof = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zero_knowledge)
    assert called
    assert verify_consent(proof, dataset=ds, table=tb, unique_ids=True).output["zero_knowledge"] is zero_knowledge
    hi, lo = ds.schema.id_polynomials()
    m = sparse.multiplicities([dop.polys[hi], dop.polys[lo]], dop.polys[-1], [top.hi, top.lo], tb.num_rows)
    j = int(np.flatnonzero(m)[0])
    for cheat in (2, 0):
        bad = m.copy()
        bad[j] = U64(cheat)
        forged = prove_consent(ds, dop, tb, top, unique_ids=True, zero_knowledge=zero_knowledge, multiplicities=bad)
        with pytest.raises(ProofRejected):
            verify_consent(forged, dataset=ds, table=tb, unique_ids=True)
    # a real duplicate: the LogUp balances with m_j = 2, only the (sparse) uniqueness zero-check refuses it
    dup, dup_open = commit_dataset({"patient": pa.array(patients + patients[:1]),
                                    "age": pa.array(["40"] * (len(patients) + 1))}, schema)
    m = sparse.multiplicities([dup_open.polys[hi], dup_open.polys[lo]], dup_open.polys[-1], [top.hi, top.lo],
                              tb.num_rows)
    assert int(m.max()) == 2
    loose = prove_consent(dup, dup_open, tb, top, unique_ids=False, zero_knowledge=zero_knowledge)
    verify_consent(loose, dataset=dup, table=tb, unique_ids=False)
    forged = prove_consent(dup, dup_open, tb, top, unique_ids=True, zero_knowledge=zero_knowledge, multiplicities=m)
    with pytest.raises(ProofRejected):
        verify_consent(forged, dataset=dup, table=tb, unique_ids=True)
