"""Review 0712b: `require_protocol` (statements/common/statement.py), now
called by the training, consent and link verifiers before a statement's keys
are checked.

Held here, on a real proof of each statement (training, consent, link),
through the statement's own verifier and through `verify_proof`:

  * no statement (a JSON list, string, number, null; a dict missing keys,
    with an extra key, or with any top-level or nested value of an odd JSON
    type) gets anything but a `ProofRejected` subclass -- never a KeyError,
    TypeError or AttributeError traceback -- and `verify_proof` turns each
    into a Verdict with valid=False and the same reason; none is accepted
    unless it is the honest statement itself;
  * the message names what is wrong, with `where`, `expected` and `got`:
    another type is named before the version (even when the version and the
    keys are wrong too), another protocol before the keys (an older protocol
    may have had other keys: here some removed AND some added), and a
    current-protocol statement with other keys says "wrong keys";
  * protocol_version's type: a bool is not the int it equals (True is not
    protocol 1), a string or list is not a version.

Found (the one failing test): a statement that is not a JSON object is
refused with `expected` unset, so the message reads "(expected None, got
'list')" -- `test_a_non_object_statement_names_what_was_expected`. Only the
training verifier reaches that branch with a real proof (the consent and
link body parsers refuse a non-object first, also with no expected/got).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

_STATEMENTS = Path(__file__).resolve().parents[1] / "statements"
for _sub in ("training", "link", "consent"):
    if str(_STATEMENTS / _sub) not in sys.path:
        sys.path.insert(0, str(_STATEMENTS / _sub))

from test_consent_zero_knowledge import _body, world  # noqa: E402,F401  (fixture)
from test_link import logreg, logreg_proof  # noqa: E402,F401  (fixtures)
from test_training_protocol_attacks import _parts, case, dataset_dir, honest  # noqa: E402,F401  (fixtures)

from zkaudit.data.canonical import canonical_json, parse_canonical  # noqa: E402
from zkaudit.errors import MalformedProof, ProofRejected  # noqa: E402
from zkaudit.statements.common.statement import require_protocol  # noqa: E402
from zkaudit.statements.consent import proof as cp  # noqa: E402
from zkaudit.statements.consent import verifier as cv  # noqa: E402
from zkaudit.statements.consent.prover import prove_consent  # noqa: E402
from zkaudit.statements.envelope import encode_envelope, parse_envelope  # noqa: E402
from zkaudit.statements.link import proof as lkp  # noqa: E402
from zkaudit.statements.training import protocol as pr  # noqa: E402
from zkaudit.statements.training.verifier import verify_training  # noqa: E402
from zkaudit.statements.verify import verify_proof  # noqa: E402

RE_PROVE = "and this verifier runs protocol {v}; re-prove with this version"
COMMAND = {"training": "zkaudit prove-training", "consent": "zkaudit prove-consent", "link": "zkaudit link"}
ODD = [None, True, False, 0, -1, 1 << 70, "", "zz", [], [1], {}, {"a": 1}]
ODD_NESTED = [None, True, -1, "zz", [], {}]


@dataclasses.dataclass
class Subject:
    """One statement's real proof, how to rebuild it around another
    statement, and its verifier both ways."""

    what: str
    where: str
    type: str
    version: int
    keys: set
    statement: dict
    rebuild: object  # statement (any JSON value) -> proof file bytes
    verify: object  # proof file bytes -> result (raises ProofRejected)
    verdict: object  # proof file bytes -> Verdict (verify_proof)


@pytest.fixture(scope="module")
def training(honest):  # noqa: F811
    parts = _parts(honest)
    st = parse_canonical(parts[0], "training statement")

    def rebuild(s):
        return encode_envelope(pr.STATEMENT, pr.pack([canonical_json(s), *parts[1:]]))

    return Subject("training", pr.WHERE, pr.STATEMENT_TYPE, pr.PROTOCOL_VERSION, set(st), st, rebuild,
                   verify_training, lambda p: verify_proof(p, circuit_bin=None, weight_commitment=None))


@pytest.fixture(scope="module")
def consent(world):  # noqa: F811
    ids, tb, top, ds, dop = world
    body = _body(prove_consent(ds, dop, tb, top, unique_ids=False))

    def rebuild(s):
        return encode_envelope(cp.STATEMENT, dataclasses.replace(body, statement=s).to_bytes())

    return Subject("consent", cp.WHERE, cp.STATEMENT_TYPE, cv.PROTOCOL_VERSION, set(body.statement), body.statement,
                   rebuild, cv.verify_consent, lambda p: verify_proof(p, circuit_bin=None, weight_commitment=None))


@pytest.fixture(scope="module")
def link(logreg, logreg_proof):  # noqa: F811
    body = lkp.LinkProof.from_bytes(parse_envelope(logreg_proof).body)
    cbin = (logreg.folder / "compiled" / "public" / "circuit.bin").read_bytes()

    def rebuild(s):
        return encode_envelope(lkp.STATEMENT, dataclasses.replace(body, statement=s).to_bytes())

    return Subject("link", lkp.WHERE, lkp.STATEMENT_TYPE, lkp.PROTOCOL_VERSION, set(body.statement), body.statement,
                   rebuild, lambda p: logreg.verify(p, theta_commitment=None),  # as verify_proof does
                   lambda p: verify_proof(p, circuit_bin=cbin, weight_commitment=logreg.weight_commitment))


STATEMENTS = ["training", "consent", "link"]


@pytest.fixture
def subject(request) -> Subject:
    return request.getfixturevalue(request.param)


def _rejection(sub: Subject, st) -> ProofRejected | None:
    """The verifier's rejection of `st` (None: accepted); anything but a
    ProofRejected is a failure. verify_proof must give the same reason."""
    proof = sub.rebuild(st)
    try:
        sub.verify(proof)
        exc = None
    except ProofRejected as e:
        exc = e
    except Exception as e:  # a traceback a user would see
        pytest.fail(f"{sub.what}: {type(e).__name__} leaked for statement {str(st)[:200]}: {e!r}")
    try:
        verdict = sub.verdict(proof)
    except Exception as e:
        pytest.fail(f"{sub.what}: verify_proof raised {type(e).__name__} for {str(st)[:200]}: {e!r}")
    if exc is None:
        assert verdict.valid, verdict.reason
    else:
        assert not verdict.valid and verdict.reason == str(exc)
    return exc


def _mutations(st: dict):
    """(name, statement): every key removed, one added, every top-level value
    and every nested dict's values replaced by odd JSON values or removed."""
    for k in st:
        yield f"-{k}", {kk: v for kk, v in st.items() if kk != k}
    yield "+extra", dict(st, extra=1)
    for k in st:
        for v in ODD:
            yield f"{k}={v!r}", dict(st, **{k: v})
        if isinstance(st[k], dict):
            for kk in st[k]:
                for v in ODD_NESTED:
                    yield f"{k}.{kk}={v!r}", dict(st, **{k: dict(st[k], **{kk: v})})
                yield f"{k}.-{kk}", dict(st, **{k: {k3: v for k3, v in st[k].items() if k3 != kk}})


