"""Managing API keys from the command line: list them (never the key itself), revoke one.

A revocation must stop the key at once, also in a running server that remembers
recently verified keys (``auth.TenantKeyCache``). Revoking touches a marker file in
the data folder; each server watches it (one ``stat`` per request) and forgets every
remembered key when it changes. Servers on other machines, which do not share the
data folder, forget within ``RELAY_KEY_CACHE_TTL_S`` (5 s; 0 remembers nothing).
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from relay_server.auth import hash_key
from relay_server.db.models import ApiKey, Tenant, utcnow

MARKER = "keys-revoked"


@dataclass(frozen=True)
class KeyInfo:
    """What may be shown about a key: never the key, only its first characters."""

    id: uuid.UUID
    prefix: str
    tenant: str
    created_at: datetime
    revoked_at: datetime | None


class KeyNotFound(LookupError):
    """No key, or more than one, matches what was given."""


def list_keys(session: Session, tenant: str | None = None) -> list[KeyInfo]:
    """Every key (of ``tenant``, if given), oldest first."""
    query = select(ApiKey, Tenant.name).join(Tenant, ApiKey.tenant_id == Tenant.id)
    if tenant is not None:
        query = query.where(Tenant.name == tenant)
    rows = session.execute(query.order_by(ApiKey.created_at, ApiKey.id)).all()
    return [KeyInfo(key.id, key.prefix, name, key.created_at, key.revoked_at)
            for key, name in rows]


def find_key(session: Session, ref: str) -> ApiKey:
    """The key named by ``ref``: the whole key, its id, or its prefix (as listed)."""
    ref = ref.strip()
    if not ref:
        raise KeyNotFound("Name the key: its prefix (relay-server list-keys), id or the key.")
    by_hash = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(ref)))
    if by_hash is not None:
        return by_hash
    try:
        by_id = session.get(ApiKey, uuid.UUID(ref))
    except ValueError:
        by_id = None
    if by_id is not None:
        return by_id
    matches = list(session.scalars(select(ApiKey).where(ApiKey.prefix == ref)))
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise KeyNotFound(f"{len(matches)} keys start with {ref!r}; give the key's id "
                          "(relay-server list-keys --ids).")
    raise KeyNotFound(f"No key matches {ref!r} (relay-server list-keys shows the prefixes).")


def revoke_key(session: Session, ref: str) -> tuple[ApiKey, bool]:
    """Revoke the key named by ``ref``; returns it and whether it was active until now."""
    key = find_key(session, ref)
    if key.revoked_at is not None:
        return key, False
    key.revoked_at = utcnow()
    session.flush()
    return key, True


def marker_path(data_dir: Path) -> Path:
    return Path(data_dir) / MARKER


def announce_revocation(data_dir: Path) -> None:
    """Tell the servers on this data folder to forget the keys they remember."""
    path = marker_path(data_dir)
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{utcnow().isoformat()}\n")
        f.flush()
        os.fsync(f.fileno())


class RevocationWatch:
    """``changed()`` is True once after the marker file was written (cheap: one stat)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    def changed(self) -> bool:
        if self.path is None:
            return False
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        return True
