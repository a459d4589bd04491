"""An adversarial review of the chunked training proof (`statements/training/chunked.py`).

Each test is one attack by a malicious prover on a chunked run (6 steps in
chunks of 2: K = 3 chunks, chunk index on 2 variables, so one sub-cube of
the tape and one boundary row are padding) and asserts that the forged
proof is refused with a `ProofRejected`. The values attacked are the ones
the prover chooses: the chunk blobs and the closing part (spliced from
another proof of the same run or from another run, reordered, their
messages dropped, repeated or cut, their commitments misdeclared), G's
tables (the boundary rows, thetaT and the hash link, the mirrors, the
bank's size), the trace (another theta_0, a state jump, a last chunk that
stops early, steps run with another chunk's randomness), the training data
behind an honest or a forged mirror, and an MLP run's theta_T through the
wiring sum-check. The last tests take the zero-knowledge sum-check's mask
from another bank (`MASK_BANK`): complete, sound, and bound to the bank
the verifier reads."""

from __future__ import annotations

import dataclasses
import inspect
import sys
import types
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))
from test_training_attacks import Case, _evil_train  # noqa: E402
from test_training_proof import forget_proofs, make_run  # noqa: E402
from test_training_chunked import _parts  # noqa: E402

from zkaudit.errors import MalformedProof, ProofRejected  # noqa: E402
from zkaudit.field.hidden import Hidden  # noqa: E402
from zkaudit.field.randomness import random_base  # noqa: E402
from zkaudit.field.scalar import Fp2  # noqa: E402
from zkaudit.pcs.proof import Commitment  # noqa: E402
from zkaudit.statements.envelope import encode_envelope  # noqa: E402
from zkaudit.statements.training import chunked_prover  # noqa: E402
from zkaudit.statements.training import protocol as pr  # noqa: E402
from zkaudit.statements.training import witness as wt  # noqa: E402
from zkaudit.statements.training.run_proof import prove_training  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402
from zkaudit.sumcheck import SumOfProducts, prover, verifier  # noqa: E402
from zkaudit.sumcheck.errors import SumcheckRejected  # noqa: E402
from zkaudit.sumcheck.proof import SumcheckProof  # noqa: E402
from zkaudit.sumcheck.zk import MASK_BANK, DeferredCheckFailed, ZkProver, ZkSession, bank_claim  # noqa: E402
from zkaudit.train import randomness  # noqa: E402
from zkaudit.train.run import load_run, read_coin  # noqa: E402
from zkaudit.train.tape import TapeShape  # noqa: E402
from zkaudit.transcript import Transcript  # noqa: E402

CHUNK = 2  # 6 steps: K = 3 chunks of 2


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("train-chunked-review"), proving={"chunk_steps": CHUNK})


def _honest(run_dir) -> bytes:
    forget_proofs(run_dir)
    run = load_run(run_dir / "RUN")
    return prove_training(run, read_coin(run_dir / "RUN" / "coin.json"))


@pytest.fixture(scope="module")
def two_honest(run_dir):
    """Two honest proofs of the one run (each with its own G, bank and randomness)."""
    return _honest(run_dir), _honest(run_dir)


@pytest.fixture(scope="module")
def case(run_dir):
    from zkaudit.train.run import coin_words

    run = load_run(run_dir / "RUN")
    coin = read_coin(run_dir / "RUN" / "coin.json")
    return Case(run, coin, coin_words(run, coin, run.tape()))




def _encode(parts: list[bytes], chunks: list[bytes] | None = None) -> bytes:
    if chunks is not None:
        parts = parts[:3] + [pr.pack(chunks)] + parts[4:]
    return encode_envelope(pr.STATEMENT, pr.pack(parts))


def _rejected(c: Case, proof: bytes) -> ProofRejected:
    with pytest.raises(ProofRejected) as info:
        verify_training(proof, run_record=c.run.record, coin_doc=c.coin)
    return info.value


