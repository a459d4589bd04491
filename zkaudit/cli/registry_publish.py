"""`zkaudit registry publish | upgrade-commitment | alias | publish-dataset |
publish-consent | publish-consent-proof | register-signer | revoke |
revoke-key | revoke-verifier | reverify`: the signed writes to a registry.

Split out of `cli/registry.py`, which defines the `registry` group, its
shared options and `open_registry`; it imports this module, whose decorators
add the commands to the group in the order `registry --help` lists them."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from zkaudit.cli.registry import (DB_REGISTRY, JSON, REGISTRY, REGISTRY_KEY, _pubkey, emit, open_registry,
                                  registry_app)
from zkaudit.errors import ZkauditError


@registry_app.command("publish")
def publish(
    model_dir: Path = typer.Argument(..., help="Compiled model directory (only DIR/public/ is read)."),
    name: str = typer.Option(..., "--name", help="Model name."),
    version: str = typer.Option(..., "--version", help="Version label; an existing NAME+VERSION is refused."),
    key: Path = typer.Option(..., "--key", help="Vendor keystore (registered with its proof of possession on first use)."),
    intended_use: str = typer.Option("", help="Model card: intended use."),
    training_data: str = typer.Option("", help="Model card: training data description."),
    metrics: str = typer.Option("{}", help="Model card: claimed metrics as a JSON object."),
    supersedes: str = typer.Option(None, "--supersedes", help="A version of the same model that this one upgrades "
                                   "to a hiding weight commitment (same circuit; DIR's commitment hashed, the old "
                                   "one not). `registry upgrade-commitment` does this for you."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a compiled model version, signed by the vendor key."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.artifacts import read_model_dir
    from zkaudit.registry.client import card_from, publish_local
    from zkaudit.registry.remote import is_remote

    try:
        claimed = json.loads(metrics)
    except ValueError as exc:
        raise ZkauditError(f"--metrics is not JSON: {exc}") from None
    from zkaudit.registry.weight_commitments import one_line

    art = read_model_dir(model_dir)
    vendor = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    card = card_from(intended_use, training_data, claimed)
    out = reg.publish_as(vendor, art, name, version, card, supersedes) if is_remote(reg.url) else \
        publish_local(reg, vendor, art, name, version, card, supersedes)
    words = f"\nweights:        {one_line(out['weight_commitment'])}" if "weight_commitment" in out else ""
    words += f"\nsupersedes:     {out['supersedes']}" if out.get("supersedes") else ""
    emit(as_json, out, f"published {name}@{version} by {out['vendor']}\ncircuit digest: {out['circuit_digest']}"
         f"{words}\nlog entry:      {out['log_index']} (this version's; a vendor key's first publication and a "
         f"model's first version each log their own entry before it)")


@registry_app.command("upgrade-commitment")
def upgrade_commitment(
    model_dir: Path = typer.Argument(..., help="The compiled model folder that was published with a plain "
                                               "(tensor-code) weight commitment."),
    key: Path = typer.Option(..., "--key", help="The vendor keystore that published it."),
    model: str = typer.Option(None, "--model", help="NAME@VERSION to upgrade (default: the one version whose "
                                                    "circuit and weight commitment are DIR's)."),
    version: str = typer.Option(None, "--version", help="Version label of the successor (default VERSION-hashed)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Upgrade a published version to a hiding weight commitment: same circuit, same weights, a new version.

    Checks that private/weights.bin commits to exactly the published plain
    commitment, writes the salted Poseidon2 commitment and its salt
    (private/weights.salt, mode 0600) into DIR in one atomic swap, and
    publishes NAME@NEW naming the version it supersedes (the log records the
    link; `registry show` of the old version says "superseded by"). If
    publishing fails, DIR is put back as it was. The old version stays
    published and valid until its vendor revokes it."""
    from zkaudit.registry import keys as bls

    from zkaudit.api import upgrade_commitment as upgrade_api
    from zkaudit.registry.weight_commitments import one_line

    vendor = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = upgrade_api(model_dir, vendor, reg, ref=model, new_version=version)
    emit(as_json, out, f"published {out['model']}@{out['version']} by {out['vendor']}, superseding "
         f"{out['supersedes']}\nweights: {one_line(out['weight_commitment'])}\n"
         f"salt:    {out['salt_file']} (keep it with private/weights.bin; never publish it)\n"
         f"log entry: {out['log_index']}")


