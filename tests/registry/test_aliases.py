"""Movable aliases (zkaudit/registry/aliases.py): NAME@champion follows the
vendor's signed, logged moves; NAME@latest the newest unrevoked version; an
exact version always wins; only the vendor's moves count; an alias on a
revoked version is refused naming the revocation. (BLS signing and
checking cost ~0.3 s apiece, so one journey makes every move.)"""

from __future__ import annotations

import pytest

from registry_helpers import key, publish
from zkaudit.errors import ZkauditError
from zkaudit.registry import aliases, records
from zkaudit.registry.encoding import message
from zkaudit.registry.errors import NotFound, RegistryError


@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_alias_journey(registry, tmp_path):
    reg = registry
    for i, version in enumerate(("1.0", "2.0")):
        publish(reg, tmp_path, "triage", version, seed=i)
    assert aliases.aliases(reg, "triage") == {}
    assert aliases.resolve_ref(reg, "triage@latest") == ("triage", "2.0")
    assert aliases.resolve_ref(reg, "triage@1.0") == ("triage", "1.0")

    aliases.set_alias(reg, key("acme"), "triage", "champion", "1.0")
    assert aliases.resolve_ref(reg, "triage@champion") == ("triage", "1.0")
    aliases.set_alias(reg, key("acme"), "triage", "champion", "2.0")
    aliases.set_alias(reg, key("acme"), "triage", "challenger", "1.0")
    aliases.set_alias(reg, key("acme"), "triage", "champion", "1.0")  # back again: a new, distinct statement
    assert aliases.aliases(reg, "triage") == {"challenger": "1.0", "champion": "1.0"}
    assert [m["seq"] for m in aliases.moves(reg, "triage") if m["alias"] == "champion"] == [0, 1, 2]

    aliases.remove_alias(reg, key("acme"), "triage", "challenger")
    assert aliases.aliases(reg, "triage") == {"champion": "1.0"}
    # not an alias any more: left for the caller's version lookup to report
    assert aliases.resolve_ref(reg, "triage@challenger") == ("triage", "challenger")
    with pytest.raises(NotFound):
        reg.show_version(*aliases.resolve_ref(reg, "triage@challenger"))
    # every move is an endorsement in the log, signed by the vendor
    logged = [a for v in ("1.0", "2.0") for a in reg.attestations("triage", v) if a["tag"] == records.ENDORSEMENT]
    assert len(logged) == 5 and all(a["signers"] == ["acme"] for a in logged)

    # only the vendor's moves count
    publish(reg, tmp_path / "other", "other-model", "1", signer="mallory")  # registers mallory
    with pytest.raises(RegistryError, match="only 'triage''s vendor"):
        aliases.set_alias(reg, key("mallory"), "triage", "champion", "2.0")
    stmt = aliases.alias_statement(model="triage", alias="champion", version="2.0", seq=3)
    reg.attest(tag=records.ENDORSEMENT, statement=stmt, signers=[key("mallory").public_key],
               signature=key("mallory").sign(message(records.ENDORSEMENT, stmt)))  # logged, but ignored
    assert aliases.resolve_ref(reg, "triage@champion") == ("triage", "1.0")

    # an alias on a revoked version is refused, naming the revocation
    stmt = records.revocation(model="triage", version="1.0", reason="drift on new scanners")
    reg.revoke(**stmt, signer=key("acme").public_key, signature=key("acme").sign(records.revocation_message(stmt)))
    with pytest.raises(ZkauditError, match="points at triage@1.0, which was revoked: drift on new scanners"):
        aliases.resolve_ref(reg, "triage@champion")
    assert aliases.resolve_ref(reg, "triage@latest") == ("triage", "2.0")


@pytest.mark.parametrize("registry_url", ["sqlite"], indirect=True)
def test_alias_rules(registry, tmp_path):
    publish(registry, tmp_path, "triage", "1.0")
    for bad in ("latest", "Champion", "1.0", "", "x" * 65, "a b"):
        with pytest.raises(RegistryError, match="not a valid alias name"):
            aliases.set_alias(registry, key("acme"), "triage", bad, "1.0")
    with pytest.raises(NotFound):
        aliases.set_alias(registry, key("acme"), "triage", "champion", "9.9")
    with pytest.raises(RegistryError, match="has no alias 'ghost'"):
        aliases.remove_alias(registry, key("acme"), "triage", "ghost")
    with pytest.raises(NotFound, match="unknown model"):
        aliases.resolve_ref(registry, "nope@champion")