def _prove(c: Case, trace, *, commit_theta=None, X=None, opening=None, words=None, g_hook=None) -> bytes:
    """The chunked prover on a forged witness. `commit_theta`: what c_theta,
    G's thetaT and the hash link hold (default the trace's last row);
    `words`: per-step (tape, mask) words the chunks are proven with (the
    tape commitment stays the run's); `g_hook(tables)`: edits G's tables in
    place before they are committed (the prover then proves with them)."""
    from zkaudit.data.dataset import load_dataset
    from zkaudit.hash import commitment as hc
    from zkaudit.statements.training import prover as one_piece
    from zkaudit.statements.training.protocol import theta_layouts
    from zkaudit.statements.training.run_proof import statement
    from zkaudit.train import tape

    run, policy = c.run, c.policy
    record, _, real_opening = load_dataset(Path(run.dataset_dir()), with_opening=True)
    t = run.tape()
    shape = TapeShape.of(policy)
    coin = randomness.verify_coin(run.auditor_public_key, run.run_id, bytes.fromhex(c.coin["signature"]))
    mask = randomness.mask(coin, run.tape_commitment, policy.digest, shape.num_words)
    tc, tdata = tape.commit(t.words, t.salt, shape)
    final = trace.theta[-1] if commit_theta is None else commit_theta
    c_theta, salt = hc.commit_weights(theta_layouts(policy), [final], hc.fresh_salt())
    st = statement(run, c.coin, record.doc, c_theta.to_bytes(), 0)
    tape_words, mask_words = (t.words, mask) if words is None else words(np.asarray(t.words), np.asarray(mask))
    told = trace
    if commit_theta is not None:  # prove() builds thetaT, the link and boundary row K from the last row it is told
        theta = trace.theta.copy()
        theta[-1] = commit_theta
        told = dataclasses.replace(trace, theta=theta)
    inp = one_piece.Inputs(policy=policy, sem=c.sem, statement=st, dataset=record, dataset_use=0,
                           dataset_opening=opening or real_opening, tape_words=tape_words, tape_seed=t.salt,
                           tape_commitment=tc, tape_data=tdata, mask_words=mask_words, trace=told,
                           X=c.X if X is None else X, y=c.y, theta_commitment=c_theta.to_bytes(),
                           theta_salt=salt, theta0=trace.theta[0])
    inp.tape_tables = shape.split(t.words)  # the closing part combines claims on the committed tape
    real_slice, real_pcs = chunked_prover.slice_trace, chunked_prover.pcs
    first = []

    def commit(tables, params, **kw):
        if not first:  # the first commitment prove() makes is G's
            first.append(True)
            if g_hook is not None:
                g_hook(tables)
        return real_pcs.commit(tables, params, **kw)

    chunked_prover.slice_trace = lambda _, s0, s1: real_slice(trace, s0, s1)  # the chunks see the real rows
    chunked_prover.pcs = types.SimpleNamespace(commit=commit, open=real_pcs.open)
    # the hooks live in this process: the chunks are proven here, not side by side in workers
    one_process = {"workers": 1} if "workers" in inspect.signature(chunked_prover.prove).parameters else {}
    try:
        return chunked_prover.prove(inp, **one_process)
    finally:
        chunked_prover.slice_trace, chunked_prover.pcs = real_slice, real_pcs


def _row(c: Case, theta) -> np.ndarray:
    """A theta vector in G's boundary layout (one row of 2^c field elements)."""
    shape = TapeShape.of(c.policy)
    row = np.zeros(1 << c.plan.c, dtype=np.int64)
    row[shape.positions] = theta
    return chunked_prover._field(row)


# --- the harness itself ----------------------------------------------------------------

def test_the_review_harness_proves_the_honest_trace(case):
    """Without a forgery the adversary's prover (with its hooks idle) is honest: the proof verifies,
    so every rejection below is the forgery's."""
    proof = _prove(case, _evil_train(case), g_hook=lambda tables: None)
    assert verify_training(proof, run_record=case.run.record, coin_doc=case.coin).soundness_bits >= 100


# --- chunks and closing part from elsewhere ---------------------------------------------

@pytest.mark.parametrize("what", ["chunk 0", "chunk 1", "chunk 2", "every chunk", "closing part",
                                  "closing part and openings"])
