"""Movable aliases: `NAME@champion` names whichever version the model's
vendor last pointed `champion` at (MLflow's registered-model aliases), and
`NAME@latest` the most recently published version that is not revoked.

Design. An alias move is a statement the vendor signs and the registry
logs, so who moved `champion` where, and when, is in the transparency log
like every other write, and an auditor replaying the log resolves an alias
exactly as the registry does. It needs no table and no migration: a move is
an ENDORSEMENT attestation (the vendor endorses NAME@VERSION as its
`champion`) whose statement is

    {"model": NAME, "version": VERSION, "alias": ALIAS, "seq": N, "state": "set" | "removed"}

signed under the endorsement tag (`records.ENDORSEMENT`, so the signature
cannot be replayed as any other statement type). `seq` counts the alias's
earlier moves, which keeps every move's statement distinct (the registry
refuses a second identical attestation, and moving back to an earlier
version is a new statement). Resolution reads the model's attestations in
log order and takes, for each alias, the last move *signed by the model's
vendor alone*: anyone registered may attest, but only the vendor's moves
count. A removal is a move with state "removed" (it names the version the
alias pointed at, because an attestation must name an existing version).

Rules:
* an alias name is lowercase, `[a-z][a-z0-9_-]*`, at most 64 characters,
  never `latest` and never a string that could be a version (no digits
  first, no dots); a version literally named like an alias still wins, as
  an exact version always does;
* resolving an alias that points at a revoked version fails with the
  revocation named, like checking against that version would;
* resolution costs one read per published version (the model's
  attestations); a registry with many versions would want an index, which
  is a migration (see below).

Where it is used: `zkaudit.api.resolve_model_ref` calls `resolve_ref`, so
`verify --model NAME@champion` and `api.verify(model=...)` follow aliases;
`zkaudit registry alias set|remove|list` are commands over `set_alias`,
`remove_alias` and `aliases`; `registry show NAME@ALIAS` shows the version
it names. A served registry's vendor moves an alias with a signed
endorsement request (`RemoteRegistry.attest_as`). Against a served
registry an alias (like `latest`) is resolved from the attestations and
versions the server lists: the version it names is then checked through
the log as any version is, but that the server listed every later move is
not proven.
"""

from __future__ import annotations

import re
from typing import Any

from zkaudit.errors import ZkauditError
from zkaudit.registry import records
from zkaudit.registry.encoding import message
from zkaudit.registry.errors import RegistryError
from zkaudit.registry.views import parse_ref

LATEST = "latest"
ALIAS_RE = re.compile(r"[a-z][a-z0-9_-]{0,63}")
SET, REMOVED = "set", "removed"


def check_alias(alias: str) -> None:
    if not isinstance(alias, str) or not ALIAS_RE.fullmatch(alias) or alias == LATEST:
        raise RegistryError(f"alias {alias!r} is not a valid alias name",
                            hint="lowercase letters, digits, '-' and '_', starting with a letter, at most 64 "
                                 "characters; 'latest' is reserved")


def alias_statement(*, model: str, alias: str, version: str, seq: int, state: str = SET) -> dict[str, Any]:
    """The endorsement statement of one alias move (what the vendor signs)."""
    check_alias(alias)
    if state not in (SET, REMOVED):
        raise RegistryError(f"alias move state must be {SET!r} or {REMOVED!r}, not {state!r}")
    return {"model": model, "version": version, "alias": alias, "seq": int(seq), "state": state}


def alias_message(stmt: dict[str, Any]) -> bytes:
    return message(records.ENDORSEMENT, stmt)


def _is_move(stmt: Any) -> bool:
    return (isinstance(stmt, dict) and set(stmt) == {"model", "version", "alias", "seq", "state"}
            and isinstance(stmt["alias"], str) and ALIAS_RE.fullmatch(stmt["alias"]) is not None
            and stmt["state"] in (SET, REMOVED) and isinstance(stmt["seq"], int))


