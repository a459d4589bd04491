"""A registry served over HTTP (`zkaudit registry serve`), used like a local one.

`open_registry(URL)` gives a `store.Registry` for a database URL and a
`RemoteRegistry` for `https://...` (or `http://` on this machine only:
127.0.0.1, localhost, ::1). Reads need no key; writes are signed requests
(`client.build_request`), one method per write (`*_as(key, ...)`).

The client never trusts the server's verdicts or views. `check` (what
`zkaudit verify --model` runs) verifies the proof here, against artifacts
the log vouches for:

1. The registry key is pinned on first contact, per origin (`known_heads`,
   like ssh's known_hosts; or given with `pubkey=`): another key later is
   refused.
2. The latest signed tree head H must verify under that key and extend the
   highest head K this machine has seen: a consistency proof from K to H
   (RFC 9162), so a registry that rewrote, forked or rolled back its log is
   caught. H is then remembered.
3. `GET /v1/log/range` returns the entries from the version's own entry i to
   H's size with the stored subtree hashes of D[0:i]; appending the leaves
   must give H's root. That proves entry i (and every later one) is in the
   log at its place.
4. Entry i's record names the circuit and weight-commitment digests; the
   bytes served must hash to them. Every entry from i on is scanned for a
   revocation of this version or of its vendor key (`audit.revocation_reason`),
   entries past H too (those can only refuse).

What it cannot see: entries the registry withholds beyond the newest head it
serves (no gossip between clients), and key revocations logged before the
version's entry (the registry refuses such publications; `verify-log`
audits the whole log).
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from zkaudit import __version__
from zkaudit.errors import ZkauditError
from zkaudit.registry import client, merkle, records
from zkaudit.registry.audit import AuditReport, CheckedVersion, audit_export, revocation_reason
from zkaudit.registry.encoding import EncodingError, decode, sha256_hex
from zkaudit.registry.errors import (AlreadyExists, BadSignature, Forbidden, LogMismatch, NotFound, RegistryError,
                                     TooLarge)
from zkaudit.registry.keys import PUBKEY_LEN, KeyPair
from zkaudit.registry.known_heads import ENV as KNOWN_HEADS_ENV
from zkaudit.registry.known_heads import KnownHeads
from zkaudit.registry.log import SignedTreeHead

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
ENV_PUBKEY = "ZKAUDIT_REGISTRY_PUBKEY"
RANGE_PAGE = 2000
_HEX = re.compile(r"[0-9a-fA-F]{8,64}")


def is_remote(url: str | None) -> bool:
    return isinstance(url, str) and url.strip().lower().startswith(("http://", "https://"))


def resolve(url: str | None) -> str | None:
    """`--registry` as given, else `$ZKAUDIT_REGISTRY_URL` (None: the default database file)."""
    from zkaudit.registry.db import ENV_URL

    return url or os.environ.get(ENV_URL) or None


def open_registry(url: str | None, **kw: Any):
    """A `RemoteRegistry` for an http(s) URL, else the database's `store.Registry`."""
    url = resolve(url)
    if is_remote(url):
        return RemoteRegistry(url, **kw)
    from zkaudit.registry.store import Registry

    return Registry(url)


class RateLimited(RegistryError):
    status = 429


class Revoked(RegistryError):
    status = 410


_BY_STATUS = {401: BadSignature, 403: Forbidden, 404: NotFound, 409: AlreadyExists, 410: Revoked, 413: TooLarge,
              429: RateLimited}


