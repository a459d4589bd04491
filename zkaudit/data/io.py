"""Reading tables (CSV, Parquet) through pyarrow and turning their columns
into field elements under a schema.

Every cell is read as text first (Parquet columns are cast to text), so one
vectorised parse per column can name the first bad cell: a missing cell, a
value of the wrong type, or one outside the declared range raises one
`DataError` "row R, column C: ..." (R counts data rows from 1, the header
excluded) before anything is written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zkaudit.data.errors import DataError
from zkaudit.data.schema import Column, Schema, embed_signed, id_limbs

_INT = r"^[+-]?[0-9]+$"
_FLOAT = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_BOOL = {"0": 0, "1": 1, "true": 1, "false": 0, "True": 1, "False": 0, "TRUE": 1, "FALSE": 0}


def read_text_columns(path: Path, names: list[str] | None = None) -> dict[str, list]:
    """Columns of a CSV or Parquet file as Python lists of str (None: missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file not found: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            import pyarrow.parquet as pq

            table = pq.read_table(path)
            table = pa.table({n: pc.cast(table.column(n), pa.string()) for n in table.column_names})
        else:
            import pyarrow.csv as pcsv

            import csv

            with path.open(newline="", encoding="utf-8", errors="replace") as f:
                header = next(csv.reader(f), [])
            opts = pcsv.ConvertOptions(column_types={h: pa.string() for h in header}, strings_can_be_null=True,
                                       quoted_strings_can_be_null=True)
            table = pcsv.read_csv(path, convert_options=opts)
            table = pa.table({n: pc.cast(table.column(n), pa.string()) for n in table.column_names})
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise DataError(f"{path}: cannot read as {'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}: "
                        f"{str(exc).splitlines()[0]}") from None
    if names is not None:
        missing = [n for n in names if n not in table.column_names]
        if missing:
            raise DataError(f"{path}: columns {missing} of the schema are not in the file "
                            f"(it has {table.column_names})")
        table = table.select(names)
    return {n: table.column(n) for n in table.column_names}


def _first(mask) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0])


def column_values(col: Column, arr) -> list[np.ndarray]:
    """The column's polynomial values (1 or 2 arrays), or DataError naming the first bad cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    name = col.name
    nulls = pc.is_null(arr).to_numpy(zero_copy_only=False)
    if nulls.any():
        raise DataError(f"row {_first(nulls) + 1}, column {name}: missing value")
    if col.type == "id":
        return list(id_limbs(arr.to_pylist(), what=f"column {name}"))
    stripped = pc.utf8_trim_whitespace(arr)
    if col.type == "bool":
        ok = pc.is_in(stripped, value_set=pa.array(list(_BOOL))).to_numpy(zero_copy_only=False)
        if not ok.all():
            i = _first(~ok)
            raise DataError(f"row {i + 1}, column {name}: {stripped[i].as_py()!r} is not a bool (0/1/true/false)")
        return [pc.is_in(stripped, value_set=pa.array(["1", "true", "True", "TRUE"])).to_numpy(
            zero_copy_only=False).astype(np.uint64)]
    pattern = _INT if col.type == "int" else _FLOAT
    ok = pc.match_substring_regex(stripped, pattern).to_numpy(zero_copy_only=False)
    if not ok.all():
        i = _first(~ok)
        raise DataError(f"row {i + 1}, column {name}: {stripped[i].as_py()!r} is not {'an integer' if col.type == 'int' else 'a number'}")
    if col.type == "int":
        try:
            v = pc.cast(stripped, pa.int64()).to_numpy(zero_copy_only=False)
        except pa.ArrowInvalid:
            raise DataError(f"column {name}: an integer does not fit 64 bits") from None
        bad = (v < int(col.min)) | (v > int(col.max))
    else:
        real = pc.cast(stripped, pa.float64()).to_numpy(zero_copy_only=False)
        scaled = np.round(real * float(1 << col.scale))
        # the range is checked on the committed integers: [ceil(min 2^s), floor(max 2^s)]
        lo = int(-((-col.min * (1 << col.scale)) // 1))
        hi = int((col.max * (1 << col.scale)) // 1)
        bad = ~np.isfinite(scaled) | (scaled < lo) | (scaled > hi)
        v = np.where(bad, 0, scaled).astype(np.int64)
    if bad.any():
        i = _first(bad)
        raise DataError(f"row {i + 1}, column {name}: {stripped[i].as_py()} is outside the declared range "
                        f"[{col.to_json()['min']}, {col.to_json()['max']}]")
    return [embed_signed(v)]


def table_polynomials(schema: Schema, columns: dict) -> tuple[list[np.ndarray], int]:
    """(unpadded polynomial values in schema order, without `valid`; row count)."""
    import pyarrow as pa

    polys: list[np.ndarray] = []
    n = None
    for col in schema.columns:
        if col.name not in columns:
            raise DataError(f"column {col.name} of the schema is missing from the data")
        arr = columns[col.name]
        if not isinstance(arr, (pa.Array, pa.ChunkedArray)):
            arr = pa.array([None if x is None else str(x) for x in arr], type=pa.string())
        if n is None:
            n = len(arr)
        elif len(arr) != n:
            raise DataError(f"column {col.name} has {len(arr)} rows, the others {n}")
        polys += column_values(col, arr)
    if not n:
        raise DataError("the dataset has no rows")
    return polys, n