def test_pieces_spliced_from_another_proof_of_the_same_run(case, two_honest, what):
    """Attack: a chunk proof (or the closing part) taken from a second honest proof of
    the same run, which committed its own G. Each piece is valid where it came from;
    the chunk transcripts bind G's commitment and the closing one the chunks' bytes."""
    a, b = (_parts(p) for p in two_honest)
    (pa, ca), (pb, cb) = a, b
    for p in two_honest:
        verify_training(p, run_record=case.run.record, coin_doc=case.coin)  # both honest proofs verify
    if what.startswith("chunk "):
        k = int(what[-1])
        forged = _encode(pa, ca[:k] + [cb[k]] + ca[k + 1:])
    elif what == "every chunk":
        forged = _encode(pa, cb)
    elif what == "closing part":
        forged = _encode(pa[:4] + [pb[4]] + pa[5:])
    else:
        forged = _encode(pa[:4] + pb[4:])
    _rejected(case, forged)


@pytest.fixture(scope="module")
def other_run_proof(tmp_path_factory):
    """An honest proof of another run of the same policy (its own dataset commitment, coin and tape)."""
    return _honest(make_run(tmp_path_factory.mktemp("train-chunked-review-other"), proving={"chunk_steps": CHUNK}))


@pytest.mark.parametrize("what", ["chunk 1", "closing part and openings", "G and the chunks"])
def test_pieces_from_another_run(case, two_honest, other_run_proof, what):
    """Attack: a chunk (or the closing part, or G with every chunk) taken from an honest proof
    of another run of the same policy, spliced into this run's proof."""
    pa, ca = _parts(two_honest[0])
    po, co = _parts(other_run_proof)
    if what == "chunk 1":
        forged = _encode(pa, ca[:1] + [co[1]] + ca[2:])
    elif what == "closing part and openings":
        forged = _encode(pa[:4] + po[4:])
    else:
        forged = _encode(pa[:1] + [po[1]] + pa[2:], co)
    _rejected(case, forged)


@pytest.mark.parametrize("order", [(1, 2, 0), (2, 0, 1), (0, 2, 1), (1, 1, 2), (0, 1, 1)])
def test_chunks_permuted_or_one_replayed_at_another_index(case, two_honest, order):
    """Attack: chunk proofs moved to other indices (rotations, a swap, one chunk standing
    in for its neighbour). A chunk's index is in its transcript and in its carried points."""
    parts, chunks = _parts(two_honest[0])
    _rejected(case, _encode(parts, [chunks[k] for k in order]))


def _items(blob: bytes) -> list[bytes]:
    b = pr.Blobs(blob)
    out = []
    while b.offset < len(b.data):
        out.append(b.next("item"))
    return out


def _edit(items: list[bytes], how: str, j: int) -> list[bytes]:
    if how == "drop":
        return items[:j] + items[j + 1:]
    if how == "repeat":
        return items[:j + 1] + items[j:]
    if how == "truncate":
        return items[:j] + [items[j][:-1]] + items[j + 1:]
    return items[:j] + [b""] + items[j + 1:]  # empty


@pytest.mark.parametrize("how", ["drop", "repeat", "truncate", "empty"])
@pytest.mark.parametrize("where", ["chunk 1 first", "chunk 1 last", "closing first", "closing middle",
                                   "closing last"])