def moves(reg, model: str) -> list[dict[str, Any]]:
    """Every alias move of `model` signed by its vendor alone, in log order:
    {alias, version, state, seq, log_index}."""
    shown = reg.show_model(model)
    vendor = shown["vendor"]
    out = []
    for v in shown["versions"]:
        for att in reg.attestations(model, v["version"]):
            stmt = att["statement"]
            if (att["tag"] == records.ENDORSEMENT and att["signers"] == [vendor] and _is_move(stmt)
                    and stmt["model"] == model and stmt["version"] == v["version"]):
                out.append({"alias": stmt["alias"], "version": stmt["version"], "state": stmt["state"],
                            "seq": stmt["seq"], "log_index": att["log_index"]})
    out.sort(key=lambda m: m["log_index"])
    return out


def aliases(reg, model: str) -> dict[str, str]:
    """{alias: version} as the vendor's last move of each alias left it."""
    current: dict[str, str] = {}
    for move in moves(reg, model):
        if move["state"] == SET:
            current[move["alias"]] = move["version"]
        else:
            current.pop(move["alias"], None)
    return dict(sorted(current.items()))


def _move(reg, key, model: str, alias: str, version: str, state: str) -> dict[str, Any]:
    check_alias(alias)
    shown = reg.show_model(model)
    if shown["vendor_public_key"] != key.public_key.hex():
        raise RegistryError(f"only {model!r}'s vendor ({shown['vendor']}) can move its aliases",
                            hint="sign with the key the model was published with")
    seq = sum(1 for m in moves(reg, model) if m["alias"] == alias)
    stmt = alias_statement(model=model, alias=alias, version=version, seq=seq, state=state)
    signature = key.sign(alias_message(stmt))
    if hasattr(reg, "attest_as"):  # a served registry: a signed request (`remote.RemoteRegistry`)
        out = reg.attest_as(key, records.ENDORSEMENT, stmt, signature)
    else:
        out = reg.attest(tag=records.ENDORSEMENT, statement=stmt, signers=[key.public_key], signature=signature)
    return {"model": model, "alias": alias, "version": version, "state": state, "log_index": out["log_index"]}


def set_alias(reg, key, model: str, alias: str, version: str) -> dict[str, Any]:
    """Point `alias` at `version` (signed with the vendor's `key`, logged)."""
    reg.show_version(model, version)  # an unknown version: NotFound, in the registry's words
    return _move(reg, key, model, alias, version, SET)


def remove_alias(reg, key, model: str, alias: str) -> dict[str, Any]:
    """Unset `alias` (a logged move naming the version it pointed at)."""
    current = aliases(reg, model)
    if alias not in current:
        raise RegistryError(f"model {model!r} has no alias {alias!r}",
                            hint=f"its aliases: {', '.join(current) or 'none'}")
    return _move(reg, key, model, alias, current[alias], REMOVED)


def resolve_ref(reg, ref: str) -> tuple[str, str]:
    """'NAME@VERSION' -> (name, version): an exact version first, then
    'latest' (the most recently published version that is not revoked),
    then the model's aliases. An unknown name raises the registry's NotFound."""
    name, version = parse_ref(ref)
    versions = reg.show_model(name)["versions"]  # in publication order
    by_name = {v["version"]: v for v in versions}
    if version in by_name:
        return name, version
    if version == LATEST:
        active = [v["version"] for v in versions if not v.get("revoked")]
        if not active:
            raise ZkauditError(f"model {name!r} has no version that is not revoked",
                               hint=f"see `zkaudit registry show {name}`")
        return name, active[-1]
    current = aliases(reg, name)
    if version not in current:
        return name, version  # not an alias: the caller's lookup reports the unknown version
    target = current[version]
    revoked = by_name[target].get("revoked")
    if revoked:
        raise ZkauditError(f"{name}@{version} points at {name}@{target}, which was revoked: {revoked['reason']}",
                           hint=f"the vendor can move it: aliases of {name}: "
                                + ", ".join(f"{a} -> {v}" for a, v in current.items()))
    return name, target
