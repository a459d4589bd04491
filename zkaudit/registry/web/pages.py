"""The web pages' routes (server-rendered HTML, under /ui/).

Every handler reads through `reads.Pages` in a worker thread (the registry
is synchronous) and renders one template; a registry error becomes an HTML
page with the same status the JSON API gives for it (404 unknown model,
500 a log that does not verify, ...). Templates are autoescaped without
exception, and every page is sent with a Content-Security-Policy that
allows no script and no resource from elsewhere.
"""

from __future__ import annotations

import hashlib
import time
from importlib import resources
from typing import Any

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from zkaudit.errors import ZkauditError
from zkaudit.registry.errors import LogMismatch, NotFound, RegistryError
from zkaudit.registry.store import Registry
from zkaudit.registry.views import parse_ref
from zkaudit.registry.web.reads import Pages
from zkaudit.registry.web.words import explain, refusal

PREFIX = "/ui"
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STYLESHEET = resources.files(__package__).joinpath("static", "site.css")


def _utc(t: Any) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t)) if isinstance(t, int) else "unknown"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader(__package__, "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["utc"] = _utc
    return env


def _status(exc: ZkauditError) -> int:
    if isinstance(exc, RegistryError):
        return exc.status
    return 500 if isinstance(exc, LogMismatch) else 400


def router(reg: Registry) -> APIRouter:
    """The pages over `reg`, to include in the registry's FastAPI app."""
    pages, env = Pages(reg), _environment()
    r = APIRouter(include_in_schema=False)

    def render(request: Request, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        html = env.get_template(template).render(root=root, base=root + PREFIX, **ctx)
        return HTMLResponse(html, status_code=status, headers=HEADERS)

    def failed(request: Request, exc: ZkauditError, nav: str = "") -> HTMLResponse:
        status = _status(exc)
        title = "Not found" if status == 404 else "Registry error" if status >= 500 else "Request refused"
        if isinstance(exc, LogMismatch):
            detail = ("The registry's transparency log does not verify, so nothing it holds can be trusted: "
                      f"{exc.message}")
        else:
            detail = exc.message
        return render(request, "error.html", status, nav=nav, title=title, code=status, detail=detail,
                      hint=getattr(exc, "hint", None))

    async def page(request: Request, template: str, nav: str, fn, *args: Any, **ctx: Any) -> HTMLResponse:
        try:
            data = await run_in_threadpool(fn, *args)
        except ZkauditError as exc:
            return failed(request, exc, nav)
        return render(request, template, nav=nav, data=data, **ctx)

    @r.get("/")
    async def root(request: Request) -> Response:
        return RedirectResponse(request.scope.get("root_path", "") + PREFIX + "/", status_code=303)

    css = STYLESHEET.read_bytes()

    @r.get(PREFIX + "/static/site.css")
    async def stylesheet() -> Response:
        return Response(css, media_type="text/css",
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})

    @r.get(PREFIX + "/")
    async def home(request: Request) -> HTMLResponse:
        return await page(request, "home.html", "models", pages.home)

    @r.get(PREFIX + "/models/{model}")
    async def model(request: Request, model: str) -> HTMLResponse:
        return await page(request, "model.html", "models", pages.model, model)

    @r.get(PREFIX + "/models/{model}/versions/{version}")
    async def version(request: Request, model: str, version: str) -> HTMLResponse:
        return await page(request, "version.html", "models", pages.version, model, version)

    @r.get(PREFIX + "/models/{model}/versions/{version}/chain")
    async def chain(request: Request, model: str, version: str) -> HTMLResponse:
        return await page(request, "chain.html", "models", pages.chain, model, version)

    @r.get(PREFIX + "/datasets")
    async def datasets(request: Request) -> HTMLResponse:
        return await page(request, "datasets.html", "datasets", pages.datasets)

    @r.get(PREFIX + "/revocations")
    async def revocations(request: Request) -> HTMLResponse:
        return await page(request, "revocations.html", "revocations", pages.revocations)

    @r.get(PREFIX + "/log")
    async def log_page(request: Request) -> HTMLResponse:
        return await page(request, "log.html", "log", pages.log, _int(request.query_params.get("page"), 1))

    @r.get(PREFIX + "/log/entries/{index}")
    async def entry(request: Request, index: str) -> HTMLResponse:
        n = _int(index, -1)
        if n < 0:
            return failed(request, NotFound(f"there is no log entry {index!r}: entries are numbered 0, 1, 2, ..."),
                          "log")
        return await page(request, "entry.html", "log", pages.entry, n)

    @r.get(PREFIX + "/check")
    async def check_form(request: Request) -> HTMLResponse:
        chosen = request.query_params.get("model", "")
        return await page(request, "check.html", "check", pages.versions, chosen=chosen, result=None)

    @r.post(PREFIX + "/check")
    async def check(request: Request) -> HTMLResponse:
        """Check an uploaded proof file against a chosen version: `Registry.check`, as the API's check endpoint."""
        versions = await run_in_threadpool(pages.versions)
        try:
            form = await request.form(max_files=1, max_fields=4)
        except HTTPException as exc:  # a malformed multipart body: say so on the form page
            return render(request, "check.html", 400, nav="check", data=versions, chosen="",
                          result={"refused": True, "status": 400,
                                  "meaning": f"The upload could not be read: {exc.detail}"})
        chosen, upload = str(form.get("model", "")), form.get("proof")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return render(request, "check.html", 400, nav="check", data=versions, chosen=chosen,
                          result={"refused": True, "status": 400, "meaning": "Choose a proof file to check."})
        proof = await upload.read()
        digest = hashlib.sha256(proof).hexdigest()
        try:
            name, ver = parse_ref(chosen)
            verdict = await run_in_threadpool(lambda: reg.check(model=name, version=ver, proof=proof))
        except ZkauditError as exc:
            status = _status(exc)
            meaning = (f"The registry's transparency log does not verify, so no check against it can be trusted: "
                       f"{exc}" if isinstance(exc, LogMismatch) else refusal(status, str(exc)))
            return render(request, "check.html", status, nav="check", data=versions, chosen=chosen,
                          result={"refused": True, "status": status, "meaning": meaning, "detail": str(exc),
                                  "file": upload.filename, "size": len(proof), "digest": digest})
        return render(request, "check.html", nav="check", data=versions, chosen=chosen,
                      result={"refused": False, "ref": chosen, "explained": explain(verdict, chosen),
                              "verdict": verdict.to_json(), "file": upload.filename, "size": len(proof),
                              "digest": digest})

    @r.get(PREFIX + "/{rest:path}")
    async def unknown(request: Request, rest: str) -> HTMLResponse:
        return failed(request, NotFound(f"there is no page /ui/{rest}"))

    return r


def _int(text: str | None, default: int) -> int:
    """A non-negative decimal below 10^18 (the log's indices fit a BIGINT), else `default`."""
    return int(text) if text is not None and text.isascii() and text.isdigit() and len(text) < 19 else default
