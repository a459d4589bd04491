"""The registry's HTTP API (FastAPI). Reads are public; every write is a
signed request (`auth.py`) from a registered vendor or regulator.

Limits and errors, as documented in registry/README.md: a request body over
`max_body` bytes (default 16 MiB) is refused with 413 before it is read
in full; malformed JSON is 400; a payload with missing or extra fields 422;
a bad signature 401; a signer without the right 403; an unknown model 404;
an existing entry or a replayed nonce 409; a revoked model 410. A proof
check over its time or memory budget is 422, a crashed verifier 500, all
verifier workers busy 503 (see `sandbox.py`); a registry whose log does not
verify answers 500. A refused request changes nothing (writes are single
transactions).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from zkaudit import __version__
from zkaudit.errors import ZkauditError
from zkaudit.registry import records
from zkaudit.registry.artifacts import PublicArtifacts
from zkaudit.registry.auth import RequestAuth
from zkaudit.registry.errors import LogMismatch, RegistryError
from zkaudit.registry.limits import BodyLimit
from zkaudit.registry.store import Registry

MAX_BODY_BYTES = 16 * 1024 * 1024


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


class ProofIn(_Strict):
    model: str
    version: str
    proof: str


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


async def _signed(request: Request, action: str) -> RequestAuth:
    """The request's auth, bound to the exact JSON payload that was sent."""
    doc = json.loads(await request.body())
    return RequestAuth.from_json(action, doc["auth"], doc["payload"])


def create_app(reg: Registry, *, max_body: int = MAX_BODY_BYTES) -> FastAPI:
    app = FastAPI(title="zkaudit registry", version=__version__,
                  description="Published models, signed attestations, verified proofs and the transparency log.")
    app.add_middleware(BodyLimit, max_body=max_body)

    @app.exception_handler(ZkauditError)
    async def _zk_error(_req: Request, exc: ZkauditError) -> JSONResponse:
        # A log that does not verify is the registry's fault, not the client's.
        status = exc.status if isinstance(exc, RegistryError) else 500 if isinstance(exc, LogMismatch) else 400
        return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_req: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            return JSONResponse({"error": "MalformedJSON", "detail": "request body is not valid JSON"}, status_code=400)
        detail = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in errs)
        return JSONResponse({"error": "InvalidRequest", "detail": detail}, status_code=422)

    # -- reads ------------------------------------------------------------

    @app.get("/v1/registry", summary="Registry identity: its public key and the log size")
    async def info() -> dict[str, Any]:
        return await run_in_threadpool(reg.head)

    @app.get("/v1/models", summary="All models with their versions")
    async def models() -> list[dict[str, Any]]:
        return await run_in_threadpool(reg.list_models)

    @app.get("/v1/models/{model}", summary="One model and all its versions")
    async def model(model: str) -> dict[str, Any]:
        return await run_in_threadpool(reg.show_model, model)

    @app.get("/v1/models/{model}/versions/{version}", summary="One published version")
    async def version(model: str, version: str) -> dict[str, Any]:
        return await run_in_threadpool(reg.show_version, model, version)

    @app.get("/v1/models/{model}/versions/{version}/circuit", summary="The public circuit artifact (circuit.bin)")
    async def circuit(model: str, version: str) -> Response:
        c, _ = await run_in_threadpool(reg.artifacts, model, version)
        return Response(c, media_type="application/octet-stream")

    @app.get("/v1/models/{model}/versions/{version}/weight-commitment", summary="The weight commitment")
    async def commitment(model: str, version: str) -> Response:
        _, w = await run_in_threadpool(reg.artifacts, model, version)
        return Response(w, media_type="application/octet-stream")

    @app.get("/v1/models/{model}/versions/{version}/attestations", summary="Signed statements about a version")
    async def attestations(model: str, version: str) -> list[dict[str, Any]]:
        return await run_in_threadpool(reg.attestations, model, version)

    @app.get("/v1/models/{model}/versions/{version}/proofs", summary="Proofs submitted for a version, with verdicts")
    async def proofs(model: str, version: str) -> list[dict[str, Any]]:
        return await run_in_threadpool(reg.proofs, model, version)

    @app.post("/v1/models/{model}/versions/{version}/check",
              summary="Check a prediction: upload a proof file (raw bytes), get the verdict; stores nothing")
    async def check(model: str, version: str, request: Request) -> dict[str, Any]:
        proof = await request.body()
        verdict = await run_in_threadpool(lambda: reg.check(model=model, version=version, proof=proof))
        return verdict.to_json()

    @app.get("/v1/log/head", summary="Latest signed tree head")
    async def head() -> dict[str, Any]:
        return await run_in_threadpool(reg.head)

    @app.get("/v1/log/entries/{index}", summary="One log entry")
    async def entry(index: int) -> dict[str, Any]:
        return await run_in_threadpool(reg.entry, index)

    @app.get("/v1/log/inclusion", summary="Inclusion proof of entry `index` in the tree of `tree_size`")
    async def inclusion(index: int, tree_size: int) -> dict[str, Any]:
        return await run_in_threadpool(reg.inclusion, index, tree_size)

    @app.get("/v1/log/consistency", summary="Consistency proof between tree sizes `first` <= `second`")
    async def consistency(first: int, second: int) -> dict[str, Any]:
        return await run_in_threadpool(reg.consistency, first, second)

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
            auth=auth))

    @app.post("/v1/proofs", status_code=201, summary="Submit a proof; the registry verifies it and stores the verdict")
    async def submit(body: ProofRequest, request: Request) -> dict[str, Any]:
        auth, p = await _signed(request, "submit-proof"), body.payload
        proof = _b64("proof", p.proof)
        return await run_in_threadpool(lambda: reg.submit_proof(
            model=p.model, version=p.version, proof=proof, submitter=auth.signer, auth=auth))

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
