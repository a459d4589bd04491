"""Request-size limit for the HTTP API, enforced before the body is buffered.

A declared Content-Length over the limit is refused at once; a chunked body
is counted as it streams and refused as soon as it passes the limit, so an
oversized upload never reaches a handler (or the database)."""

from __future__ import annotations

import json


def problem_body(status: int, title: str, detail: str, hint: str | None = None) -> dict:
    """An RFC 9457 problem document; `error` repeats the title for older clients."""
    doc = {"type": f"urn:zkaudit:problem:{title}", "title": title, "status": status, "detail": detail,
           "error": title}
    if hint:
        doc["hint"] = hint
    return doc


class BodyLimit:
    def __init__(self, app, max_body: int):
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    return await self._refuse(send, 400, "BadRequest", "invalid Content-Length")
                if declared > self.max_body:
                    return await self._refuse(send, 413, "TooLarge",
                                              f"request body of {declared} bytes exceeds the {self.max_body}-byte limit")
        seen = 0
        started = refused = False

        async def limited_receive():
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > self.max_body and not started:
                    # Answer now and tell the app the client went away; whatever
                    # the app tries to send afterwards is dropped.
                    refused = True
                    await self._refuse(send, 413, "TooLarge", f"request body exceeds the {self.max_body}-byte limit")
                    return {"type": "http.disconnect"}
            return msg

        async def guarded_send(msg):
            nonlocal started
            if refused:
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not refused:
                raise

    @staticmethod
    async def _refuse(send, status: int, error: str, detail: str) -> None:
        body = json.dumps(problem_body(status, error, detail)).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