# --- 1. the honest proofs are still accepted; nothing else is, and nothing leaks ----------------

@pytest.mark.parametrize("subject", ["consent", "link"], indirect=True)
def test_the_honest_proof_is_still_accepted(subject):
    # (the training fixture `honest` asserts its own proof verifies)
    assert _rejection(subject, subject.statement) is None


@pytest.mark.parametrize("subject", STATEMENTS, indirect=True)
def test_no_damaged_statement_leaks_an_exception_or_is_accepted(subject):
    honest_bytes = canonical_json(subject.statement)
    seen = 0
    for name, st in _mutations(subject.statement):
        if canonical_json(st) == honest_bytes:
            continue  # the honest statement (e.g. dataset_use=0): accepted, checked above
        exc = _rejection(subject, st)
        assert exc is not None, f"{subject.what}: a proof with statement change {name} was accepted"
        assert exc.where, f"{subject.what} {name}: rejected with no `where`: {exc}"
        seen += 1
    assert seen > 100


@pytest.mark.parametrize("subject", STATEMENTS, indirect=True)
@pytest.mark.parametrize("value", [[], ["x"], "a string", 3, None, True])
def test_a_statement_that_is_not_an_object_is_a_clear_rejection(subject, value):
    exc = _rejection(subject, value)
    assert isinstance(exc, MalformedProof) and "JSON object" in str(exc)
    assert exc.where == subject.where


# --- 2. the messages -----------------------------------------------------------------------------