def test_stream_elements_dropped_repeated_or_cut(case, two_honest, where, how):
    """Attack on the verifier's parsing: one message of a chunk's stream or of the closing
    stream dropped, sent twice, cut short or emptied. Refused with a ProofRejected (the
    verifier trusts no count or length the proof gives; it never crashes)."""
    parts, chunks = _parts(two_honest[0])
    if where.startswith("chunk"):
        adv, stream, opening = _items(chunks[1])
        items = _items(stream)
        j = 0 if where.endswith("first") else len(items) - 1
        chunks = chunks[:1] + [pr.pack([adv, pr.pack(_edit(items, how, j)), opening])] + chunks[2:]
        forged = _encode(parts, chunks)
    else:
        items = _items(parts[4])
        j = {"first": 0, "middle": len(items) // 2, "last": len(items) - 1}[where.split()[1]]
        forged = _encode(parts[:4] + [pr.pack(_edit(items, how, j))] + parts[5:])
    _rejected(case, forged)


@pytest.mark.parametrize("table", ["first", "bank"])
@pytest.mark.parametrize("nv", [0, 40])
def test_chunk_advice_commitment_misdeclared(case, two_honest, table, nv):
    """Attack: chunk 0's advice commitment declares a table (its first, or its bank) of
    another size, up to 2^40 entries: refused on shape or by the transcript it is bound
    to, without the verifier sizing anything by the declared count."""
    parts, chunks = _parts(two_honest[0])
    adv, stream, opening = _items(chunks[0])
    c = Commitment.from_bytes(adv)
    nvs = list(c.num_vars)
    nvs[0 if table == "first" else -1] = nv
    forged_c = dataclasses.replace(c, num_vars=tuple(nvs)).to_bytes()
    _rejected(case, _encode(parts, [pr.pack([forged_c, stream, opening])] + chunks[1:]))


# --- G's shape ---------------------------------------------------------------------------

@pytest.mark.parametrize("bank_vars", [1, 2, 3])
def test_g_bank_smaller_than_every_chunks_pads(case, two_honest, bank_vars):
    """Attack: G's commitment declares a bank with fewer than K * per_chunk entries, so the
    closing part's pads would reuse (or overrun into) the chunks' entries. Refused on G's shape."""
    parts, _ = _parts(two_honest[0])
    g = Commitment.from_bytes(parts[1])
    forged = dataclasses.replace(g, num_vars=g.num_vars[:-1] + (bank_vars,))
    err = _rejected(case, _encode(parts[:1] + [forged.to_bytes()] + parts[2:]))
    assert isinstance(err, MalformedProof) and "bank" in str(err), err


@pytest.mark.parametrize("how", ["boundary one row short", "a mirror too small", "a table dropped"])
def test_g_commitment_not_the_chunkings_tables(case, two_honest, how):
    """Attack: a G commitment whose declared tables are not the layout's (fewer boundary
    rows than K + 1, a mirror smaller than the dataset, one table missing)."""
    parts, _ = _parts(two_honest[0])
    g = Commitment.from_bytes(parts[1])
    nv = list(g.num_vars)
    if how == "boundary one row short":
        nv[0] -= 1
    elif how == "a mirror too small":
        nv[1] -= 1
    else:
        del nv[1]
    forged = dataclasses.replace(g, num_vars=tuple(nv))
    err = _rejected(case, _encode(parts[:1] + [forged.to_bytes()] + parts[2:]))
    assert isinstance(err, MalformedProof), err


# --- the run's ends ---------------------------------------------------------------------

def test_another_theta0(case):
    """Attack: training starts from theta_0 + 5 e_0 (every step the honest update from
    there; chunk 0 starts at the changed theta_0, which G's boundary row 0 holds).
    The closing part's exact claim of boundary row 0 against the policy's theta_0 fails."""
    from zkaudit.train.trainer import initial_theta

    theta0 = initial_theta(case.policy).copy()
    theta0[0] += 5
    err = _rejected(case, _prove(case, _evil_train(case, theta0=theta0)))
    assert err.where is not None


@pytest.mark.parametrize("boundary_row_K", ["the trained theta_T", "the committed theta"])
def test_theta_T_other_than_the_committed_one(case, boundary_row_K):
    """Attack: c_theta (with G's thetaT and the hash link) holds theta_T + 3 e_0 while the
    chunks train honestly to theta_T. Boundary row K is either the trained theta_T
    (chunk K - 1 agrees; the closing part's boundary(K) = thetaT fails) or the committed
    theta (thetaT agrees; chunk K - 1's end check fails)."""
    tr = _evil_train(case)
    fake = tr.theta[-1].copy()
    fake[0] += 3
    K = TapeShape.of(case.policy).num_chunks

    def hook(tables):
        if boundary_row_K == "the trained theta_T":
            tables[0].reshape(-1, 1 << case.plan.c)[K] = _row(case, tr.theta[-1])

    err = _rejected(case, _prove(case, tr, commit_theta=fake, g_hook=hook))
    assert err.where is not None


@pytest.mark.parametrize("k", [0, 1])
def test_state_jump_with_both_boundary_claims_on_one_row(case, k):
    """Attack: a state jump after chunk k where G's boundary row k + 1 holds the jumped
    state and chunk k's last row is rewritten to it (so chunk k ends where chunk k + 1
    starts). Chunk k's last update is then not the DP-SGD step: its gates fail."""
    jumped = _evil_train(case, jump=lambda t, th: th + 40 * (np.arange(th.shape[0]) == 1)
                         if t == CHUNK * (k + 1) - 1 else th)
    real_check = wt.check_gates
    wt.check_gates = lambda plan, cols: None  # the malicious prover proves a witness that breaks a gate
    try:
        err = _rejected(case, _prove(case, jumped))
    finally:
        wt.check_gates = real_check
    assert err.where is not None


def test_last_chunk_stops_a_step_early(case):
    """Attack: the run's last step is skipped (theta_T := theta_(T-1), c_theta commits it):
    the last chunk's final row repeats the row before it while its tape still draws noise."""
    tr = _evil_train(case)
    theta = tr.theta.copy()
    theta[-1] = theta[-2]
    early = dataclasses.replace(tr, theta=theta)
    real_check = wt.check_gates
    wt.check_gates = lambda plan, cols: None
    try:
        err = _rejected(case, _prove(case, early))
    finally:
        wt.check_gates = real_check
    assert err.where is not None


# --- an MLP run: theta_T reaches c_theta through the wiring sum-check -------------------

@pytest.fixture(scope="module")
def mlp_case(tmp_path_factory):
    """An MLP 30-3-1 run in chunks of 2 (b2 in the padding unit's row of w~2)."""
    from zkaudit.train.run import coin_words

    d = make_run(tmp_path_factory.mktemp("train-chunked-review-mlp"), model={"family": "mlp", "hidden": [3]},
                 init={"kind": "seeded", "seed": "00"}, proving={"chunk_steps": CHUNK})
    run = load_run(d / "RUN")
    coin = read_coin(d / "RUN" / "coin.json")
    return Case(run, coin, coin_words(run, coin, run.tape()))


def _mlp_trace(c: Case):
    from zkaudit.train.run import load_trace

    return load_trace(c.run.path / "private" / "trace.npz")


def test_mlp_harness_proves_the_honest_trace(mlp_case):
    """The review harness on the MLP run's honest trace: the chunked proof verifies (no other
    test proves a chunked MLP run), so the MLP rejections below are the forgeries'."""
    proof = _prove(mlp_case, _mlp_trace(mlp_case), g_hook=lambda tables: None)
    assert verify_training(proof, run_record=mlp_case.run.record, coin_doc=mlp_case.coin).soundness_bits >= 100


@pytest.mark.parametrize("param", ["W1[0, 0]", "b2"])
@pytest.mark.parametrize("boundary_row_K", ["the trained theta_T", "the committed theta"])
def test_mlp_theta_T_other_than_the_committed_one(mlp_case, param, boundary_row_K):
    """Attack (MLP): c_theta, G's thetaT and the hash link hold theta_T with one parameter
    moved by 3 (W1's first entry, or b2, which sits off the regular grid of w~2), while
    the chunks train honestly. With boundary row K the trained theta_T, the closing
    part's wiring sum-check thetaT(r) = sum_s M(r, s) boundary(K, s) fails; with it the
    committed theta, chunk K - 1's end check fails."""
    tr = _mlp_trace(mlp_case)
    fake = tr.theta[-1].copy()
    fake[0 if param == "W1[0, 0]" else -1] += 3
    K = TapeShape.of(mlp_case.policy).num_chunks

    def hook(tables):
        if boundary_row_K == "the trained theta_T":
            tables[0].reshape(-1, 1 << mlp_case.plan.c)[K] = _row(mlp_case, tr.theta[-1])

    err = _rejected(mlp_case, _prove(mlp_case, tr, commit_theta=fake, g_hook=hook))
    assert err.where is not None


# --- the data and the randomness --------------------------------------------------------

def _changed_record(case):
    tr = _evil_train(case)
    ts, js = np.nonzero(tr.live)
    i = int(tr.index[ts[0], js[0]])  # a record step 0 reads
    X = case.X.copy()
    X[i, 0] = -X[i, 0] if X[i, 0] else 64
    return i, X


def _prove_with_data(case, *, g_data: str, chunk_data: str, closing_data: str) -> bytes:
    """A run trained on a changed record, each part of the prover reading the
    "changed" or the "real" dataset columns: G's mirrors are built from
    `g_data`, the chunks fetch and re-pad on `chunk_data`, the closing part's
    mirror check reads `closing_data` (the dataset opening is the real one)."""
    from zkaudit.data.dataset import load_dataset
    from zkaudit.statements.training.protocol import dataset_indices

    record, _, real = load_dataset(Path(case.run.dataset_dir()), with_opening=True)
    feat_idx, _ = dataset_indices(record, case.policy)
    i, X = _changed_record(case)
    changed = real.polys.copy()
    changed[feat_idx[0], i] = int(X[i, 0]) % ((1 << 64) - (1 << 32) + 1)
    phase = {"now": g_data}

    class Phased:
        @property
        def polys(self):
            return changed if phase["now"] == "changed" else real.polys

        def __getattr__(self, name):
            return getattr(real, name)

    def g_hook(tables):
        phase["now"] = chunk_data

    real_close = chunked_prover._close

    def close(*args, **kw):
        phase["now"] = closing_data
        return real_close(*args, **kw)

    chunked_prover._close = close
    try:
        return _prove(case, _evil_train(case, X=X), X=X, opening=Phased(), g_hook=g_hook)
    finally:
        chunked_prover._close = real_close


def test_record_not_in_the_dataset_behind_an_honest_mirror(case):
    """Attack: the chunks train on a changed record (their fetch and re-pad read it) while
    G's mirror, the closing part and the dataset opening are the real dataset: the chunks'
    re-padded claims on the mirror are false, and G's opening refuses them."""
    err = _rejected(case, _prove_with_data(case, g_data="real", chunk_data="changed", closing_data="real"))
    assert err.where is not None


def test_record_not_in_the_dataset_through_the_mirror_only(case):
    """Attack: G's mirror and every chunk hold a changed record, but the closing part
    proves the mirror check against the real dataset (which the dataset opening opens):
    sum_x eq(z, x) (D(x) - M(x)) = 0 is claimed for a mirror that is not the dataset."""
    err = _rejected(case, _prove_with_data(case, g_data="changed", chunk_data="changed", closing_data="real"))
    assert err.where is not None


def test_steps_run_with_another_chunks_randomness(case):
    """Attack: chunks 0 and 1 trade their steps' randomness (the batches and noise of
    steps 2-3 are used at steps 0-1 and back), each chunk proven consistently with the
    words it used; the tape commitment is the run's. The public mask of chunk k's steps
    and the tape's sub-cube k are the verifier's own: refused."""
    perm = np.array([2, 3, 0, 1, 4, 5])
    W = TapeShape.of(case.policy).words_per_step
    permuted = types.SimpleNamespace(**vars(case))
    permuted.words = np.asarray(case.words).reshape(-1, W)[perm].reshape(-1)
    tr = _evil_train(permuted)

    def words(tape_words, mask):
        return tuple(w.reshape(-1, W)[perm].reshape(-1) for w in (tape_words, mask))

    _rejected(case, _prove(case, tr, words=words))


# --- MASK_BANK: a sum-check's mask from another bank ------------------------------------

REPAD = SumOfProducts.product(2)
BANKS = {"advice": 200, "tape": 200}


def _t(zk) -> Transcript:
    t = Transcript()
    t.absorb_statement("test/chunked-review/mask-bank", 1)
    t.zk = zk
    return t


def _hidden_claim(zp: ZkProver, tables, n) -> Hidden:
    """The true sum of T * E, sent padded with an entry of the tape bank (as a carried claim is)."""
    a, b = (np.asarray(x, dtype=np.uint64) for x in tables)
    total = Fp2(0)
    for x, y in zip(a.tolist(), b.tolist()):
        total = total + Fp2(int(x)) * Fp2(int(y))
    _, hidden = zp.pad(total, "tape")
    return hidden


def _session_pair():
    zp = ZkProver(dict(BANKS))
    zv = ZkSession(dict(BANKS))
    return zp, zv


def test_mask_from_the_tape_bank_is_complete_and_stays_in_one_bank():
    """A Hidden claim on the tape bank proven with MASK_BANK = tape: every deferred check is
    on the tape bank alone (so it folds into the tape's opening) and holds."""
    n = 4
    tables = [random_base(1 << n), random_base(1 << n)]
    zp, zv = _session_pair()
    claimed = _hidden_claim(zp, tables, n)
    zv.take(1, "tape")
    bank = {0: "tape", MASK_BANK: "tape"}
    proof, _, _ = prover.prove(tables, REPAD, _t(zp), claimed_sum=claimed, public=(1,), pad_bank=bank)
    verifier.verify(SumcheckProof.from_bytes(proof.to_bytes()), claimed, n, REPAD, _t(zv), public=(1,),
                    pad_bank=bank)
    assert zv.checks and all({k[0] for k, _ in c.terms} == {"tape"} for c in zv.checks)
    assert all(zp.value(c) == Fp2(0) for c in zv.checks)
    assert zv.cursors["advice"].used == 0 and zv.cursors["tape"].used == zp.cursors["tape"].used
    assert bank_claim(zv, "tape", _t(ZkSession({}))) is not None


def test_a_false_claim_with_the_mask_from_the_tape_bank_is_caught():
    """Attack: a claimed sum off by one, proven with its mask on the tape bank: it fails on
    the spot or leaves a deferred check the tape's opening refuses."""
    n = 4
    tables = [random_base(1 << n), random_base(1 << n)]
    zp, zv = _session_pair()
    claimed = _hidden_claim(zp, tables, n) + 1
    zv.take(1, "tape")
    bank = {0: "tape", MASK_BANK: "tape"}
    proof, _, _ = prover.prove(tables, REPAD, _t(zp), claimed_sum=claimed, public=(1,), pad_bank=bank)
    try:
        verifier.verify(proof, claimed, n, REPAD, _t(zv), public=(1,), pad_bank=bank)
    except SumcheckRejected:
        return
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)


