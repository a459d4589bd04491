"""The registry's HTTP API (FastAPI). Reads are public; every write is a
signed request (`auth.py`) from a registered signer. OpenAPI at /docs.

Errors are RFC 9457 problem details (`application/problem+json`: type,
title, status, detail, plus `error` = the title and `hint` when there is
one), as documented in registry/README.md: a request body over `max_body`
bytes (default 16 MiB) is refused with 413 before it is read in full;
malformed JSON is 400; a payload with missing or extra fields 422; a bad
signature 401; a signer without the right 403; an unknown model 404; an
existing entry or a replayed nonce 409; a revoked model 410; too many
writes 429 (per client address and per signer key, with Retry-After). A
proof check over its time or memory budget is 422, a crashed verifier 500,
all verifier workers busy 503 (see `sandbox.py`); a registry whose log does
not verify answers 500. A refused request changes nothing (writes are
single transactions).

Lists are paged (`limit`, `after`; a `Link: <...>; rel="next"` header names
the next page). Immutable records (circuits, commitments, log entries and
ranges, inclusion and consistency proofs) carry a strong ETag and
`Cache-Control: immutable`; `If-None-Match` answers 304.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from zkaudit import __version__
from zkaudit.errors import ZkauditError
from zkaudit.registry import records
from zkaudit.registry.artifacts import PublicArtifacts
from zkaudit.registry.auth import RequestAuth
from zkaudit.registry.errors import LogMismatch, RegistryError
from zkaudit.registry.limits import BodyLimit, problem_body
from zkaudit.registry.store import Registry

MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_PAGE = 500
RANGE_PAGE = 2000  # log entries per /v1/log/range answer
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, *, hint: str | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(problem_body(status, title, detail, hint), status_code=status, media_type=PROBLEM,
                        headers=headers)


class RateLimited(RegistryError):
    status = 429

    def __init__(self, message: str, retry_after: float):
        super().__init__(message, hint="wait and retry")
        self.retry_after = retry_after


class RateLimiter:
    """Token buckets for writes, one per client address and one per signer
    key, in this process (each uvicorn worker keeps its own: with W workers
    a client gets up to W times the rate). `rate` tokens per second refill a
    bucket of `burst`."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = float(rate), int(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, what: str) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        with self._lock:
            tokens, seen = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - seen) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                wait = (1.0 - tokens) / self.rate
                raise RateLimited(f"too many writes from {what}: at most {self.burst} at once, then "
                                  f"{self.rate:g} per second", retry_after=wait)
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle buckets (full again by now)
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.burst / self.rate}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuthIn(_Strict):
    signer: str
    nonce: str
    timestamp: int
    signature: str


class ModelCardIn(_Strict):
    intended_use: str
    training_data: str
    claimed_metrics: str


class PublishIn(_Strict):
    model: str
    version: str
    vendor_public_key: str
    vendor_name: str | None = None
    proof_of_possession: str | None = None
    circuit: str
    weight_commitment: str
    summary: dict[str, Any]
    model_card: ModelCardIn
    signature: str
    supersedes: str | None = None  # a version of `model` this one upgrades to a hiding weight commitment


class ProofIn(_Strict):
    model: str
    version: str
    proof: str
    input_commitment: str | None = None  # hex; a committed-input proof must then be bound to it


class RevokeIn(_Strict):
    model: str
    version: str
    reason: str
    signature: str


class AttestIn(_Strict):
    tag: str
    statement: dict[str, Any]
    signers: list[str]
    signature: str


class KeyRevokeIn(_Strict):
    public_key: str
    from_time: int
    reason: str
    signature: str


class VerifierRevokeIn(_Strict):
    verifier_version: str
    reason: str
    signature: str


class ReverifyIn(_Strict):
    proof_digest: str


class DatasetIn(_Strict):
    record: dict[str, Any]
    signature: str
    signer_name: str | None = None
    proof_of_possession: str | None = None


class ConsentTableIn(DatasetIn):
    distinctness_proof: str


