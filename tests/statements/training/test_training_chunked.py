"""Chunked training proofs (`statements/training/chunked.py`): the tape laid
out by chunk, the policy's choice and the automatic one, an honest chunked
proof (its last chunk shorter) that verifies with >= 100 bits, and a
malicious prover that keeps every chunk consistent but breaks what ties them:
chunks reordered, repeated or dropped, a state jump between chunks (either
side of the committed boundary row), a dataset mirror that is not the
dataset, and changed bytes anywhere in a chunk or the closing part."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "train"))
from test_training_attacks import Case, _evil_train  # noqa: E402
from test_training_proof import forget_proofs, make_run  # noqa: E402
from train_helpers import policy_doc  # noqa: E402

from zkaudit.errors import ProofRejected  # noqa: E402
from zkaudit.statements.envelope import encode_envelope, parse_envelope  # noqa: E402
from zkaudit.statements.training import chunked_prover  # noqa: E402
from zkaudit.statements.training import protocol as pr  # noqa: E402
from zkaudit.statements.training.run_proof import prove_training  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402
from zkaudit.train import randomness  # noqa: E402
from zkaudit.train.errors import PolicyError  # noqa: E402
from zkaudit.train.policy import Policy, example_policy  # noqa: E402
from zkaudit.train.run import load_run, read_coin  # noqa: E402
from zkaudit.train.tape import TapeShape  # noqa: E402

CHUNK = 4  # 6 steps: chunks of 4 and 2 (the last one shorter)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return make_run(tmp_path_factory.mktemp("train-chunked"), proving={"chunk_steps": CHUNK})


@pytest.fixture(scope="module")
def honest(run_dir):
    forget_proofs(run_dir)
    run = load_run(run_dir / "RUN")
    return prove_training(run, read_coin(run_dir / "RUN" / "coin.json"))


def _parts(proof: bytes) -> tuple[list[bytes], list[bytes]]:
    """(the body's 8 parts, the chunk blobs)."""
    blobs = pr.Blobs(parse_envelope(proof).body)
    parts = [blobs.next(str(i)) for i in range(8)]
    blobs.finish()
    chunks = pr.Blobs(parts[3])
    out = []
    while chunks.offset < len(chunks.data):
        out.append(chunks.next("chunk"))
    return parts, out


def _with_chunks(parts: list[bytes], chunks: list[bytes]) -> bytes:
    return encode_envelope(pr.STATEMENT, pr.pack(parts[:3] + [pr.pack(chunks)] + parts[4:]))


# --- the layout and the choice -------------------------------------------------------
def test_tape_is_laid_out_by_chunk():
    policy = Policy.from_json(policy_doc(steps=6, proving={"chunk_steps": CHUNK}))
    shape = TapeShape.of(policy)
    assert shape.chunked and shape.num_chunks == 2 and shape.chunk_vars == 1 and shape.chunk_step_vars == 3
    assert [shape.chunk_range(k) for k in range(2)] == [(0, 4), (4, 6)]
    words = np.arange(policy.tape_words, dtype=np.uint64)
    tables = shape.split(words)
    W = policy.words_per_step
    for k in range(2):
        s0, s1 = shape.chunk_range(k)
        own = shape.chunk_shape(k).split_rows(words[s0 * W:s1 * W], shape.chunk_step_vars)
        for full, part in zip(tables, own):
            n = full.shape[0] // 2  # chunk k is the k-th half: the chunk index is the highest variable
            assert np.array_equal(full[k * n:(k + 1) * n], part)
    assert shape.table_vars == tuple(int(t.shape[0]).bit_length() - 1 for t in tables)
    # one pad per table and chunk, then each table's combination mask and pad
    assert shape.bank_entries == 3 * 2 + sum(2 * n + 3 + 1 for n in shape.table_vars)
    one = TapeShape.of(Policy.from_json(policy_doc(steps=6)))
    assert not one.chunked and one.num_chunks == 1 and one.bank_entries == 3


def test_automatic_chunking_follows_the_largest_domain():
    feats = [f"f{i:02d}" for i in range(30)]
    big = example_policy(feats, "y", num_rows=10_000, epochs=10, family="mlp", hidden=64)
    shape = TapeShape.of(Policy.from_json(big))
    assert (shape.steps, shape.chunk_steps, shape.num_chunks) == (1563, 31, 51)  # 2^5 x 2^7 x 2^6 = 2^18 per chunk
    small = example_policy(feats, "y", num_rows=455, family="mlp", hidden=64)
    small["steps"] = 63
    assert not TapeShape.of(Policy.from_json(small)).chunked  # 2^19 rows: one piece (as measured before chunking)
    lr = example_policy(feats, "y", num_rows=10_000, epochs=10)
    assert not TapeShape.of(Policy.from_json(lr)).chunked  # the feature table at 2^23 rows: one piece
    assert not TapeShape.of(Policy.from_json(policy_doc(steps=6, proving={"chunk_steps": 6}))).chunked


@pytest.mark.parametrize("value", [0, -1, "4", 4.0, None])
def test_policy_chunk_steps_must_be_a_positive_integer(value):
    with pytest.raises(PolicyError, match="chunk_steps"):
        Policy.from_json(policy_doc(steps=6, proving={"chunk_steps": value}))


def test_policy_proving_takes_no_other_key():
    with pytest.raises(PolicyError, match="unknown keys"):
        Policy.from_json(policy_doc(steps=6, proving={"chunk_steps": 2, "workers": 2}))


def test_chunk_steps_are_bound_into_the_policy_digest():
    a = Policy.from_json(policy_doc(steps=6))
    b = Policy.from_json(policy_doc(steps=6, proving={"chunk_steps": CHUNK}))
    assert a.digest != b.digest and b.chunk_steps == CHUNK and a.chunk_steps == 0


# --- the honest proof -----------------------------------------------------------------
def test_honest_chunked_proof_verifies(run_dir, honest):
    run = load_run(run_dir / "RUN")
    v = verify_training(honest, run_record=run.record, coin_doc=read_coin(run_dir / "RUN" / "coin.json"))
    assert v.run_id == run.run_id and v.soundness_bits >= 100
    assert v.theta_commitment == (run_dir / "RUN" / "theta.commitment").read_bytes()
    _, chunks = _parts(honest)
    assert len(chunks) == 2


def test_a_one_piece_body_is_refused_for_a_chunked_run(run_dir, honest):
    """A body with an advice commitment where the global one belongs does not parse as a chunked proof."""
    parts, chunks = _parts(honest)
    with pytest.raises(ProofRejected):
        verify_training(encode_envelope(pr.STATEMENT, pr.pack(parts[:3] + [chunks[0]] + parts[4:])))


# --- what ties the chunks ----------------------------------------------------------------
@pytest.mark.parametrize("how", ["swap", "repeat", "drop", "extra"])
def test_chunks_cannot_be_reordered_repeated_or_dropped(honest, how):
    parts, ch = _parts(honest)
    changed = {"swap": [ch[1], ch[0]], "repeat": [ch[0], ch[0]], "drop": [ch[0]], "extra": ch + [ch[1]]}[how]
    with pytest.raises(ProofRejected):
        verify_training(_with_chunks(parts, changed))


@pytest.mark.parametrize("part", [3, 4, 5, 6])
def test_changed_bytes_in_chunks_and_closing_part_are_rejected(honest, part):
    """A byte flipped in the middle of a chunk, the closing stream or an opening."""
    parts, _ = _parts(honest)
    for frac in (0.1, 0.5, 0.9):
        b = bytearray(parts[part])
        b[int(len(b) * frac)] ^= 0x40
        with pytest.raises(ProofRejected):
            verify_training(encode_envelope(pr.STATEMENT, pr.pack(parts[:part] + [bytes(b)] + parts[part + 1:])))


@pytest.fixture(scope="module")
def case(run_dir):
    from zkaudit.train.run import coin_words

    run = load_run(run_dir / "RUN")
    coin = read_coin(run_dir / "RUN" / "coin.json")
    return Case(run, coin, coin_words(run, coin, run.tape()))


def _prove_chunked(c: Case, trace, *, X=None, opening=None) -> bytes:
    """The honest chunked protocol on a forged trace (and X, dataset opening)."""
    from zkaudit.data.dataset import load_dataset
    from zkaudit.hash import commitment as hc
    from zkaudit.statements.training import prover
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
    c_theta, salt = hc.commit_weights(theta_layouts(policy), [trace.theta[-1]], hc.fresh_salt())
    st = statement(run, c.coin, record.doc, c_theta.to_bytes(), 0)
    inp = prover.Inputs(policy=policy, sem=c.sem, statement=st, dataset=record, dataset_use=0,
                        dataset_opening=opening or real_opening, tape_words=t.words, tape_seed=t.salt,
                        tape_commitment=tc, tape_data=tdata, mask_words=mask, trace=trace,
                        X=c.X if X is None else X, y=c.y, theta_commitment=c_theta.to_bytes(), theta_salt=salt,
                        theta0=trace.theta[0])
    inp.tape_tables = shape.split(t.words)
    return chunked_prover.prove(inp, workers=1)  # in this process: the forgeries patch its functions


def _rejected(c: Case, proof: bytes) -> ProofRejected:
    with pytest.raises(ProofRejected) as info:
        verify_training(proof, run_record=c.run.record, coin_doc=c.coin)
    return info.value


def test_the_harness_proves_the_honest_trace(case):
    """Without a forgery the adversary's prover is the honest one: its proof verifies."""
    proof = _prove_chunked(case, _evil_train(case))
    assert verify_training(proof, run_record=case.run.record, coin_doc=case.coin).soundness_bits >= 100


@pytest.mark.parametrize("side", ["end of chunk 0", "start of chunk 1"])
def test_state_jump_between_chunks(case, monkeypatch, side):
    """Chunk 1 starts from theta_4 + 777 e_3 while chunk 0 ends at the honest theta_4;
    inside each chunk every step is the honest update. The boundary row of G
    holds one of the two: the other chunk's boundary check fails."""
    jumped = _evil_train(case, jump=lambda t, th: th + 777 * (np.arange(th.shape[0]) == 3) if t == CHUNK - 1
                         else th)
    honest_row = jumped.theta[CHUNK] - 777 * (np.arange(jumped.theta.shape[1]) == 3)
    slice_trace = chunked_prover.slice_trace
    committed = jumped if side == "end of chunk 0" else _with_row(jumped, CHUNK, honest_row)

    def evil_slice(trace, s0, s1):
        out = slice_trace(jumped, s0, s1)  # every chunk's own steps come from the jumped run ...
        if s0 == 0:  # ... except chunk 0's last row: the honest update, so chunk 0 is consistent
            out = _with_row(out, s1 - s0, honest_row)
        return out

    monkeypatch.setattr(chunked_prover, "slice_trace", evil_slice)
    err = _rejected(case, _prove_chunked(case, committed))
    print(f"rejected at {err.where!r}: {err}")
    assert "chunk" in (err.where or "") or "global" in (err.where or ""), err.where


def _with_row(trace, row: int, theta_row):
    import dataclasses

    theta = trace.theta.copy()
    theta[row] = theta_row
    return dataclasses.replace(trace, theta=theta)


def test_a_mirror_that_is_not_the_dataset(case):
    """The prover trains on a record it changed: G's mirror and every chunk's fetch
    read the changed column, and the closing part's mirror check claims the
    dataset holds it too. The dataset's opening refuses."""
    from zkaudit.data.dataset import load_dataset
    from zkaudit.statements.training.protocol import dataset_indices

    record, _, real = load_dataset(Path(case.run.dataset_dir()), with_opening=True)
    feat_idx, _ = dataset_indices(record, case.policy)
    tr = _evil_train(case)
    ts, js = np.nonzero(tr.live)
    i = int(tr.index[ts[0], js[0]])  # a record step 0 reads
    X = case.X.copy()
    X[i, 0] = -X[i, 0] if X[i, 0] else 64  # feature 0 of that record, changed in the data the prover uses

    class Changed:
        def __init__(self):
            self.polys = real.polys.copy()
            self.polys[feat_idx[0], i] = (int(X[i, 0]) % ((1 << 64) - (1 << 32) + 1))

        def __getattr__(self, name):
            return getattr(real, name)

    err = _rejected(case, _prove_chunked(case, _evil_train(case, X=X), X=X, opening=Changed()))
    print(f"rejected at {err.where!r}: {err}")
    assert err.where == "training.dataset opening", err.where


def test_chunks_proven_in_two_worker_processes_verify(run_dir):
    """The chunks side by side in two child processes (what a heavy run does by
    default on two cores): the same protocol, a proof that verifies."""
    forget_proofs(run_dir)
    run = load_run(run_dir / "RUN")
    coin = read_coin(run_dir / "RUN" / "coin.json")
    proof = prove_training(run, coin, workers=2)
    assert verify_training(proof, run_record=run.record, coin_doc=coin).soundness_bits >= 100
    assert len(_parts(proof)[1]) == 2


def test_cli_proves_a_chunked_run_with_its_progress_and_verifies(run_dir, tmp_path, capsys):
    """`zkaudit prove-training RUN --out F --workers 1` (text: the chunk progress on
    stderr, then the summary), then `zkaudit verify F`."""
    from zkaudit.cli.main import main

    forget_proofs(run_dir)
    out = tmp_path / "TRAIN.zkp"
    assert main(["prove-training", str(run_dir / "RUN"), "--out", str(out), "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "proving" in captured.err and "2/2" in captured.err and "chunks" in captured.err, captured.err
    assert f"wrote {out}" in captured.out and "bits" in captured.out
    assert main(["verify", str(out)]) == 0
    assert "valid train-dpsgd/v1 proof" in capsys.readouterr().out
    assert main(["prove-training", str(run_dir / "RUN"), "--out", str(out), "--workers", "0"]) == 2


def test_a_closing_part_that_outgrows_gs_bank_is_proven_again_with_more(run_dir, monkeypatch):
    """G's bank is committed before the chunks, so a closing part that needs more
    entries than it holds restarts the proof with twice as many (the closing
    part of this run takes about 3,000): still one valid proof."""
    from zkaudit.statements.training import chunked as ch

    sizes = []
    prove = chunked_prover._prove

    def counting(inp, workers, progress, final_bank):
        sizes.append(final_bank)
        return prove(inp, workers, progress, final_bank)

    monkeypatch.setattr(ch, "FINAL_BANK", 1024)
    monkeypatch.setattr(chunked_prover, "_prove", counting)
    forget_proofs(run_dir)
    run = load_run(run_dir / "RUN")
    coin = read_coin(run_dir / "RUN" / "coin.json")
    proof = prove_training(run, coin, workers=1)
    assert sizes == [1024, 2048, 4096]
    assert verify_training(proof, run_record=run.record, coin_doc=coin).soundness_bits >= 100


@pytest.mark.parametrize("column", ["kg", "live", "y", "zq", "prob", "eab", "theta", "kn", "uB", "X"])
def test_a_changed_cell_in_the_second_chunk_is_rejected(case, monkeypatch, column):
    """The malicious prover changes one witness cell of chunk 1 at its first real
    row (range limbs refilled mod p from the changed values, the prover's own
    gate check off): each a different part of the relation, each refused."""
    from test_training_attacks import _fill_limbs_mod_p, _multiplicities

    from zkaudit.lookup import committed_table_prover
    from zkaudit.lookup import prover as lookup_prover
    from zkaudit.statements.training import witness as wt

    build, calls = wt.build, []

    def evil_build(plan, *args, **kwargs):
        cols = build(plan, *args, **kwargs)
        calls.append(plan)
        if len(calls) == 2:  # chunk 1
            cols[column] = cols[column].copy()
            cols[column][0] += 1
        return cols

    monkeypatch.setattr(wt, "build", evil_build)
    monkeypatch.setattr(wt, "fill_ranges", _fill_limbs_mod_p)
    monkeypatch.setattr(wt, "check_gates", lambda plan, cols: None)
    monkeypatch.setattr(committed_table_prover, "table_multiplicities", _multiplicities)
    monkeypatch.setattr(lookup_prover, "multiplicities", _lenient_multiplicities)
    err = _rejected(case, _prove_chunked(case, _evil_train(case)))
    assert len(calls) == 2 and err.where, err.where


def _lenient_multiplicities(instance, columns):
    """The malicious prover's table multiplicities: it counts the looked-up rows
    that are in their table and passes over the one that is not."""
    out = [np.zeros(t.num_rows, dtype=np.int64) for t in instance.tables]
    for lk, cols in zip(instance.lookups, columns):
        table = instance.tables[lk.table]
        for r in range(cols[0].shape[0]):
            try:
                (i,) = table.row_indices([c[r:r + 1] for c in cols])
            except Exception:  # not in the table: left out
                continue
            out[lk.table][i] += 1
    return [m.astype(np.uint64) for m in out]


def test_the_lenient_multiplicities_are_the_real_ones_on_an_honest_witness(case, monkeypatch):
    """So that the changed-cell forgeries above are refused for their cell, not for
    multiplicities the adversary's counting got wrong everywhere."""
    from zkaudit.lookup import prover as lookup_prover

    real, seen = lookup_prover.multiplicities, []

    def both(instance, columns):
        want = real(instance, columns)
        got = _lenient_multiplicities(instance, columns)
        seen.append(all(np.array_equal(a, b) for a, b in zip(want, got)))
        return want

    monkeypatch.setattr(lookup_prover, "multiplicities", both)
    _prove_chunked(case, _evil_train(case))
    assert seen == [True, True]
