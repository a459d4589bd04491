"""Errors of the data layer."""

from zkaudit.errors import MalformedProof, ProofRejected, ZkauditError


class DataError(ZkauditError):
    """Input data or a schema that cannot be committed: one line naming the
    row and column (or the schema field) and what is wrong."""


class RecordRejected(ProofRejected):
    """A dataset or consent-table record, or its distinctness proof, failed a check."""


class MalformedRecord(RecordRejected, MalformedProof):
    """A record file that does not parse or is not canonical."""
