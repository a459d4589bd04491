"""Canonical JSON and its digest: the one byte string for a record or a
statement (UTF-8 JSON, sorted keys, no whitespace, integers only -- a
float's decimal form is not canonical across languages, so fixed-point
values are integers with a declared scale -- and ASCII strings). Records
(`records.py`) and statements (`statements/common`) are named by
    SHA-256("zkaudit/statement/v1\\0" || canonical bytes)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from zkaudit.errors import MalformedProof

DOMAIN = b"zkaudit/statement/v1\x00"


def _check(value: Any, path: str) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats have no canonical form; use an integer with a declared scale")
    if isinstance(value, str):
        if not value.isascii():
            raise ValueError(f"{path}: strings must be ASCII")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _check(v, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{path}: keys must be strings")
            _check(v, f"{path}.{k}")
        return
    raise ValueError(f"{path}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The one byte string for a JSON value (sorted keys, no spaces)."""
    _check(value, "$")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def digest(value: Any) -> bytes:
    return hashlib.sha256(DOMAIN + canonical_json(value)).digest()


def parse_canonical(data: bytes, what: str) -> Any:
    """Parse bytes that must be canonical JSON (re-encoding gives them back)."""
    try:
        value = json.loads(bytes(data).decode("ascii"))
        again = canonical_json(value)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedProof(f"{what} is not canonical JSON: {exc}", where=what) from None
    if again != bytes(data):
        raise MalformedProof(f"{what} is not in canonical form", where=what)
    return value
