"""Names every part of the registry store shares: the name rule, the
"revoked" error, the meta key under which the registry's public key is kept,
and the clock rows are stamped with. Kept apart so the store's mixins
(`store_writes`, `store_checks`) and `store.Registry` import them downward."""

from __future__ import annotations

import re
import time
from pathlib import Path

from zkaudit.registry import db
from zkaudit.registry.errors import RegistryError

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
META_PUBLIC_KEY = "registry_public_key"


class Gone(RegistryError):
    """The model version was revoked."""

    status = 410


def check_name(what: str, value: str) -> None:
    if not isinstance(value, str) or _NAME_RE.fullmatch(value) is None:
        raise RegistryError(f"invalid {what} {value!r}: use 1-100 letters, digits, '.', '_' or '-', starting alphanumeric")


def default_key_path(url: str) -> Path:
    p = db.sqlite_path(url)
    return Path(f"{p}.key") if p is not None else Path("zkaudit-registry.key")


def _now() -> int:
    return int(time.time())
