"""Where each committed table sits in the one matrix, and what a claim on a
table means as a claim on the matrix.

The matrix M has R rows of width m = 2^log_cols; every table lives in it.
Read as one multilinear polynomial over (row vars, column vars), MSB first:

    G(y, x) = sum_{r < R_pad, c < m} M[r, c] eq(y, r) eq(x, c),

with R_pad = 2^l >= R and rows R.. R_pad - 1 zero. Tables are placed in order
of decreasing size (ties by index), which keeps every block aligned:

* a *wide* table (num_vars = v >= log_cols) fills 2^(v - log_cols) whole rows
  starting at a row that is a multiple of that count: f[i] = M[row + i // m,
  i % m]. Its first v - log_cols variables pick the row, the last log_cols
  the column, so f~(z) = G(bits(row / rows) ++ z[:v - log_cols], z[v - log_cols:]).
* a *narrow* table (v < log_cols) is packed with others into the rows after
  the wide ones, at an offset that is a multiple of its size 2^v:
  f[i] = M[row, col + i], so f~(z) = G(bits(row), bits(col / 2^v) ++ z).

`bits(k)` is k written MSB first over the variables left free, as 0 and 1
in K. Every claim thus becomes a claim on G at a point (y, x), which is what
the opening batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from zkaudit.field.scalar import Fp, Fp2

_ZERO, _ONE = Fp2(0), Fp2(1)


@lru_cache(maxsize=4096)
def bit_tuple(value: int, width: int) -> tuple[Fp2, ...]:
    """value's width bits, MSB first, as field elements (cached: a proof's
    claims name the same few rows and blocks thousands of times)."""
    return tuple(_ONE if (value >> (width - 1 - i)) & 1 else _ZERO for i in range(width))


def _bits(value: int, width: int) -> list[Fp2]:
    return list(bit_tuple(value, width))


@dataclass(frozen=True)
class Placement:
    num_vars: int
    row: int
    col: int  # 0 for wide tables
    num_rows: int  # rows spanned: 2^(v - log_cols) for wide tables, 1 for narrow


@dataclass(frozen=True)
class Layout:
    num_vars: tuple[int, ...]
    log_cols: int
    placements: tuple[Placement, ...]  # indexed like num_vars
    num_rows: int

    @classmethod
    def build(cls, num_vars, log_cols: int) -> Layout:
        """Memoized (a Layout is immutable): both sides build the same layouts
        several times per proof, a thousand tables each for a big model."""
        return _build(tuple(int(v) for v in num_vars), int(log_cols))

    @classmethod
    def _build(cls, num_vars: tuple[int, ...], log_cols: int) -> Layout:
        if not num_vars:
            raise ValueError("nothing to commit to")
        if log_cols < 1:
            raise ValueError("rows must have at least two entries (log_cols >= 1)")
        if any(v < 0 for v in num_vars):
            raise ValueError("negative number of variables")
        m = 1 << log_cols
        order = sorted(range(len(num_vars)), key=lambda i: (-num_vars[i], i))
        placed: dict[int, Placement] = {}
        row = 0
        for i in order:
            v = num_vars[i]
            if v >= log_cols:
                rows = 1 << (v - log_cols)
                placed[i] = Placement(v, row, 0, rows)
                row += rows
        offset = 0  # running position in the narrow region, in entries
        for i in order:
            v = num_vars[i]
            if v < log_cols:
                placed[i] = Placement(v, row + offset // m, offset % m, 1)
                offset += 1 << v
        num_rows = row + (offset + m - 1) // m
        return cls(num_vars, log_cols, tuple(placed[i] for i in range(len(num_vars))), num_rows)

    @property
    def cols(self) -> int:
        return 1 << self.log_cols

    @property
    def log_rows(self) -> int:
        """l with R_pad = 2^l the row count padded to a power of two."""
        return (self.num_rows - 1).bit_length()

    def global_point(self, poly: int, point) -> tuple[list[Fp2], list[Fp2]]:
        """(y, x): the claim f_poly~(point) as G(y, x); point in the table's order."""
        p = self.placements[poly]
        z = [Fp2.from_base(c) if isinstance(c, Fp) else c for c in point]
        if len(z) != p.num_vars:
            raise ValueError(f"table {poly} has {p.num_vars} variables, point has {len(z)}")
        lc, l = self.log_cols, self.log_rows
        if p.num_vars >= lc:
            free_rows = p.num_vars - lc
            y = _bits(p.row >> free_rows, l - free_rows) + z[:free_rows]
            x = z[free_rows:]
        else:
            y = _bits(p.row, l)
            x = _bits(p.col >> p.num_vars, lc - p.num_vars) + z
        return y, x


@lru_cache(maxsize=256)
def _build(num_vars: tuple[int, ...], log_cols: int) -> Layout:
    return Layout._build(num_vars, log_cols)


def count_rows(num_vars, log_cols: int) -> int:
    """`Layout.build(num_vars, log_cols).num_rows` without placing a table:
    a wide table (v >= log_cols) takes 2^(v - log_cols) rows of its own, the
    narrow ones pack the remaining rows end to end (sizes are powers of two
    no larger than a row, placed largest first, so none straddles a row).
    The shape search asks this of every candidate width, for a thousand
    tables each (`PcsParams._search_log_cols`)."""
    if log_cols < 1:
        raise ValueError("rows must have at least two entries (log_cols >= 1)")
    wide = narrow = 0
    for v, count in _size_counts(tuple(int(v) for v in num_vars)):
        if v >= log_cols:
            wide += count << (v - log_cols)
        else:
            narrow += count << v
    m = 1 << log_cols
    return wide + (narrow + m - 1) // m


@lru_cache(maxsize=64)
def _size_counts(num_vars: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    if not num_vars:
        raise ValueError("nothing to commit to")
    if min(num_vars) < 0:
        raise ValueError("negative number of variables")
    counts: dict[int, int] = {}
    for v in num_vars:
        counts[v] = counts.get(v, 0) + 1
    return tuple(sorted(counts.items()))