@pytest.mark.parametrize("subject", STATEMENTS, indirect=True)
def test_another_type_is_named_first_even_with_another_version_and_keys(subject):
    keys = sorted(subject.keys - {"type", "protocol_version"})
    st = {k: v for k, v in subject.statement.items() if k != keys[0]}
    st.update(type="other/v9", protocol_version=subject.version - 1, an_older_key=1)
    exc = _rejection(subject, st)
    assert isinstance(exc, MalformedProof)
    assert str(exc).startswith(f"[{subject.where}] not a {subject.what} statement")
    assert (exc.where, exc.expected, exc.got) == (subject.where, subject.type, "other/v9")


@pytest.mark.parametrize("subject", STATEMENTS, indirect=True)
@pytest.mark.parametrize("delta", [-1, +1])
def test_another_protocol_with_other_keys_is_named_before_the_keys(subject, delta):
    """Keys removed as well as added (the diff's own tests only add one)."""
    v = subject.version + delta
    keep = {"type", "protocol_version", sorted(subject.keys)[0]}
    st = {k: val for k, val in subject.statement.items() if k in keep}
    st.update(protocol_version=v, an_older_key=[1, 2])
    exc = _rejection(subject, st)
    assert isinstance(exc, MalformedProof)
    assert str(exc) == (f"[{subject.where}] made by {subject.what} protocol {v}, "
                        + RE_PROVE.format(v=subject.version)
                        + f" (`{COMMAND[subject.what]}`) (expected {subject.version}, got {v})")
    assert (exc.where, exc.expected, exc.got) == (subject.where, subject.version, v)


@pytest.mark.parametrize("subject", STATEMENTS, indirect=True)
def test_a_version_of_another_json_type_is_named_as_given(subject):
    v0 = subject.version
    for v in [True, False, str(v0), [v0], {"v": v0}, None, -v0, (1 << 64) + v0]:  # None: a key holding null
        exc = _rejection(subject, dict(subject.statement, protocol_version=v))
        assert isinstance(exc, MalformedProof), v
        assert f"made by {subject.what} protocol {v!r}, " + RE_PROVE.format(v=v0) in str(exc)
        assert (exc.where, exc.expected, exc.got) == (subject.where, v0, v)
    st = {k: val for k, val in subject.statement.items() if k != "protocol_version"}
    exc = _rejection(subject, st)
    assert f"the {subject.what} statement names no protocol version, " + RE_PROVE.format(v=v0) in str(exc)
    assert exc.expected == v0 and exc.got is None


@pytest.mark.parametrize("subject", STATEMENTS, indirect=True)
def test_the_current_protocol_with_other_keys_says_wrong_keys(subject):
    for st in (dict(subject.statement, extra=1),
               {k: v for k, v in subject.statement.items() if k != sorted(subject.keys)[0]}):
        exc = _rejection(subject, st)
        assert isinstance(exc, MalformedProof)
        assert f"{subject.what} statement has the wrong keys" in str(exc)
        assert exc.where == subject.where and exc.got == sorted(st)
        assert set(exc.expected) >= {"type", "protocol_version"} and set(exc.expected) <= subject.keys


# --- 3. the helper itself ------------------------------------------------------------------------

def test_a_bool_is_not_the_int_it_equals():
    """True == 1 and False == 0 in Python: the helper's own tests use version
    4, where a bool never matched, so they cannot show this."""
    for version, got in ((1, True), (0, False)):
        with pytest.raises(MalformedProof, match=f"protocol {got!r}, and this verifier runs protocol {version}"):
            require_protocol({"type": "demo/v1", "protocol_version": got}, "demo/v1", version, what="demo",
                             where="demo")
    require_protocol({"type": "demo/v1", "protocol_version": 1}, "demo/v1", 1, what="demo", where="demo")


def test_the_type_is_checked_before_the_version():
    """The diff's `test_another_type_is_named_before_the_version` keeps the
    version right in every case, so it passes with the checks in either order."""
    with pytest.raises(MalformedProof, match="not a demo statement") as exc:
        require_protocol({"type": "other/v1", "protocol_version": 3}, "demo/v1", 4, what="demo", where="demo")
    assert (exc.value.expected, exc.value.got) == ("demo/v1", "other/v1")


@pytest.mark.parametrize("value", [[], "demo/v1", 4, None])
def test_a_non_object_statement_names_what_was_expected(training, value):
    """FAILS: `require_protocol` raises with `expected` unset, so the user
    reads '(expected None, got ...)'. Through the training verifier, the one
    that reaches it on a real proof."""
    exc = _rejection(training, value)
    assert exc.where == training.where and exc.got is not None
    assert exc.expected is not None, str(exc)
    assert "expected None" not in str(exc)
