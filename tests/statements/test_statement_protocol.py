"""`require_protocol`: a statement of another type or protocol version is
refused naming both, before its keys are looked at (each statement's own
test holds its verifier to it on a real proof: training, consent, link)."""

from __future__ import annotations

import pytest

from zkaudit.errors import MalformedProof
from zkaudit.statements.common.statement import require_protocol


def _check(st, version=4):
    require_protocol(st, "demo/v1", version, what="demo", where="demo.statement", command="zkaudit prove-demo")


def test_the_current_protocol_passes_whatever_else_the_statement_holds():
    _check({"type": "demo/v1", "protocol_version": 4, "anything": [1, 2]})


@pytest.mark.parametrize("got", [3, 5, 0, -4, True, False, "4", 4.0, None, [4]])
def test_another_version_is_named(got):
    with pytest.raises(MalformedProof) as exc:
        _check({"type": "demo/v1", "protocol_version": got})
    assert f"made by demo protocol {got!r}, and this verifier runs protocol 4; re-prove with this version " \
        "(`zkaudit prove-demo`)" in str(exc.value)
    assert (exc.value.where, exc.value.expected, exc.value.got) == ("demo.statement", 4, got)


@pytest.mark.parametrize("version", [0, 1])
def test_a_bool_is_not_the_int_it_equals(version):
    with pytest.raises(MalformedProof, match=f"made by demo protocol {bool(version)!r}"):
        _check({"type": "demo/v1", "protocol_version": bool(version)}, version=version)


def test_a_missing_version_is_named():
    with pytest.raises(MalformedProof, match="names no protocol version, and this verifier runs protocol 4") as exc:
        _check({"type": "demo/v1"})
    assert (exc.value.expected, exc.value.got) == (4, None)


@pytest.mark.parametrize("version", [4, 3, None])
@pytest.mark.parametrize("kind", ["other/v1", None, 7])
def test_another_type_is_named_before_the_version(kind, version):
    st = {"protocol_version": version} if kind is None else {"type": kind, "protocol_version": version}
    with pytest.raises(MalformedProof, match="not a demo statement") as exc:
        _check(st)
    assert (exc.value.expected, exc.value.got) == ("demo/v1", kind)


@pytest.mark.parametrize("st", [[], "demo/v1", 4, None])
def test_not_an_object(st):
    with pytest.raises(MalformedProof, match="not a JSON object") as exc:
        _check(st)
    assert (exc.value.expected, exc.value.got) == ("a JSON object", type(st).__name__)
