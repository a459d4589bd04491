"""The Table op's lookup table: row i is (i, values[i] - values[0]).

Shifting by values[0] puts the pair (0, 0) in row 0, which is what the zero
padding of the looked-up columns reads; rows beyond the values are (i, 0),
which a real input never reaches (the layer requires the input's declared
range inside the domain). The table itself is `lookup.tables.ValuesTable`.
"""

from __future__ import annotations

from zkaudit.lookup.tables import ValuesTable


def ValueTable(values: tuple[int, ...]) -> ValuesTable:  # noqa: N802 - reads as the type it builds
    return ValuesTable(tuple(int(v) - int(values[0]) for v in values))