class RemoteRegistry:
    """The registry at `url`, over HTTP. `transport` is an httpx transport
    (tests pass `httpx.ASGITransport`-like ones or an in-process app);
    `pubkey` pins the registry key (default `$ZKAUDIT_REGISTRY_PUBKEY`, else
    trust on first use)."""

    remote = True

    def __init__(self, url: str, *, transport: Any = None, timeout: float = 120.0, pubkey: bytes | None = None):
        import httpx

        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        if parts.scheme.lower() not in ("http", "https") or not host:
            raise ZkauditError(f"registry URL {url!r} is not an http(s) URL with a host")
        if parts.scheme.lower() == "http" and host not in LOCAL_HOSTS:
            raise ZkauditError(f"registry URL {url} uses plain http to another machine",
                               hint="use https:// (plain http is accepted for 127.0.0.1 and localhost only)")
        self.url = url.strip().rstrip("/")
        self.origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"
        # Idle connections are dropped after 1 s, well before a server closes them
        # (uvicorn: 5 s): reusing one the server is closing loses the request.
        self.http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport,
                                 limits=httpx.Limits(keepalive_expiry=1.0),
                                 headers={"User-Agent": f"zkaudit/{__version__}"})
        if pubkey is None and os.environ.get(ENV_PUBKEY):
            pubkey = _pubkey(os.environ[ENV_PUBKEY], f"${ENV_PUBKEY}")
        self._pinned_by_caller = pubkey
        self._pk: bytes | None = None
        self.known_heads: KnownHeads | None = KnownHeads.default()
        self._verified: set[SignedTreeHead] = set()
        self._artifacts: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self._frontier: merkle.Frontier | None = None  # where the last proven log_range ended

    def close(self) -> None:
        self.http.close()

    def __repr__(self) -> str:
        return f"RemoteRegistry({self.url!r})"

    # -- HTTP ------------------------------------------------------------

    def _request(self, method: str, path: str, **kw: Any):
        import httpx

        try:
            try:
                r = self.http.request(method, path, **kw)
            except httpx.RemoteProtocolError:
                if method != "GET":
                    raise
                r = self.http.request(method, path, **kw)  # a kept-alive connection closed under us: once more
        except httpx.TimeoutException:
            raise ZkauditError(f"registry {self.url} did not answer {method} {path} in time",
                               hint="try again later") from None
        except httpx.HTTPError as exc:
            raise ZkauditError(f"cannot reach the registry at {self.url}: {exc}",
                               hint="check the URL and that `zkaudit registry serve` runs there") from None
        if r.status_code >= 400:
            raise self._error(r, method, path)
        return r

    def _error(self, r, method: str, path: str) -> ZkauditError:
        try:
            doc = r.json()
            title, detail, hint = str(doc.get("title") or doc.get("error")), str(doc.get("detail")), doc.get("hint")
        except ValueError:
            title, detail, hint = "HTTPError", r.text[:200] or r.reason_phrase, None
        if r.status_code == 429 and r.headers.get("retry-after"):
            hint = f"retry after {r.headers['retry-after']} s"
        cls = _BY_STATUS.get(r.status_code, RegistryError)
        err = cls(f"registry {self.url} refused {method} {path}: {r.status_code} {title}: {detail}",
                  hint=hint if isinstance(hint, str) else None)
        err.status = r.status_code
        return err

    def _json(self, path: str, **params: Any) -> Any:
        r = self._request("GET", path, params=params or None)
        try:
            return r.json()
        except ValueError:
            raise ZkauditError(f"registry {self.url} answered GET {path} with something that is not JSON") from None

    def _bytes(self, path: str) -> bytes:
        return self._request("GET", path).content

    def _all_pages(self, path: str, cursor: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        after = None
        while True:
            page = self._json(path, limit=500, **({} if after is None else {"after": after}))
            out += page
            if len(page) < 500:
                return out
            after = page[-1][cursor]

    @staticmethod
    def _v(model: str, version: str) -> str:
        from urllib.parse import quote

        return f"/v1/models/{quote(model, safe='')}/versions/{quote(version, safe='')}"

    # -- the registry key, pinned on first use ----------------------------

    @property
    def public_key(self) -> bytes:
        if self._pk is None:
            info = self._json("/v1/registry")
            pk = _pubkey(info.get("registry_public_key") if isinstance(info, dict) else None,
                         f"the key {self.url} presents")
            want = self._pinned_by_caller
            if want is None or want == pk:
                # remembered (or already pinned) here; an explicit pin is recorded too
                want = pk if self.known_heads is None else self.known_heads.pin(self.origin, pk)
            if want != pk:
                how = (f"pinned with ${ENV_PUBKEY}/--registry-pubkey" if self._pinned_by_caller not in (None, pk)
                       else f"pinned on first contact in {self.known_heads.path}")
                raise LogMismatch(f"the registry at {self.url} presents key {pk.hex()[:16]}..., not the key "
                                  f"{want.hex()[:16]}... {how}: another registry, or its key was replaced")
            self._pk = pk
        return self._pk

    # -- reads -------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return self._json("/v1/registry")

    def list_models(self, *, limit: int | None = None, after: str | None = None) -> list[dict[str, Any]]:
        if limit is None and after is None:
            return self._all_pages("/v1/models", "name")
        return self._json("/v1/models", **{k: v for k, v in (("limit", limit), ("after", after)) if v is not None})

    def show_model(self, model: str) -> dict[str, Any]:
        from urllib.parse import quote

        return self._json(f"/v1/models/{quote(model, safe='')}")

    def show_version(self, model: str, version: str) -> dict[str, Any]:
        return self._json(self._v(model, version))

    def attestations(self, model: str, version: str) -> list[dict[str, Any]]:
        return self._all_pages(self._v(model, version) + "/attestations", "log_index")

    def proofs(self, model: str, version: str) -> list[dict[str, Any]]:
        return self._all_pages(self._v(model, version) + "/proofs", "log_index")

    def signer(self, public_key: bytes) -> dict[str, Any]:
        return self._json(f"/v1/signers/{public_key.hex()}")

    def signer_role(self, public_key: bytes) -> str | None:
        try:
            return self.signer(public_key)["role"]
        except NotFound:
            return None

    def is_chain_ref(self, ref: str) -> bool:
        if _HEX.fullmatch(ref.strip()) is None:
            return False
        try:
            self.show_record(ref)
        except NotFound:
            return False
        except RegistryError:
            return True  # ambiguous: show_record says so
        return True

    def show_record(self, ref: str) -> dict[str, Any]:
        return self._json(f"/v1/records/{ref.strip().lower()}")

    def is_training_ref(self, ref: str) -> bool:
        """Whether `ref` names a training run, training proof or link proof on the server."""
        if _HEX.fullmatch(ref.strip()) is None:
            return False
        try:
            self.show_training(ref)
        except NotFound:
            return False
        except RegistryError:
            return True  # ambiguous: show_training says so
        return True

    def show_training(self, ref: str) -> dict[str, Any]:
        """The training chain (run, coin, training and link proofs, accountant) as the server reports it."""
        return self._json(f"/v1/training/{ref.strip().lower()}")

    def revocations(self) -> dict[str, Any]:
        return self._json("/v1/revocations")

    def revoked_verifier(self, version: str | None = None) -> str | None:
        from zkaudit.statements.verify import VERIFIER_VERSION

        want = version or VERIFIER_VERSION
        for r in self.revocations().get("verifiers", []):
            if r.get("verifier_version") == want:
                return str(r.get("reason"))
        return None

    def head(self) -> dict[str, Any]:
        return self._json("/v1/log/head")

    def log_size(self) -> int:
        return int(self.head()["log_size"])

    def entry(self, index: int) -> dict[str, Any]:
        return self._json(f"/v1/log/entries/{int(index)}")

    def inclusion(self, index: int, tree_size: int) -> dict[str, Any]:
        return self._json("/v1/log/inclusion", index=index, tree_size=tree_size)

    def consistency(self, first: int, second: int) -> dict[str, Any]:
        return self._json("/v1/log/consistency", first=first, second=second)

    def export_log(self) -> dict[str, Any]:
        return self._json("/v1/log/export")

    def artifacts(self, model: str, version: str) -> tuple[bytes, bytes]:
        """(circuit.bin, weights.commitment): the ones `checked_version` proved
        against the log when it ran; else as served (unchecked)."""
        got = self._artifacts.get((model, version))
        if got is not None:
            return got
        return self._bytes(self._v(model, version) + "/circuit"), \
            self._bytes(self._v(model, version) + "/weight-commitment")

    # -- checks: nothing the server says is taken on trust -----------------

    def verified_head(self) -> tuple[SignedTreeHead, int]:
        """The latest signed head, checked (signature, extends the highest head
        seen here) and remembered; with the server's current log size."""
        pk = self.public_key
        doc = self.head()
        try:
            if bytes.fromhex(doc["registry_public_key"]) != pk:
                raise LogMismatch(f"{self.url} names another registry key in its head")
            raw, log_size = doc["signed_head"], int(doc["log_size"])
        except (KeyError, TypeError, ValueError):
            raise LogMismatch(f"{self.url} served a malformed head document") from None
        if raw is None:
            raise LogMismatch(f"the registry at {self.url} serves no signed tree head")
        try:
            sth = SignedTreeHead.from_json(raw)
        except ValueError as exc:
            raise LogMismatch(f"{self.url} served a malformed tree head: {exc}") from None
        known = self.known_head()
        if sth != known and sth not in self._verified:
            try:
                sth.verify(pk)
            except BadSignature:
                raise LogMismatch(f"the tree head at size {sth.tree_size} from {self.url} is not signed by the "
                                  "registry key") from None
            self._verified.add(sth)
        if known is not None:
            self._check_extends(known, sth)
        if self.known_heads is not None:
            self.known_heads.record(pk, sth)
        return sth, max(log_size, sth.tree_size)

    def known_head(self) -> SignedTreeHead | None:
        return None if self.known_heads is None else self.known_heads.get(self.public_key)

    def _check_extends(self, known: SignedTreeHead, sth: SignedTreeHead) -> None:
        where = f"(seen before: {self.known_heads.path}, ${KNOWN_HEADS_ENV})"
        if known.tree_size > sth.tree_size:
            raise LogMismatch(f"the registry at {self.url} serves a signed head of size {sth.tree_size}, smaller "
                              f"than the head of size {known.tree_size} this machine saw before {where}: its log "
                              "was rolled back or forked", index=sth.tree_size)
        if known.tree_size == sth.tree_size:
            if known.root_hash != sth.root_hash:
                raise LogMismatch(f"the registry at {self.url} signed two different logs of size {sth.tree_size} "
                                  f"(root {sth.root_hash.hex()[:16]}... now, {known.root_hash.hex()[:16]}... seen "
                                  f"before {where}): its history was forked", index=sth.tree_size)
            return
        try:
            proof = [bytes.fromhex(h) for h in self.consistency(known.tree_size, sth.tree_size)["proof"]]
        except (KeyError, TypeError, ValueError):
            raise LogMismatch(f"{self.url} served a malformed consistency proof") from None
        if not merkle.verify_consistency(known.tree_size, sth.tree_size, known.root_hash, sth.root_hash, proof):
            raise LogMismatch(f"the log at {self.url} (size {sth.tree_size}) does not extend the head of size "
                              f"{known.tree_size} this machine saw before {where}: its history was rewritten",
                              index=known.tree_size)

    def log_range(self, start: int, end: int, sth: SignedTreeHead | None,
                  frontier: merkle.Frontier | None = None) -> list[tuple[int, str, bytes]]:
        """Entries start..end-1. With `sth` (end == its size) they are proven:
        the subtree hashes of D[0:start] (`frontier`, from an earlier proven
        pass, else as served) plus these leaves must give its root."""
        out: list[tuple[int, str, bytes]] = []
        fr = frontier
        pos = start
        while pos < end or (sth is not None and fr is None):
            stop = min(end, pos + RANGE_PAGE)
            doc = self._json("/v1/log/range", start=pos, end=stop, prefix=str(sth is not None and fr is None).lower())
            try:
                if fr is None and sth is not None:
                    fr = merkle.Frontier(start, [bytes.fromhex(h) for h in doc["prefix"]])
                rows = [(int(e["index"]), str(e["kind"]), bytes.fromhex(e["body"])) for e in doc["entries"]]
            except (KeyError, TypeError, ValueError):
                raise LogMismatch(f"{self.url} served a malformed log range {pos}..{stop - 1}", index=pos) from None
            if [i for i, _, _ in rows] != list(range(pos, stop)):
                raise LogMismatch(f"{self.url} served log entries out of order or missing in {pos}..{stop - 1}",
                                  index=pos)
            for _, _, body in rows:
                if fr is not None:
                    fr.append(merkle.leaf_hash(body))
            out += rows
            pos = stop
        if sth is not None and fr.root() != sth.root_hash:
            raise LogMismatch(f"log entries {start}..{end - 1} served by {self.url} do not match its signed tree "
                              f"head at size {sth.tree_size}: the entries (or the rows they record) were "
                              "rewritten", index=start)
        self._frontier = fr
        return out

    def _scan_name(self, model: str, version: str) -> str:
        return f"{self.public_key.hex()} {self.origin} {model}@{version}"

    def _resume(self, model: str, version: str, i: int, size: int) -> dict | None:
        """The cached pass over this version's entries, if it fits (same entry, not past `size`)."""
        if self.known_heads is None:
            return None
        try:
            doc = self.known_heads.scan(self._scan_name(model, version))
        except ZkauditError:
            return None
        try:
            if doc is None or doc["log_index"] != i or not i < doc["size"] <= size:
                return None
            doc["frontier_obj"] = merkle.Frontier(doc["size"], [bytes.fromhex(h) for h in doc["frontier"]])
            doc["vendor_bytes"] = bytes.fromhex(doc["vendor"])
            return doc
        except (KeyError, TypeError, ValueError):
            return None

    def checked_version(self, model: str, version: str) -> CheckedVersion:
        """`model@version` as the log vouches for it (steps 2-4 above). The pass
        over the entries after the version's is cached per version (the
        frontier at the head it reached, in the known-heads file): the next
        check fetches and hashes only newer entries, and the cached frontier
        counts only if it reproduces the new head's root."""
        sth, log_size = self.verified_head()
        view = self.show_version(model, version)
        try:
            i = int(view["log_index"])
        except (KeyError, TypeError, ValueError):
            raise LogMismatch(f"{self.url} served a malformed view of {model}@{version}") from None
        if not 0 <= i < sth.tree_size:
            raise LogMismatch(f"{model}@{version} (log entry {i}) is not covered by the registry's latest signed "
                              f"head (size {sth.tree_size}) yet: try again shortly", index=i)
        cached = self._resume(model, version, i, sth.tree_size)
        if cached is not None:
            try:
                proven = self.log_range(cached["size"], sth.tree_size, sth, cached["frontier_obj"])
            except LogMismatch:  # a stale or damaged cache: the full pass decides
                cached = None
        if cached is not None:
            digests = {"circuit_digest": cached["circuit_digest"],
                       "weight_commitment_digest": cached["weight_commitment_digest"]}
            vendor, published_at, revoked = cached["vendor_bytes"], cached["published_at"], cached["revoked"]
        else:
            proven = self.log_range(i, sth.tree_size, sth)
            try:
                doc = decode(proven[0][2])
                kind, record, published_at = doc["kind"], doc["record"], doc["time"]
            except (EncodingError, TypeError, KeyError):
                raise LogMismatch(f"log entry {i} is not a canonical log entry", index=i) from None
            if kind != "model-version" or not isinstance(record, dict) or \
                    (record.get("model"), record.get("version")) != (model, version):
                raise LogMismatch(f"{self.url} names log entry {i} for {model}@{version}, but that entry records "
                                  f"{kind} {record.get('model') if isinstance(record, dict) else ''}"
                                  f"@{record.get('version') if isinstance(record, dict) else ''}", index=i)
            digests = {k: record.get(k) for k in ("circuit_digest", "weight_commitment_digest")}
            vendor, revoked = record.get("vendor"), None
        frontier = self._frontier
        revoked = revoked or self._revocation(proven, model, version, vendor, published_at)
        if self.known_heads is not None and isinstance(vendor, bytes):
            self.known_heads.record_scan(self._scan_name(model, version), {
                "log_index": i, "size": frontier.size, "frontier": [h.hex() for _, _, h in frontier.stack],
                "vendor": vendor.hex(), "published_at": published_at, "revoked": revoked, **digests})
        # Entries past the head are not proven: a revocation there can only refuse.
        tail = self.log_range(sth.tree_size, log_size, None) if log_size > sth.tree_size else []
        revoked = revoked or self._revocation(tail, model, version, vendor, published_at)
        circuit = self._bytes(self._v(model, version) + "/circuit")
        commitment = self._bytes(self._v(model, version) + "/weight-commitment")
        for what, data, field in (("circuit", circuit, "circuit_digest"),
                                  ("weight commitment", commitment, "weight_commitment_digest")):
            if sha256_hex(data) != digests[field]:
                raise LogMismatch(f"the {what} {self.url} serves for {model}@{version} is not the one logged in "
                                  f"entry {i} (sha256 {sha256_hex(data)[:16]}..., logged "
                                  f"{str(digests[field])[:16]}...)", index=i)
        self._artifacts[(model, version)] = (circuit, commitment)
        return CheckedVersion(circuit, commitment, revoked, sth)

    @staticmethod
    def _revocation(entries, model: str, version: str, vendor, published_at) -> str | None:
        for _, _, body in entries:
            if b"revocation" not in body:  # the kind is a raw string in a revocation's body
                continue
            try:
                e = decode(body)
                why = revocation_reason(e["kind"], e["record"], model=model, version=version, vendor=vendor,
                                        published_at=published_at)
            except (EncodingError, TypeError, KeyError):
                raise LogMismatch("a log entry after the version's is not a canonical log entry") from None
            if why is not None:
                return why
        return None

    def check(self, *, model: str, version: str, proof: bytes, input_commitment: bytes | None = None,
              inputs=None):
        """Verify `proof` HERE against the artifacts the log vouches for (never
        the server's verdict); a revoked version or verifier is refused."""
        from zkaudit.statements.verify import VERIFIER_VERSION, Verdict, verify_proof

        cv = self.checked_version(model, version)
        if cv.revoked is not None:
            return Verdict(False, None, None, f"{model}@{version} was revoked: {cv.revoked}")
        why = self.revoked_verifier()
        if why is not None:
            return Verdict(False, None, None, f"this verifier ({VERIFIER_VERSION}) was revoked by the registry: "
                           f"{why}; upgrade zkaudit and check again")
        return verify_proof(proof, circuit_bin=cv.circuit_bin, weight_commitment=cv.weight_commitment,
                            input_commitment=input_commitment, inputs=inputs)

    def verify_log(self, *, registry_pk: bytes | None = None, since: SignedTreeHead | None = None) -> AuditReport:
        """Audit the served log (entries and signed heads; the rows behind it
        are audited only where the database is at hand)."""
        if registry_pk is not None:
            self._pinned_by_caller = registry_pk
        pk = self.public_key
        doc = self.export_log()
        try:
            if bytes.fromhex(doc["registry_public_key"]) != pk:
                raise LogMismatch(f"{self.url} exports the log of another registry key")
        except (KeyError, TypeError, ValueError):
            raise LogMismatch(f"{self.url} served a malformed log export") from None
        try:
            rep = audit_export(doc, registry_pk=pk, since=since, known=self.known_head())
        except ValueError as exc:
            raise LogMismatch(f"{self.url} served a malformed log export: {exc}") from None
        rep.notes.append(f"audited over HTTP ({self.url}): entries and signed heads; rows are audited by "
                         "`verify-log` on the database itself")
        if rep.ok and doc["tree_heads"] and self.known_heads is not None:
            latest = max((SignedTreeHead.from_json(h) for h in doc["tree_heads"]), key=lambda h: h.tree_size)
            self.known_heads.record(pk, latest)
        return rep

    # -- signed writes -----------------------------------------------------

    def _post(self, path: str, action: str, key: KeyPair, payload: dict[str, Any]) -> dict[str, Any]:
        body = client.build_request(key, action, self.public_key, payload)
        return self._request("POST", path, json=body).json()

    def _first_use(self, key: KeyPair) -> dict[str, Any]:
        if self.signer_role(key.public_key) is not None:
            return {}
        return {"signer_name": key.name, "proof_of_possession": key.proof_of_possession().hex()}

    def attest_as(self, key: KeyPair, tag: str, statement: dict[str, Any], signature: bytes) -> dict[str, Any]:
        """A statement signed by `key` alone (e.g. an alias move, `aliases.py`)."""
        payload = {"tag": tag, "statement": statement, "signers": [key.public_key.hex()], "signature": signature.hex()}
        return self._post("/v1/attestations", "attest", key, payload)

    def publish_as(self, key: KeyPair, art, model: str, version: str, card: dict[str, str],
                   supersedes: str | None = None) -> dict[str, Any]:
        payload = client.publish_payload(key, art, model, version, card,
                                         first_use=self.signer_role(key.public_key) is None, supersedes=supersedes)
        return self._post("/v1/publish", "publish", key, payload)

    def submit_proof_as(self, key: KeyPair, model: str, version: str, proof: bytes,
                        input_commitment: bytes | None = None) -> dict[str, Any]:
        payload = {"model": model, "version": version, "proof": client.b64(proof)}
        if input_commitment is not None:
            payload["input_commitment"] = input_commitment.hex()
        return self._post("/v1/proofs", "submit-proof", key, payload)

    def revoke_as(self, key: KeyPair, model: str, version: str, reason: str) -> dict[str, Any]:
        sig = key.sign(records.revocation_message(records.revocation(model=model, version=version, reason=reason)))
        return self._post("/v1/revocations", "revoke", key,
                          {"model": model, "version": version, "reason": reason, "signature": sig.hex()})

    def revoke_key_as(self, key: KeyPair, public_key: bytes, from_time: int, reason: str) -> dict[str, Any]:
        sig = key.sign(records.key_revocation_message(records.key_revocation(public_key=public_key,
                                                                             from_time=from_time, reason=reason)))
        return self._post("/v1/revocations/keys", "revoke-key", key, {
            "public_key": public_key.hex(), "from_time": from_time, "reason": reason, "signature": sig.hex()})

    def revoke_verifier_as(self, key: KeyPair, verifier_version: str, reason: str) -> dict[str, Any]:
        sig = key.sign(records.verifier_revocation_message(records.verifier_revocation(
            verifier_version=verifier_version, reason=reason)))
        return self._post("/v1/revocations/verifiers", "revoke-verifier", key, {
            "verifier_version": verifier_version, "reason": reason, "signature": sig.hex()})

    def reverify_as(self, key: KeyPair, proof_digest: str) -> dict[str, Any]:
        return self._post(f"/v1/proofs/{proof_digest}/reverify", "reverify", key, {"proof_digest": proof_digest})

    def publish_dataset_as(self, key: KeyPair, record: dict, signed: dict | None) -> dict[str, Any]:
        from zkaudit.data.canonical import digest

        sig = client.record_signature(key, records.DATASET_RECORD, digest(record), signed, "dataset record")
        return self._post("/v1/datasets", "publish-dataset", key,
                          {"record": record, "signature": sig.hex(), **self._first_use(key)})

    def publish_consent_as(self, key: KeyPair, record: dict, signed: dict | None, proof: bytes) -> dict[str, Any]:
        from zkaudit.data.canonical import digest

        sig = client.record_signature(key, records.CONSENT_TABLE_RECORD, digest(record), signed,
                                      "consent-table record")
        return self._post("/v1/consent-tables", "publish-consent", key, {
            "record": record, "signature": sig.hex(), "distinctness_proof": client.b64(proof), **self._first_use(key)})

    def publish_consent_proof_as(self, key: KeyPair, proof: bytes, *, allow_not_zero_knowledge: bool) -> dict[str, Any]:
        stmt = client.consent_proof_statement(proof, allow_not_zero_knowledge=allow_not_zero_knowledge)
        sig = key.sign(records.consent_proof_message(stmt))
        return self._post("/v1/consent-proofs", "publish-consent-proof", key, {
            "proof": client.b64(proof), "signature": sig.hex(), "allow_not_zero_knowledge": allow_not_zero_knowledge,
            **self._first_use(key)})


def _pubkey(value: Any, what: str) -> bytes:
    try:
        pk = bytes.fromhex(value)
    except (TypeError, ValueError):
        pk = b""
    if len(pk) != PUBKEY_LEN:
        raise ZkauditError(f"{what} is not a registry public key ({2 * PUBKEY_LEN} hex digits)")
    return pk
