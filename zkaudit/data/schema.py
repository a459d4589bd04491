"""The public schema of a dataset.

    {"columns": [{"name": "patient_id", "type": "id"},
                 {"name": "age", "type": "int", "min": 0, "max": 120},
                 {"name": "bmi", "type": "fixed", "scale": 8, "min": 10, "max": 80},
                 {"name": "label", "type": "bool"}],
     "id_column": "patient_id",
     "population": "adults admitted 2019-2023, site A"}

Types: `id` a pseudonymous ID (several may exist, e.g. patient and encounter;
`id_column` names the patient's), 32 hex digits (128 bits; its 124 leading
bits are committed as two 62-bit field elements, `NAME.hi` and `NAME.lo`);
`int` an integer in [min, max]; `fixed` a real number committed as
round(v * 2^scale), declared range [min, max] in real units (integers or
decimal strings); `bool` 0/1. Negative values are embedded as p - |v|.

`Schema.from_json` reports every problem at once. The digest (h_schema)
is over the canonical JSON: changing which column holds the ID, a scale or
a range changes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np

from zkaudit.data.errors import DataError
from zkaudit.field.constants import P

TYPES = ("id", "int", "fixed", "bool")
ID_HEX_DIGITS = 32
ID_LIMB_BITS = 62
MAX_ABS = 1 << 62  # committed integers stay far from p/2 so signs are unambiguous
MAX_SCALE = 32
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    scale: int = 0
    min: Decimal | None = None
    max: Decimal | None = None

    def polynomial_names(self) -> list[str]:
        return [f"{self.name}.hi", f"{self.name}.lo"] if self.type == "id" else [self.name]

    def to_json(self) -> dict:
        out: dict = {"name": self.name, "type": self.type}
        if self.type == "fixed":
            out["scale"] = self.scale
        if self.type in ("int", "fixed"):
            out["min"], out["max"] = _num_json(self.min), _num_json(self.max)
        return out


def _num_json(x: Decimal):
    return int(x) if x == x.to_integral_value() else str(x)


def _decimal(v, where: str, problems: list[str]) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        problems.append(f"{where}: give an integer or a decimal string (floats are not canonical)")
        return None
    try:
        d = Decimal(v)
    except InvalidOperation:
        problems.append(f"{where}: {v!r} is not a number")
        return None
    if not d.is_finite():
        problems.append(f"{where}: {v!r} is not finite")
        return None
    return d


@dataclass(frozen=True)
class Schema:
    columns: tuple[Column, ...]
    id_column: str
    population: str

    @classmethod
    def from_json(cls, doc) -> Schema:
        problems: list[str] = []
        if not isinstance(doc, dict):
            raise DataError("schema: expected a JSON object with columns, id_column, population")
        unknown = set(doc) - {"columns", "id_column", "population"}
        if unknown:
            problems.append(f"schema: unknown keys {sorted(unknown)}")
        cols = doc.get("columns")
        out: list[Column] = []
        if not isinstance(cols, list) or not cols:
            problems.append("schema.columns: a non-empty list of columns is required")
            cols = []
        seen = set()
        for i, c in enumerate(cols):
            where = f"schema.columns[{i}]"
            if not isinstance(c, dict):
                problems.append(f"{where}: expected an object")
                continue
            name, typ = c.get("name"), c.get("type")
            if not isinstance(name, str) or not _NAME.fullmatch(name) or name == "valid":
                problems.append(f"{where}.name: {name!r} must be an identifier (letters, digits, _ . -), not 'valid'")
            elif name in seen:
                problems.append(f"{where}.name: duplicate column {name!r}")
            seen.add(name)
            where = f"schema.columns[{i}] ({name})"
            if typ not in TYPES:
                problems.append(f"{where}.type: {typ!r} is not one of {', '.join(TYPES)}")
                continue
            allowed = {"name", "type"} | ({"min", "max"} if typ in ("int", "fixed") else set()) | (
                {"scale"} if typ == "fixed" else set())
            extra = set(c) - allowed
            if extra:
                problems.append(f"{where}: keys {sorted(extra)} do not apply to type {typ}")
            scale, lo, hi = 0, None, None
            if typ == "fixed":
                scale = c.get("scale")
                if isinstance(scale, bool) or not isinstance(scale, int) or not 0 <= scale <= MAX_SCALE:
                    problems.append(f"{where}.scale: an integer in 0..{MAX_SCALE} is required")
                    scale = 0
            if typ in ("int", "fixed"):
                if "min" not in c or "max" not in c:
                    problems.append(f"{where}: a declared range (min and max) is required")
                else:
                    lo, hi = _decimal(c["min"], f"{where}.min", problems), _decimal(c["max"], f"{where}.max", problems)
                    if lo is not None and hi is not None:
                        if lo > hi:
                            problems.append(f"{where}: min {lo} is above max {hi}")
                        elif typ == "int" and (lo != lo.to_integral_value() or hi != hi.to_integral_value()):
                            problems.append(f"{where}: an int column needs integer bounds")
                        elif max(abs(lo), abs(hi)) * (1 << scale) >= MAX_ABS:
                            problems.append(f"{where}: the range times 2^scale must stay below 2^62")
            out.append(Column(name, typ, scale, lo, hi))
        idc = doc.get("id_column")
        if not isinstance(idc, str):
            problems.append("schema.id_column: the name of the pseudonymous ID column is required")
        elif not any(c.name == idc and c.type == "id" for c in out):
            problems.append(f"schema.id_column: {idc!r} is not a column of type id")
        pop = doc.get("population")
        if not isinstance(pop, str) or not pop.strip() or not pop.isascii():
            problems.append("schema.population: a non-empty ASCII description of the population is required")
        if problems:
            raise DataError("invalid schema: " + "; ".join(problems))
        return cls(tuple(out), idc, pop)

    def to_json(self) -> dict:
        return {"columns": [c.to_json() for c in self.columns], "id_column": self.id_column,
                "population": self.population}

    def polynomial_names(self) -> list[str]:
        """Committed polynomials in order: each column's, then `valid`."""
        return [n for c in self.columns for n in c.polynomial_names()] + ["valid"]

    def id_polynomials(self) -> tuple[int, int]:
        """Indices of the ID column's (hi, lo) polynomials."""
        names = self.polynomial_names()
        return names.index(f"{self.id_column}.hi"), names.index(f"{self.id_column}.lo")


