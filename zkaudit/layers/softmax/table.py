"""The Softmax exp table (reversed, zero-padded to 2^bits rows) is a
`lookup.tables.ValuesTable`; re-exported here for the softmax layer."""

from zkaudit.lookup.tables import ValuesTable

__all__ = ["ValuesTable"]