alias_app = typer.Typer(name="alias", no_args_is_help=True,
                        help="Movable aliases: NAME@ALIAS (e.g. NAME@champion) names the version its vendor last "
                             "pointed ALIAS at; every move is signed and logged. NAME@latest needs none.")
registry_app.add_typer(alias_app, name="alias")


@alias_app.command("set")
def alias_set(name: str = typer.Argument(..., help="Model name."),
              alias: str = typer.Argument(..., help="Alias: lowercase letters, digits, '-' and '_', starting with a "
                                                    "letter ('latest' is reserved)."),
              version: str = typer.Argument(..., help="The version it names from now on."),
              key: Path = typer.Option(..., "--key", help="The model's vendor keystore (only its moves count)."),
              registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Point ALIAS at NAME@VERSION (a signed endorsement in the log); `--model NAME@ALIAS` then checks against it."""
    from zkaudit.registry import keys as bls

    from zkaudit.registry.aliases import set_alias

    out = set_alias(open_registry(registry, registry_key), bls.read_keystore(key), name, alias, version)
    emit(as_json, out, f"{name}@{alias} -> {name}@{version}\nlog entry: {out['log_index']}")


@alias_app.command("remove")
def alias_remove(name: str = typer.Argument(..., help="Model name."),
                 alias: str = typer.Argument(..., help="The alias to unset."),
                 key: Path = typer.Option(..., "--key", help="The model's vendor keystore."),
                 registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Unset ALIAS (a logged move); NAME@ALIAS then names no version."""
    from zkaudit.registry import keys as bls

    from zkaudit.registry.aliases import remove_alias

    out = remove_alias(open_registry(registry, registry_key), bls.read_keystore(key), name, alias)
    emit(as_json, out, f"{name}@{alias} removed (it named {name}@{out['version']})\nlog entry: {out['log_index']}")


@alias_app.command("list")
def alias_list(name: str = typer.Argument(..., help="Model name."), registry: str = REGISTRY,
               as_json: bool = JSON) -> None:
    """List a model's aliases and the versions they name, with latest."""
    from zkaudit.registry.remote import open_registry as open_any

    from zkaudit.api import resolve_model_ref
    from zkaudit.registry.aliases import aliases

    reg = open_any(registry)
    current = aliases(reg, name)
    try:
        latest = resolve_model_ref(reg, f"{name}@latest")[1]
    except ZkauditError:  # every version revoked
        latest = None
    doc = {"model": name, "aliases": current, "latest": latest}
    emit(as_json, doc, "\n".join([f"{name}@latest -> {name}@{latest}" if latest else f"{name}@latest: no version "
                                  "that is not revoked", *(f"{name}@{a} -> {name}@{v}" for a, v in current.items())]))


@registry_app.command("publish-dataset")
def publish_dataset(
    dataset: Path = typer.Argument(..., help="Dataset directory from `zkaudit data commit` (only the public "
                                             "dataset.json is read; the opening never leaves your machine)."),
    key: Path = typer.Option(..., "--key", help="The custodian's keystore: the key that signed the record "
                                                "(registered as a custodian on first use)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a custodian-signed dataset record (a transparency-log leaf)."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    from zkaudit.data.dataset import RECORD_FILE, read_signed
    from zkaudit.registry.client import publish_dataset_local

    record, signed = read_signed(dataset / RECORD_FILE, "dataset record")
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = reg.publish_dataset_as(k, record, signed) if is_remote(reg.url) else \
        publish_dataset_local(reg, k, record, signed)
    emit(as_json, out, f"published dataset {out['record_digest']} ({out['rows']} records) by {out['custodian']}\n"
         f"log entry: {out['log_index']}")


@registry_app.command("publish-consent")
def publish_consent(
    consent: Path = typer.Argument(..., help="Consent-table directory from `zkaudit consent commit` (consent.json "
                                             "and distinctness.zkp are read; table.npz is not)."),
    key: Path = typer.Option(..., "--key", help="The IRB's keystore: the key that signed the record (registered "
                                                "as an IRB on first use)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish an IRB consent-table version; its distinctness proof is verified first.

    Version 1 of a purpose comes first; version v supersedes the published
    version v-1 of the same IRB key and purpose. Consent proofs against an
    older version are then shown as "consent changed"."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    from zkaudit.data.consent_table import PROOF_FILE, RECORD_FILE
    from zkaudit.data.dataset import read_signed
    from zkaudit.registry.client import publish_consent_local

    record, signed = read_signed(consent / RECORD_FILE, "consent-table record")
    try:
        proof = (consent / PROOF_FILE).read_bytes()
    except OSError as exc:
        raise ZkauditError(f"cannot read the distinctness proof: {exc}") from None
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = reg.publish_consent_as(k, record, signed, proof) if is_remote(reg.url) else \
        publish_consent_local(reg, k, record, signed, proof)
    sup = f", supersedes {out['supersedes']}" if out["supersedes"] else ""
    emit(as_json, out, f"published consent table v{out['version']} ({out['purpose']}, {out['rows']} IDs) by "
         f"{out['irb']}: {out['record_digest']}{sup}\nlog entry: {out['log_index']}")


@registry_app.command("publish-consent-proof")
def publish_consent_proof(
    proof: Path = typer.Argument(..., help="Consent proof file from `zkaudit prove-consent`."),
    key: Path = typer.Option(..., "--key", help="The prover's keystore (a vendor's, or the custodian's; a new key "
                                                "is registered as a vendor on first use)."),
    allow_not_zero_knowledge: bool = typer.Option(
        False, "--allow-not-zero-knowledge", help="Publish although the proof is not zero-knowledge. Only for "
        "synthetic or public data: the flag is part of your signed statement, logged, and shown with the proof. "
        "Without it such a proof is refused (reason: not zero-knowledge)."),
    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON,
) -> None:
    """Publish a consent proof: the registry verifies it, and its dataset and (current)
    consent-table version must already be published."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    from zkaudit.registry.client import publish_consent_proof_local

    try:
        data = proof.read_bytes()
    except OSError as exc:
        raise ZkauditError(f"cannot read {proof}: {exc.strerror}") from None
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    out = (reg.publish_consent_proof_as if is_remote(reg.url) else
           lambda key, proof, **kw: publish_consent_proof_local(reg, key, proof, **kw))(
        k, data, allow_not_zero_knowledge=allow_not_zero_knowledge)
    zk = "zero-knowledge" if out["zero_knowledge"] else \
        "NOT ZERO-KNOWLEDGE (published with --allow-not-zero-knowledge: synthetic or public data only)"
    emit(as_json, out, f"published consent proof {out['proof_digest']} by {out['prover']}: valid, {zk}\n"
         f"  dataset {out['dataset']}\n  consent table v{out['table_version']} {out['consent_table']}\n"
         f"log entry: {out['log_index']}")


@registry_app.command("register-signer")
def register_signer(key: Path = typer.Option(..., "--key", help="The signer's keystore."),
                    role: str = typer.Option("regulator", help="vendor, regulator, custodian or irb."),
                    registry: str = DB_REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Register a signer (operator action on the database, e.g. admitting a regulator)."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote, resolve

    if is_remote(resolve(registry)):
        raise ZkauditError("register-signer is an operator action on the registry's database, not over HTTP",
                           hint="the operator runs it with --registry postgresql://... (vendors, custodians and "
                                "IRBs register on their first publication)")
    k = bls.read_keystore(key)
    out = open_registry(registry, registry_key).register_signer(name=k.name, role=role, public_key=k.public_key,
                                                                pop=k.proof_of_possession())
    emit(as_json, out, f"registered {role} {k.name}")


@registry_app.command("revoke")
def revoke(ref: str = typer.Argument(..., help="NAME@VERSION"), reason: str = typer.Option(..., help="Why."),
           key: Path = typer.Option(..., "--key", help="Vendor or regulator keystore."),
           registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Withdraw a model version with a signed reason."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.records import revocation, revocation_message
    from zkaudit.registry.remote import is_remote
    from zkaudit.registry.views import parse_ref

    name, version = parse_ref(ref)
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        out = reg.revoke_as(k, name, version, reason)
    else:
        sig = k.sign(revocation_message(revocation(model=name, version=version, reason=reason)))
        out = reg.revoke(model=name, version=version, reason=reason, signer=k.public_key, signature=sig)
    emit(as_json, out, f"revoked {ref}: {reason}\nlog entry: {out['log_index']}")


@registry_app.command("revoke-key")
def revoke_key(target: str = typer.Argument(..., help="The revoked key: a keystore file or its public key "
                                                      "(96 hex digits)."),
               from_time: str = typer.Option(..., "--from", help="From when it is compromised: Unix seconds or "
                                             "an ISO 8601 time (UTC unless it names a zone)."),
               reason: str = typer.Option(..., help="Why."),
               key: Path = typer.Option(..., "--key", help="The revoked key itself, or a regulator's keystore."),
               registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Revoke a signer key from a time on: every version it published from then is revoked, and it publishes no more."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    pk = _target_key(target)
    t = _time(from_time)
    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        out = reg.revoke_key_as(k, pk, t, reason)
    else:
        from zkaudit.registry.records import key_revocation, key_revocation_message

        sig = k.sign(key_revocation_message(key_revocation(public_key=pk, from_time=t, reason=reason)))
        out = reg.revoke_key(public_key=pk, from_time=t, reason=reason, signer=k.public_key, signature=sig)
    hit = ", ".join(out["versions_revoked"]) or "none yet"
    emit(as_json, out, f"revoked {out['signer']}'s key from {t}: {reason}\nversions revoked with it: {hit}\n"
         f"log entry: {out['log_index']}")


@registry_app.command("revoke-verifier")
def revoke_verifier(version: str = typer.Argument(..., help="The verifier version as proofs record it, e.g. "
                                                            "'zkaudit-verify 0.4.0 (envelope v4)'."),
                    reason: str = typer.Option(..., help="Why (the soundness bug)."),
                    key: Path = typer.Option(..., "--key", help="A regulator's keystore."),
                    registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Revoke a verifier version: every proof it accepted reads "re-verify" until `registry reverify`."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    k = bls.read_keystore(key)
    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        out = reg.revoke_verifier_as(k, version, reason)
    else:
        from zkaudit.registry.records import verifier_revocation, verifier_revocation_message

        sig = k.sign(verifier_revocation_message(verifier_revocation(verifier_version=version, reason=reason)))
        out = reg.revoke_verifier(verifier_version=version, reason=reason, signer=k.public_key, signature=sig)
    emit(as_json, out, f"revoked verifier {version!r}: {reason}\n{len(out['proofs_to_reverify'])} accepted "
         f"proof(s) now read re-verify (`zkaudit registry reverify DIGEST`)\nlog entry: {out['log_index']}")


@registry_app.command("reverify")
def reverify(proof_digest: str = typer.Argument(..., help="SHA-256 of a stored proof (see `registry show "
                                                          "NAME@VERSION`)."),
             key: Path = typer.Option(None, "--key", help="Any registered signer's keystore (needed for a served "
                                      "registry: the request is signed)."),
             registry: str = REGISTRY, registry_key: Path = REGISTRY_KEY, as_json: bool = JSON) -> None:
    """Check a proof accepted by a revoked verifier again, with this registry's verifier; the verdict is logged."""
    from zkaudit.registry import keys as bls
    from zkaudit.registry.remote import is_remote

    reg = open_registry(registry, registry_key)
    if is_remote(reg.url):
        if key is None:
            raise ZkauditError("reverify on a served registry needs --key (a registered signer's keystore)")
        out = reg.reverify_as(bls.read_keystore(key), proof_digest)
    else:
        out = reg.reverify(proof_digest=proof_digest)
    emit(as_json, out, f"proof {proof_digest[:16]}... re-verified by {out['verifier_version']}: "
         f"{'VALID' if out['valid'] else 'INVALID: ' + out['reason']}\nlog entry: {out['log_index']}")


def _target_key(value: str) -> bytes:
    from zkaudit.registry import keys as bls

    p = Path(value)
    if p.is_file():
        return bls.read_keystore(p).public_key
    return _pubkey(value, "the revoked key")


def _time(value: str) -> int:
    from datetime import datetime, timezone

    if value.strip().isdigit():
        return int(value)
    try:
        t = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ZkauditError(f"--from {value!r} is neither Unix seconds nor an ISO 8601 time",
                           hint="e.g. 2026-12-01T00:00:00Z or 1796083200") from None
    return int((t if t.tzinfo else t.replace(tzinfo=timezone.utc)).timestamp())
