"""Canonical, domain-separated encoding of everything the registry signs or logs.

A value is encoded as a type tag byte followed by its content:

    N              None
    F / T          False / True
    i <u8 n> <n>   int, n-byte big-endian two's complement (minimal length)
    f <8>          float, IEEE-754 binary64 big-endian (NaN/inf refused)
    b <u32 n> <n>  bytes
    s <u32 n> <n>  str, UTF-8
    l <u32 k> ...  list of k values
    d <u32 k> ...  dict of k (str key, value) pairs, keys sorted by UTF-8 bytes

Every value has exactly one encoding, and `decode` rejects anything else
(trailing bytes, unsorted or duplicate keys, non-minimal ints), so equal
bytes mean equal statements and vice versa.

A signed message is `DOMAIN || u8 len(tag) || tag || encode(value)`. Each
statement type has its own tag, so a signature over one statement type can
never be presented as a signature over another, even if the fields collide.
"""

from __future__ import annotations

import hashlib
import math
import struct
from typing import Any

DOMAIN = b"ZKAUDIT-REGISTRY-V1\x00"


class EncodingError(ValueError):
    """Bytes that are not a canonical encoding, or a value that has none."""


def encode(value: Any) -> bytes:
    out = bytearray()
    _enc(value, out)
    return bytes(out)


def _enc(v: Any, out: bytearray) -> None:
    if v is None:
        out += b"N"
    elif v is True:
        out += b"T"
    elif v is False:
        out += b"F"
    elif isinstance(v, int):
        n = max(1, (v.bit_length() + 8) // 8)
        if n > 255:
            raise EncodingError("integer too large to encode")
        out += b"i" + bytes([n]) + v.to_bytes(n, "big", signed=True)
    elif isinstance(v, float):
        if not math.isfinite(v):
            raise EncodingError(f"non-finite float {v!r} has no canonical encoding")
        out += b"f" + struct.pack(">d", v + 0.0)  # +0.0 folds -0.0 into 0.0
    elif isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
        out += b"b" + struct.pack(">I", len(b)) + b
    elif isinstance(v, str):
        b = v.encode("utf-8")
        out += b"s" + struct.pack(">I", len(b)) + b
    elif isinstance(v, (list, tuple)):
        out += b"l" + struct.pack(">I", len(v))
        for x in v:
            _enc(x, out)
    elif isinstance(v, dict):
        items = []
        for k, x in v.items():
            if not isinstance(k, str):
                raise EncodingError(f"dict key {k!r} is not a string")
            items.append((k.encode("utf-8"), x))
        items.sort(key=lambda kv: kv[0])
        out += b"d" + struct.pack(">I", len(items))
        for kb, x in items:
            out += struct.pack(">I", len(kb)) + kb
            _enc(x, out)
    else:
        raise EncodingError(f"cannot encode {type(v).__name__}")


def decode(data: bytes) -> Any:
    data = bytes(data)
    value, pos = _dec(data, 0, 0)
    if pos != len(data):
        raise EncodingError(f"{len(data) - pos} trailing bytes after the encoded value")
    return value


def _take(data: bytes, pos: int, n: int) -> tuple[bytes, int]:
    if pos + n > len(data):
        raise EncodingError(f"truncated: need {n} bytes at offset {pos}, have {len(data) - pos}")
    return data[pos : pos + n], pos + n


def _dec(data: bytes, pos: int, depth: int) -> tuple[Any, int]:
    if depth > 64:
        raise EncodingError("nesting deeper than 64")
    tag, pos = _take(data, pos, 1)
    if tag == b"N":
        return None, pos
    if tag == b"T":
        return True, pos
    if tag == b"F":
        return False, pos
    if tag == b"i":
        raw, pos = _take(data, pos, 1)
        n = raw[0]
        raw, pos = _take(data, pos, n)
        v = int.from_bytes(raw, "big", signed=True)
        if max(1, (v.bit_length() + 8) // 8) != n:
            raise EncodingError("non-minimal integer encoding")
        return v, pos
    if tag == b"f":
        raw, pos = _take(data, pos, 8)
        (v,) = struct.unpack(">d", raw)
        if not math.isfinite(v) or raw == b"\x80" + bytes(7):
            raise EncodingError("non-canonical float")
        return v, pos
    if tag in (b"b", b"s", b"l", b"d"):
        raw, pos = _take(data, pos, 4)
        (n,) = struct.unpack(">I", raw)
        if tag == b"b":
            return _take(data, pos, n)
        if tag == b"s":
            raw, pos = _take(data, pos, n)
            try:
                return raw.decode("utf-8"), pos
            except UnicodeDecodeError as exc:
                raise EncodingError("string is not UTF-8") from exc
        if tag == b"l":
            items = []
            for _ in range(n):
                x, pos = _dec(data, pos, depth + 1)
                items.append(x)
            return items, pos
        d: dict[str, Any] = {}
        prev: bytes | None = None
        for _ in range(n):
            raw, pos = _take(data, pos, 4)
            kb, pos = _take(data, pos, struct.unpack(">I", raw)[0])
            if prev is not None and kb <= prev:
                raise EncodingError("dict keys not strictly sorted")
            prev = kb
            try:
                key = kb.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise EncodingError("dict key is not UTF-8") from exc
            d[key], pos = _dec(data, pos, depth + 1)
        return d, pos
    raise EncodingError(f"unknown type tag {tag!r} at offset {pos - 1}")


def message(tag: str, value: Any) -> bytes:
    """The exact bytes signed for a statement of type `tag`."""
    t = tag.encode("ascii")
    if not 1 <= len(t) <= 255:
        raise EncodingError("statement tag must be 1..255 ASCII bytes")
    return DOMAIN + bytes([len(t)]) + t + encode(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
