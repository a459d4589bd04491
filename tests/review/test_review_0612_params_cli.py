"""Review 0612: memoized `PcsParams.for_security` / `zk_params`, and the CLI's
first-run kernel notice printed from each command's `invoke`.

* The memo returns the solver's own answer for every argument combination
  (bits int/float/fractional, hiding True/False/1/0), never one argument's
  parameters for another's; the shared objects are not mutated by what the
  verifier and prover do with them (hiding_shape, at_width, plain_twin,
  describe, a zero-knowledge commit/open/verify), and `zk_params`'s
  `dataclasses.replace` leaves the cached hiding parameters' mask_vars alone.
* The notice: exactly once for a valid-but-failing run, never after a
  usage error, and nothing pending from one `main()` reaches the next."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from zkaudit.cli import _kernels
from zkaudit.cli import main as cli_main
from zkaudit.cli.main import main
from zkaudit.field import Fp2, vec
from zkaudit.pcs import Claim, PcsParams, commit, open, verify
from zkaudit.pcs.hiding_verifier import read_hiding_opening
from zkaudit.statements.inference import commitment as inf_commitment
from zkaudit.transcript import Transcript

NOTICE = "compiling kernels (first run only"


def _fields(p: PcsParams) -> dict:
    """Every field, target_bits included (no part of ==), and any extra attribute."""
    return dict(vars(p))


# ------------------------------------------------------------- params memo


@pytest.mark.parametrize("bits", [80, 100, 100.0, 100.5, 103])
@pytest.mark.parametrize("hiding", [False, True])
def test_memo_returns_the_solvers_answer_for_every_argument(bits, hiding):
    got = PcsParams.for_security(bits, hiding=hiding)
    want = PcsParams._solve_for_security(bits, 2, 24, 1 << 16, hiding)
    assert got == want and got.target_bits == want.target_bits == bits
    assert got.hiding is hiding and got.num_queries == want.num_queries and got.pad_symbols == want.pad_symbols
    assert PcsParams.for_security(bits, hiding=hiding) is got  # memoized


def test_hiding_and_bits_do_not_collide():
    plain, zk = PcsParams.for_security(100), PcsParams.for_security(100, hiding=True)
    assert not plain.hiding and zk.hiding and plain != zk and zk.pad_symbols > 0 == plain.pad_symbols
    # 1/0 hash like True/False: the answer must still be the matching mode
    assert PcsParams.for_security(100, hiding=1).hiding and not PcsParams.for_security(100, hiding=0).hiding
    # fractional targets differ in what they promise, even when the queries agree
    lo, hi = PcsParams.for_security(100), PcsParams.for_security(100.5)
    assert (lo.target_bits, hi.target_bits) == (100, 100.5)
    assert hi.soundness_bits >= 100.5 and lo.soundness_bits >= 100
    # other keywords are part of the key
    b3 = PcsParams.for_security(100, log_blowup=3)
    assert b3.log_blowup == 3 and b3 != lo
    small = PcsParams.for_security(100, max_log_codeword=20, max_claims=1 << 10)
    assert (small.max_log_codeword, small.max_claims) == (20, 1 << 10)


def test_unreachable_targets_still_raise_every_time():
    for _ in range(2):  # a failure is not memoized into a success
        with pytest.raises(ValueError):
            PcsParams.for_security(200)


def test_zk_params_is_shared_and_leaves_the_cached_hiding_params_alone():
    zk = inf_commitment.zk_params()
    base = PcsParams.for_security(inf_commitment.PCS_BITS, hiding=True)
    assert inf_commitment.zk_params() is zk
    assert zk.mask_vars == 0 and base.mask_vars == PcsParams.mask_vars == 2
    assert dataclasses.replace(base, mask_vars=0) == zk
    fresh = PcsParams._solve_for_security(inf_commitment.PCS_BITS, 2, 24, 1 << 16, True)
    assert base == fresh and _fields(base) == _fields(fresh)
    assert inf_commitment.params() is PcsParams.for_security(inf_commitment.PCS_BITS)


def test_using_the_shared_params_does_not_mutate_them():
    """What prover and verifier do with the parameters -- shape them for a
    size, solve a width, take the plain twin, describe, and a whole
    zero-knowledge commit/open/verify -- leaves the cached objects equal, in
    every attribute, to freshly solved ones."""
    zk = inf_commitment.zk_params()
    shared = [zk, PcsParams.for_security(inf_commitment.PCS_BITS, hiding=True),
              PcsParams.for_security(inf_commitment.PCS_BITS), PcsParams.default_hiding(), PcsParams.default()]
    before = [_fields(p) for p in shared]
    for p in shared:
        p.describe()
        p.soundness_bits  # noqa: B018
        p.plain_twin() if p.hiding else p.choose_log_cols((3, 5))
        if p.hiding:
            p.hiding_shape((3, 5, 1))
            p.at_width(6, 2)
    rng = np.random.default_rng(0)
    tables = [vec.random(1 << s, rng) for s in (3, 5)]
    zk_masked = PcsParams.default_hiding()  # the cached hiding parameters with masks (zk_params has none)
    com, data = commit(tables, zk_masked)
    pt = tuple(Fp2(int(a), int(b)) for a, b in vec.ext_random(5, rng))
    claims = [Claim(1, pt, data.masked_value(1, pt))]

    def transcript():
        t = Transcript()
        t.absorb_statement("review-0612", 1, commitments={"tables": com.to_bytes()})
        return t

    proof = open(data, claims, transcript())
    verify(com, claims, read_hiding_opening(proof.to_bytes(), com, zk_masked), transcript(), zk_masked)
    assert [_fields(p) for p in shared] == before
    fresh = dataclasses.replace(PcsParams._solve_for_security(inf_commitment.PCS_BITS, 2, 24, 1 << 16, True),
                                mask_vars=0)
    assert _fields(inf_commitment.zk_params()) == _fields(fresh)
    with pytest.raises(dataclasses.FrozenInstanceError):
        zk.num_queries = 1  # type: ignore[misc]


# ------------------------------------------------------------- CLI notice


def _fake_package(tmp_path, monkeypatch):
    root = tmp_path / "pkg"
    (root / "field").mkdir(parents=True)
    (root / "field" / "kernels.py").write_text("@njit(cache=True)\ndef add(a, b):\n    return a + b\n")
    monkeypatch.setattr(_kernels, "ROOT", root)
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.delenv("NUMBA_DISABLE_JIT", raising=False)


def test_notice_once_for_a_failing_valid_run_and_never_leaked(tmp_path, monkeypatch, capsys):
    _fake_package(tmp_path, monkeypatch)
    verify_argv = ["verify", str(tmp_path / "none.zkp"), "--circuit", str(tmp_path)]
    for _ in range(2):  # cold: each failing valid run says it, once
        assert main(verify_argv) == 2
        assert capsys.readouterr().err.count(NOTICE) == 1
    # a usage error of a cold command leaves its notice pending ...
    assert main(["prove", "--no-such-option"]) == 2
    assert NOTICE not in capsys.readouterr().err
    # ... which no later main() prints: not for a warm command, not under
    # --json, not for --help, not for a command without kernels
    _kernels.mark_warm("verify")
    assert main(verify_argv) == 2 and NOTICE not in capsys.readouterr().err
    assert main(["prove", "--no-such-option"]) == 2
    assert main(["prove", str(tmp_path), "--json"]) == 2
    out = capsys.readouterr()
    assert NOTICE not in out.err and NOTICE not in out.out
    assert main(["prove", "--no-such-option"]) == 2
    assert main(["verify", "--help"]) == 0 and NOTICE not in capsys.readouterr().err
    assert main(["prove", "--no-such-option"]) == 2
    main(["registry", "--help"])
    assert NOTICE not in capsys.readouterr().err
    # and the cold prove itself still says its own (30 s) notice, once, when it parses
    assert main(["prove", "--no-such-option"]) == 2
    assert main(["verify", "--no-such-option"]) == 2
    assert main(verify_argv) == 2  # warm verify after two pending usage errors: silent
    assert NOTICE not in capsys.readouterr().err
    assert _kernels.is_cold("prove") and not _kernels.is_cold("verify")


def test_the_notice_names_the_command_that_runs(tmp_path, monkeypatch, capsys):
    """A pending notice is the command main() saw: after a cold prove's usage
    error, a cold verify announces verify's 10 s, not prove's 30 s."""
    _fake_package(tmp_path, monkeypatch)
    assert main(["prove", "--no-such-option"]) == 2
    capsys.readouterr()
    assert main(["verify", str(tmp_path / "none.zkp"), "--circuit", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count(NOTICE) == 1 and "about 10 s" in err and "about 30 s" not in err


def test_each_command_object_is_wrapped_once(tmp_path, monkeypatch, capsys):
    """Loading the commands again (another root group, load_all) never wraps
    an invoke twice: a wrapped invoke wrapping another would still print once
    (the pending slot is taken), but the count of wrappers must stay one."""
    _fake_package(tmp_path, monkeypatch)
    g1 = cli_main.root_command(load_all=True)
    g2 = cli_main.root_command(load_all=True)
    for name in ("verify", "prove", "compile", "mock", "commit-input", "demo"):
        for g in (g1, g2):
            inv = g.commands[name].invoke
            assert inv.__qualname__.startswith("_announce_first"), name
            inner = inv.__closure__[0].cell_contents
            assert not getattr(inner, "__qualname__", "").startswith("_announce_first"), name
