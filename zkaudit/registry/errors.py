"""Registry errors. Each carries the HTTP status the API answers with, so the
API, the CLI and the library report the same thing in the same words."""

from __future__ import annotations

from zkaudit.errors import ProofRejected, ZkauditError


class RegistryError(ZkauditError):
    """A registry request that cannot be carried out. Nothing was written."""

    status = 400


class NotFound(RegistryError):
    status = 404


class AlreadyExists(RegistryError):
    status = 409


class BadSignature(RegistryError):
    """A signature, proof of possession or key that does not verify."""

    status = 401


class Forbidden(RegistryError):
    """A valid signer asking for something its role does not allow."""

    status = 403


class ReplayedRequest(RegistryError):
    """A signed request whose nonce was already used, or whose timestamp is stale."""

    status = 409


class TooLarge(RegistryError):
    status = 413


class NotInitialised(RegistryError):
    """The database has no registry schema (run `zkaudit registry init`)."""

    status = 503


class LogMismatch(ProofRejected):
    """The transparency log (or a row it covers) does not match: tampering or
    corruption. `index` is the first log entry that does not match."""

    def __init__(self, message: str, *, index: int | None = None, **kw):
        self.index = index
        where = "log" if index is None else f"log entry {index}"
        super().__init__(message, where=where, **kw)
