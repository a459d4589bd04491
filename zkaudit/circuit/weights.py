"""The weights container: integer tensor values, kept apart from the circuit
(weights are private; the circuit is public).

    weights.bin = MAGIC || version (u16) || count (u32) || entries sorted by name
    entry       = name_len (u16) || name (utf-8) || dtype (u8) || ndim (u8)
                  || dims (u32 each) || little-endian data

dtype codes: 1 int8, 2 int16, 3 int32, 4 int64; the writer picks the
smallest that holds the values. Values are returned as read-only int64.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import numpy as np

from zkaudit.circuit.errors import InputError, MalformedArtifact

MAGIC = b"ZKAUDIT-WEIGHTS\x00"
VERSION = 1
_DTYPES = {1: np.dtype("<i1"), 2: np.dtype("<i2"), 3: np.dtype("<i4"), 4: np.dtype("<i8")}


class Weights(Mapping):
    """Immutable mapping name -> read-only int64 array."""

    def __init__(self, tensors: Mapping[str, np.ndarray]):
        frozen = {}
        for name, value in tensors.items():
            arr = np.array(value, dtype=np.int64)
            arr.setflags(write=False)
            frozen[name] = arr
        self._tensors = dict(sorted(frozen.items()))

    def __getitem__(self, name: str) -> np.ndarray:
        return self._tensors[name]

    def __iter__(self):
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)

    def check(self, circuit) -> None:
        """Names, shapes and ranges agree with the circuit's weight specs."""
        want = {s.name: s for s in circuit.weights}
        if set(want) != set(self._tensors):
            raise InputError(
                f"weights do not match the circuit: missing {sorted(set(want) - set(self._tensors))}, "
                f"unexpected {sorted(set(self._tensors) - set(want))}"
            )
        for name, spec in want.items():
            arr = self._tensors[name]
            if arr.shape != spec.shape:
                raise InputError(f"weight {name!r} has shape {arr.shape}, the circuit declares {spec.shape}")
            if arr.size and (arr.min() < spec.lo or arr.max() > spec.hi):
                raise InputError(f"weight {name!r} lies outside its declared range [{spec.lo}, {spec.hi}]")

    def encode(self) -> bytes:
        out = [MAGIC, struct.pack("<HI", VERSION, len(self._tensors))]
        for name, arr in self._tensors.items():
            raw = name.encode()
            code = next(c for c, dt in _DTYPES.items()
                        if arr.size == 0 or (arr.min() >= np.iinfo(dt).min and arr.max() <= np.iinfo(dt).max))
            out.append(struct.pack("<H", len(raw)) + raw + struct.pack("<BB", code, arr.ndim))
            out.append(struct.pack(f"<{arr.ndim}I", *arr.shape))
            out.append(arr.astype(_DTYPES[code]).tobytes())
        return b"".join(out)

    @staticmethod
    def decode(data: bytes) -> "Weights":
        if not data.startswith(MAGIC):
            raise MalformedArtifact("not a zkaudit weights file (bad magic)")
        pos = len(MAGIC)

        def take(n: int) -> bytes:
            nonlocal pos
            if pos + n > len(data):
                raise MalformedArtifact("weights file truncated")
            chunk = data[pos:pos + n]
            pos += n
            return chunk

        version, count = struct.unpack("<HI", take(6))
        if version != VERSION:
            raise MalformedArtifact(f"weights format version {version} is not supported (expected {VERSION})")
        tensors: dict[str, np.ndarray] = {}
        previous = None
        for _ in range(count):
            (name_len,) = struct.unpack("<H", take(2))
            try:
                name = take(name_len).decode()
            except UnicodeDecodeError:
                raise MalformedArtifact("weights file holds a tensor name that is not UTF-8") from None
            if previous is not None and name <= previous:
                raise MalformedArtifact("weights entries are not sorted by unique name")
            previous = name
            code, ndim = struct.unpack("<BB", take(2))
            if code not in _DTYPES:
                raise MalformedArtifact(f"weight {name!r} has unknown dtype code {code}")
            shape = struct.unpack(f"<{ndim}I", take(4 * ndim))
            size = int(np.prod(shape, dtype=np.int64))
            tensors[name] = np.frombuffer(take(size * _DTYPES[code].itemsize), dtype=_DTYPES[code]).reshape(shape)
        if pos != len(data):
            raise MalformedArtifact(f"{len(data) - pos} trailing bytes after the weights")
        return Weights(tensors)