class ConsentProofIn(_Strict):
    proof: str
    signature: str
    allow_not_zero_knowledge: bool = False
    signer_name: str | None = None
    proof_of_possession: str | None = None


class KeyRevokeRequest(_Strict):
    payload: KeyRevokeIn
    auth: AuthIn


class VerifierRevokeRequest(_Strict):
    payload: VerifierRevokeIn
    auth: AuthIn


class ReverifyRequest(_Strict):
    payload: ReverifyIn
    auth: AuthIn


class DatasetRequest(_Strict):
    payload: DatasetIn
    auth: AuthIn


class ConsentTableRequest(_Strict):
    payload: ConsentTableIn
    auth: AuthIn


class ConsentProofRequest(_Strict):
    payload: ConsentProofIn
    auth: AuthIn


class PublishRequest(_Strict):
    payload: PublishIn
    auth: AuthIn


class ProofRequest(_Strict):
    payload: ProofIn
    auth: AuthIn


class RevokeRequest(_Strict):
    payload: RevokeIn
    auth: AuthIn


class AttestRequest(_Strict):
    payload: AttestIn
    auth: AuthIn


def _b64(field: str, value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise RegistryError(f"{field} is not valid base64") from None


def _hex(field: str, value: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise RegistryError(f"{field} is not valid hex") from None


def _opt_hex(field: str, value: str | None) -> bytes | None:
    return None if value is None else _hex(field, value)


def _etagged(request: Request, content: bytes, media_type: str, *, immutable: bool) -> Response:
    """`content` with a strong ETag (its SHA-256); 304 when the client has it."""
    tag = '"' + hashlib.sha256(content).hexdigest()[:40] + '"'
    headers = {"ETag": tag, "Cache-Control": "public, max-age=31536000, immutable" if immutable else "no-cache"}
    wanted = request.headers.get("if-none-match", "")
    if tag in [t.strip().removeprefix("W/") for t in wanted.split(",")] or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def _json_bytes(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def _paged(request: Request, items: list, limit: int, cursor) -> JSONResponse:
    """A page, with a Link to the next one when this one is full."""
    headers = {}
    if len(items) == limit and items:
        q = {**request.query_params, "limit": str(limit), "after": str(cursor(items[-1]))}
        headers["Link"] = f'<{request.url.path}?{urlencode(q)}>; rel="next"'
    return JSONResponse(items, headers=headers)


def create_app(reg: Registry, *, max_body: int = MAX_BODY_BYTES, write_rate: float = 5.0,
               write_burst: int = 60) -> FastAPI:
    """The API over `reg`. Writes are limited per client address and per
    signer key to `write_burst` at once, refilled at `write_rate` per second
    (0 turns the limit off)."""
    app = FastAPI(title="zkaudit registry", version=__version__,
                  description="Published models, signed attestations, verified proofs, revocations and the "
                              "transparency log. Reads are public; writes are signed requests (see auth.py). "
                              "Errors are application/problem+json.")
    app.add_middleware(BodyLimit, max_body=max_body)
    limiter = RateLimiter(write_rate, write_burst)

    async def _signed(request: Request, action: str) -> RequestAuth:
        """The request's auth, bound to the exact JSON payload that was sent; the write is
        counted against its client address and its (claimed) signer."""
        limiter.take("ip:" + (request.client.host if request.client else "?"), "this address")
        doc = json.loads(await request.body())
        auth = RequestAuth.from_json(action, doc["auth"], doc["payload"])
        limiter.take("key:" + auth.signer.hex(), "this signer key")
        return auth


    @app.exception_handler(ZkauditError)
    async def _zk_error(_req: Request, exc: ZkauditError) -> JSONResponse:
        # A log that does not verify is the registry's fault, not the client's.
        status = exc.status if isinstance(exc, RegistryError) else 500 if isinstance(exc, LogMismatch) else 400
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if isinstance(exc, RateLimited) else None
        return problem(status, type(exc).__name__, exc.message, hint=exc.hint,
                       headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem(400, "MalformedJSON", "request body is not valid JSON")
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errs)
        return problem(422, "InvalidRequest", detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "HTTPError")
        return problem(exc.status_code, title, str(exc.detail), headers=getattr(exc, "headers", None))

    # -- reads ------------------------------------------------------------

    @app.get("/v1/registry", summary="Registry identity: its public key and the log size")
    async def info() -> dict[str, Any]:
        return await run_in_threadpool(reg.head)

    @app.get("/v1/models", summary="Models with their versions, by name (paged: limit, after=NAME)")
    async def models(request: Request, limit: int = Query(100, ge=1, le=MAX_PAGE),
                     after: str | None = None) -> list[dict[str, Any]]:
        items = await run_in_threadpool(lambda: reg.list_models(limit=limit, after=after))
        return _paged(request, items, limit, lambda m: m["name"])

    @app.get("/v1/models/{model}", summary="One model and all its versions")
    async def model(model: str) -> dict[str, Any]:
        return await run_in_threadpool(reg.show_model, model)

    @app.get("/v1/models/{model}/versions/{version}", summary="One published version (ETag; its revocation "
             "status can change)")
    async def version(model: str, version: str, request: Request) -> Response:
        doc = await run_in_threadpool(reg.show_version, model, version)
        return _etagged(request, _json_bytes(doc), "application/json", immutable=False)

    @app.get("/v1/models/{model}/versions/{version}/circuit", summary="The public circuit artifact (circuit.bin; "
             "immutable)")
    async def circuit(model: str, version: str, request: Request) -> Response:
        c, _ = await run_in_threadpool(reg.artifacts, model, version)
        return _etagged(request, c, "application/octet-stream", immutable=True)

    @app.get("/v1/models/{model}/versions/{version}/weight-commitment", summary="The weight commitment (immutable)")
    async def commitment(model: str, version: str, request: Request) -> Response:
        _, w = await run_in_threadpool(reg.artifacts, model, version)
        return _etagged(request, w, "application/octet-stream", immutable=True)

    @app.get("/v1/models/{model}/versions/{version}/attestations", summary="Signed statements about a version "
             "(paged: limit, after=LOG_INDEX)")
    async def attestations(model: str, version: str, request: Request, limit: int = Query(100, ge=1, le=MAX_PAGE),
                           after: int | None = None) -> list[dict[str, Any]]:
        items = await run_in_threadpool(lambda: reg.attestations(model, version, limit=limit, after=after))
        return _paged(request, items, limit, lambda a: a["log_index"])

    @app.get("/v1/models/{model}/versions/{version}/proofs", summary="Proofs submitted for a version, with "
             "verdicts and status (valid, invalid, re-verify); paged: limit, after=LOG_INDEX")
    async def proofs(model: str, version: str, request: Request, limit: int = Query(100, ge=1, le=MAX_PAGE),
                     after: int | None = None) -> list[dict[str, Any]]:
        items = await run_in_threadpool(lambda: reg.proofs(model, version, limit=limit, after=after))
        return _paged(request, items, limit, lambda p: p["log_index"])

    @app.get("/v1/signers/{public_key}", summary="A registered signer: name, role, key revocation")
    async def signer(public_key: str) -> dict[str, Any]:
        return await run_in_threadpool(reg.signer, _hex("public_key", public_key))

    @app.get("/v1/records/{ref}", summary="A dataset, consent-table or consent-proof record (8-64 hex digits of "
             "its digest) and the consent chains it is in")
    async def record(ref: str) -> dict[str, Any]:
        return await run_in_threadpool(reg.show_record, ref)

    @app.get("/v1/training/{ref}", summary="The training chain of a training run, training proof or link proof "
             "(8-64 hex digits of its run id or proof digest): dataset, consent, policy, coin, accountant, verdicts")
    async def training(ref: str) -> dict[str, Any]:
        return await run_in_threadpool(reg.show_training, ref)

    @app.get("/v1/revocations", summary="Every revocation: model versions, signer keys, verifier versions")
    async def revocations() -> dict[str, Any]:
        return await run_in_threadpool(reg.revocations)

    @app.post("/v1/models/{model}/versions/{version}/check",
              summary="Check a prediction: upload a proof file (raw bytes), get the verdict; stores nothing")
    async def check(model: str, version: str, request: Request) -> dict[str, Any]:
        proof = await request.body()
        verdict = await run_in_threadpool(lambda: reg.check(model=model, version=version, proof=proof))
        return verdict.to_json()

    @app.get("/v1/log/head", summary="Latest signed tree head")
    async def head() -> dict[str, Any]:
        return await run_in_threadpool(reg.head)

    @app.get("/v1/log/entries/{index}", summary="One log entry (immutable)")
    async def entry(index: int, request: Request) -> Response:
        doc = await run_in_threadpool(reg.entry, index)
        return _etagged(request, _json_bytes(doc), "application/json", immutable=True)

    @app.get("/v1/log/range", summary=f"Entries start..end-1 (at most {RANGE_PAGE}) with the subtree hashes of "
             "D[0:start] (prefix=true): append the leaves and compare the root with a signed head (immutable)")
    async def log_range(request: Request, start: int = Query(..., ge=0), end: int = Query(..., ge=0),
                        prefix: bool = True) -> Response:
        if end - start > RANGE_PAGE:
            raise RegistryError(f"at most {RANGE_PAGE} entries per range; page with start/end")
        doc = await run_in_threadpool(lambda: reg.log_range(start, end, with_prefix=prefix))
        return _etagged(request, _json_bytes(doc), "application/json", immutable=True)

    @app.get("/v1/log/inclusion", summary="Inclusion proof of entry `index` in the tree of `tree_size` (immutable)")
    async def inclusion(index: int, tree_size: int, request: Request) -> Response:
        doc = await run_in_threadpool(reg.inclusion, index, tree_size)
        return _etagged(request, _json_bytes(doc), "application/json", immutable=True)

    @app.get("/v1/log/consistency", summary="Consistency proof between tree sizes `first` <= `second` (immutable)")
    async def consistency(first: int, second: int, request: Request) -> Response:
        doc = await run_in_threadpool(reg.consistency, first, second)
        return _etagged(request, _json_bytes(doc), "application/json", immutable=True)

    @app.get("/v1/log/export", summary="The whole log and its signed heads, for independent audit")
    async def export() -> dict[str, Any]:
        return await run_in_threadpool(reg.export_log)

    # -- signed writes -----------------------------------------------------

    @app.post("/v1/publish", status_code=201, summary="Publish a model version (signed by its vendor)")
    async def publish(body: PublishRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "publish"), body.payload
        art = PublicArtifacts(_b64("circuit", p.circuit), p.summary, _b64("weight_commitment", p.weight_commitment))
        card = records.model_card(p.model_card.intended_use, p.model_card.training_data, p.model_card.claimed_metrics)
        return await run_in_threadpool(lambda: reg.publish(
            art, model=p.model, version=p.version, card=card, vendor=_hex("vendor_public_key", p.vendor_public_key),
            signature=_hex("signature", p.signature), vendor_name=p.vendor_name,
            pop=None if p.proof_of_possession is None else _hex("proof_of_possession", p.proof_of_possession),
            auth=auth, supersedes=p.supersedes))

    @app.post("/v1/proofs", status_code=201, summary="Submit a proof (plain or committed-input form); the "
              "registry verifies it before storing it with the verdict")
    async def submit(body: ProofRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "submit-proof"), body.payload
        proof, ic = _b64("proof", p.proof), _opt_hex("input_commitment", p.input_commitment)
        return await run_in_threadpool(lambda: reg.submit_proof(
            model=p.model, version=p.version, proof=proof, submitter=auth.signer, auth=auth, input_commitment=ic))

    @app.post("/v1/proofs/{proof_digest}/reverify", status_code=201, summary="Re-check a stored proof whose "
              "verifier version was revoked, with this registry's verifier (signed by any registered signer)")
    async def reverify(proof_digest: str, body: ReverifyRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "reverify"), body.payload
        if p.proof_digest != proof_digest:
            raise RegistryError("payload.proof_digest differs from the digest in the path")
        return await run_in_threadpool(lambda: reg.reverify(proof_digest=proof_digest, requester=auth.signer,
                                                            auth=auth))

    @app.post("/v1/revocations/keys", status_code=201, summary="Revoke a signer key from a time on (the key "
              "itself or a regulator)")
    async def revoke_key(body: KeyRevokeRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "revoke-key"), body.payload
        return await run_in_threadpool(lambda: reg.revoke_key(
            public_key=_hex("public_key", p.public_key), from_time=p.from_time, reason=p.reason,
            signer=auth.signer, signature=_hex("signature", p.signature), auth=auth))

    @app.post("/v1/revocations/verifiers", status_code=201, summary="Revoke a verifier version (a regulator): "
              "every proof it accepted reads re-verify")
    async def revoke_verifier(body: VerifierRevokeRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "revoke-verifier"), body.payload
        return await run_in_threadpool(lambda: reg.revoke_verifier(
            verifier_version=p.verifier_version, reason=p.reason, signer=auth.signer,
            signature=_hex("signature", p.signature), auth=auth))

    @app.post("/v1/datasets", status_code=201, summary="Publish a custodian-signed dataset record")
    async def dataset(body: DatasetRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "publish-dataset"), body.payload
        return await run_in_threadpool(lambda: reg.publish_dataset(
            p.record, signer=auth.signer, signature=_hex("signature", p.signature), signer_name=p.signer_name,
            pop=_opt_hex("proof_of_possession", p.proof_of_possession), auth=auth))

    @app.post("/v1/consent-tables", status_code=201, summary="Publish an IRB consent-table version (its "
              "distinctness proof is verified first)")
    async def consent_table(body: ConsentTableRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "publish-consent"), body.payload
        proof = _b64("distinctness_proof", p.distinctness_proof)
        return await run_in_threadpool(lambda: reg.publish_consent_table(
            p.record, proof, signer=auth.signer, signature=_hex("signature", p.signature), signer_name=p.signer_name,
            pop=_opt_hex("proof_of_possession", p.proof_of_possession), auth=auth))

    @app.post("/v1/consent-proofs", status_code=201, summary="Publish a consent proof (verified first)")
    async def consent_proof(body: ConsentProofRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "publish-consent-proof"), body.payload
        proof = _b64("proof", p.proof)
        return await run_in_threadpool(lambda: reg.publish_consent_proof(
            proof, signer=auth.signer, signature=_hex("signature", p.signature),
            allow_not_zero_knowledge=p.allow_not_zero_knowledge, signer_name=p.signer_name,
            pop=_opt_hex("proof_of_possession", p.proof_of_possession), auth=auth))

    @app.post("/v1/revocations", status_code=201, summary="Revoke a model version (its vendor or a regulator)")
    async def revoke(body: RevokeRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "revoke"), body.payload
        return await run_in_threadpool(lambda: reg.revoke(
            model=p.model, version=p.version, reason=p.reason, signer=auth.signer,
            signature=_hex("signature", p.signature), auth=auth))

    @app.post("/v1/attestations", status_code=201, summary="Record a statement co-signed by registered signers")
    async def attest(body: AttestRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "attest"), body.payload
        signers = [_hex("signers", x) for x in p.signers]
        return await run_in_threadpool(lambda: reg.attest(
            tag=p.tag, statement=p.statement, signers=signers, signature=_hex("signature", p.signature), auth=auth))

    from zkaudit.registry.web import router as web_pages  # HTML pages under /ui/ (registry/web)
    app.include_router(web_pages(reg))
    return app