def test_a_mask_drawn_from_another_bank_than_the_verifier_reads():
    """Attack: the prover draws the mask from the advice bank (whose entries it could choose
    freely later in a protocol that opens that bank elsewhere) while the verifier reads it
    from the tape bank: the deferred check, evaluated on the banks as committed, fails."""
    n = 4
    tables = [random_base(1 << n), random_base(1 << n)]
    zp, zv = _session_pair()
    claimed = _hidden_claim(zp, tables, n)
    zv.take(1, "tape")
    proof, _, _ = prover.prove(tables, REPAD, _t(zp), claimed_sum=claimed, public=(1,), pad_bank={0: "tape"})
    try:
        verifier.verify(proof, claimed, n, REPAD, _t(zv), public=(1,), pad_bank={0: "tape", MASK_BANK: "tape"})
    except SumcheckRejected:
        return
    assert any(zp.value(c) != Fp2(0) for c in zv.checks)


def test_a_tape_claim_with_the_default_mask_spans_two_banks_and_is_refused():
    """Why MASK_BANK exists: a Hidden claim on the tape bank with the mask from the advice
    bank leaves an end check over two banks, which no single opening can discharge:
    bank_claim refuses it (a typed rejection, not a crash)."""
    n = 3
    tables = [random_base(1 << n), random_base(1 << n)]
    zp, zv = _session_pair()
    claimed = _hidden_claim(zp, tables, n)
    zv.take(1, "tape")
    proof, _, _ = prover.prove(tables, REPAD, _t(zp), claimed_sum=claimed, public=(1,), pad_bank={0: "tape"})
    verifier.verify(proof, claimed, n, REPAD, _t(zv), public=(1,), pad_bank={0: "tape"})
    with pytest.raises(DeferredCheckFailed):
        bank_claim(zv, "tape", _t(ZkSession({})))
