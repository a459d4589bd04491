"""Every proof type, mutated at every byte of its prefix and of sampled
sum-check/lookup headers, at random offsets, truncated and extended: each
mutant is verified in a child process under a memory limit and a timeout,
and must be rejected through `ProofRejected` -- 0 accepted (the format is
canonical: one byte string per proof), 0 hangs, 0 tracebacks.

The default run fuzzes the logistic model's three proof kinds (public
input, a batch of two, committed input); `pytest -m fuzz` runs the large
campaign (three zoo models, three values per prefix byte, sampled inner
headers and sum-checks, hundreds of random offsets), which `benchmarks/fuzz_proofs.py` also runs and counts."""

from __future__ import annotations

import pytest

import fuzz_harness as fh

# A mutant's verification takes milliseconds; a child still running after
# this long (generous, for a loaded machine) is a hang.
HANG_S = 30.0


def _summary(report: fh.Report) -> str:
    lines = [f"{report.tried} mutants: {dict(report.outcomes)}"]
    lines += [f"  {t} {label}: {o.kind}: {o.cause}" for t, label, o in report.failures[:30]]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def logistic_targets(tmp_path_factory):
    return {t.name.split("/")[1]: t for t in fh.build_targets(("logistic_risk",),
                                                               workdir=tmp_path_factory.mktemp("fuzz"))}


@pytest.mark.parametrize("kind", fh.KINDS)
def test_every_prefix_byte_and_random_mutation_rejected(logistic_targets, kind):
    target = logistic_targets[kind]
    report = fh.campaign([target], seed=14, random_offsets=12, structural=40, timeout=HANG_S)
    assert report.tried > target.prefix_end  # every prefix byte was tried
    assert report.outcomes["rejected"] == report.tried, _summary(report)


# the sum-check header (round count, evaluation count) is encoded and parsed
# alike in every proof kind: the public proof's headers run by default, the
# batch and committed ones (the same mutations, about a minute more of child
# processes) with `pytest -m heavy tests/fuzz`
@pytest.mark.parametrize("kind", [k if k == "public" else pytest.param(k, marks=pytest.mark.heavy) for k in fh.KINDS])
def test_sumcheck_round_count_and_zero_round_evaluation_count_mutations_rejected(logistic_targets, kind):
    """Issue 14 items 2-3 as found: one byte in a round count made verify
    allocate without end; the evaluation count of a zero-round sum-check
    was ignored (255 other values verified)."""
    target = logistic_targets[kind]
    assert len(target.sumcheck_starts) >= 10, "sum-check headers not located"
    report = fh.Report()
    for label, data in fh.sumcheck_header_mutations(target):
        report.add(target.name, label, fh.run_one(target, data, timeout=HANG_S, mem_headroom=512 << 20))
    assert report.tried >= 5 * len(target.sumcheck_starts)
    assert report.outcomes["rejected"] == report.tried, _summary(report)


def test_consent_proofs_every_prefix_byte_and_random_mutation_rejected():
    """The consent statement (landed after the inference fuzzing): the same
    campaign, against the dataset and consent-table records the checker holds."""
    targets = fh.build_consent_targets()
    report = fh.campaign(targets, seed=18, random_offsets=40, structural=40, timeout=HANG_S)
    assert report.tried > sum(t.prefix_end for t in targets)
    assert report.outcomes["rejected"] == report.tried, _summary(report)


def _hog(target, data):
    return bytearray(8 << 30)  # past any RLIMIT_AS headroom the harness gives


def _spin(target, data):
    while True:
        pass


def _raise(target, data):
    raise ValueError("a traceback")


def test_harness_reports_accepted_rejected_crashes_and_hangs(logistic_targets):
    """The harness itself, on real children: the honest proof is accepted,
    a truncated one rejected, an allocation past the memory limit and an
    untyped exception are crashes, a loop is a hang."""
    target = logistic_targets["public"]
    assert fh.run_one(target, target.proof).kind == "accepted"
    assert fh.run_one(target, target.proof[:-1]).kind == "rejected"
    assert target.header_offsets, "no sum-check/lookup header located"
    hog = fh.run_one(target, b"", check=_hog, mem_headroom=256 << 20)
    assert hog.kind == "crash" and "MemoryError" in hog.cause
    err = fh.run_one(target, b"", check=_raise)
    assert err.kind == "crash" and "ValueError" in err.cause
    assert fh.run_one(target, b"", check=_spin, timeout=1.0).kind == "hang"


@pytest.mark.fuzz
def test_large_campaign_over_zoo_models(tmp_path_factory):
    targets = fh.build_targets(fh.LARGE_MODELS, workdir=tmp_path_factory.mktemp("fuzz-large"))
    report = fh.campaign(targets, **fh.LARGE_SETTINGS)
    assert report.outcomes["rejected"] == report.tried, _summary(report)