_HEX = re.compile(r"[0-9a-fA-F]{%d}" % ID_HEX_DIGITS)


def id_limbs(ids, *, what: str = "ID") -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo): the 124 leading bits of each 32-hex-digit ID as two 62-bit
    limbs. Raises DataError naming the first malformed entry (row i + 1).

    IDs are compared on these 124 bits: two pseudonyms that differ only in
    their last hex digit are the same ID to every proof (a consent table
    holding both is refused as a duplicate). Random 128-bit pseudonyms
    alias with probability about 2^-124; whoever assigns pseudonyms (the
    custodian, never the prover) must not assign such pairs."""
    n = len(ids)
    hi, lo = np.empty(n, dtype=np.uint64), np.empty(n, dtype=np.uint64)
    mask = (1 << ID_LIMB_BITS) - 1
    for i, s in enumerate(ids):
        if not isinstance(s, str) or not _HEX.fullmatch(s):
            raise DataError(f"row {i + 1}, {what}: {s!r} is not a {ID_HEX_DIGITS}-hex-digit pseudonymous ID")
        v = int(s, 16) >> (4 * ID_HEX_DIGITS - 2 * ID_LIMB_BITS)
        hi[i], lo[i] = v >> ID_LIMB_BITS, v & mask
    return hi, lo


def embed_signed(values: np.ndarray) -> np.ndarray:
    """int64 -> canonical field elements (negative v as p - |v|)."""
    v = values.astype(np.int64)
    return np.where(v < 0, (np.uint64(P) - (-v).astype(np.uint64)), v.astype(np.uint64)).astype(np.uint64)
