"""The Table op's lookup table: row i is (i, values[i] - values[0]).

Shifting by values[0] puts the pair (0, 0) in row 0, which is what the zero
padding of the looked-up columns reads; rows beyond the values are (i, 0),
which a real input never reaches (the layer requires the input's declared
range inside the domain). The table itself is `lookup.tables.ValuesTable`.
"""

from __future__ import annotations

from functools import lru_cache

from zkaudit.lookup.tables import ValuesTable


def ValueTable(values) -> ValuesTable:  # noqa: N802 - reads as the type it builds
    """The table of `values` (a sequence of ints). One instance per distinct
    values: a recurrent model's unrolled steps share their activation tables,
    and the instance caches its field columns (`ValuesTable.columns`)."""
    return _value_table(tuple(values))


@lru_cache(maxsize=64)  # a table holds its columns: 2^16 rows, 1 MiB
def _value_table(values: tuple) -> ValuesTable:
    v0 = int(values[0])
    return ValuesTable(tuple(int(v) - v0 for v in values))
