"""API keys: generation, hashing, lookup, the /api/ gate and the tenant dependency.

Every request under ``/api/`` passes :class:`ApiKeyMiddleware` first: a missing
or unknown ``X-API-Key`` is a 401 before the body is even parsed, and the
caller's tenant id is put on ``request.state.tenant_id`` for the routers.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from relay_server.db.models import ApiKey, Tenant
from relay_server.errors import database_unavailable, is_database_unavailable

KEY_PREFIX = "rl_"
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(session: Session, tenant_name: str = "default") -> str:
    """Create (or reuse) the tenant and return a new plaintext key for it."""
    tenant = session.scalar(select(Tenant).where(Tenant.name == tenant_name))
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        session.flush()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiKey(tenant_id=tenant.id, key_hash=hash_key(key), prefix=key[:8]))
    session.flush()
    return key


def tenant_for_key(session: Session, key: str) -> Tenant | None:
    row = session.scalar(
        select(ApiKey).where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))
    )
    return row.tenant if row is not None else None


def tenant_id_for_key(factory: sessionmaker[Session], key: str) -> uuid.UUID | None:
    """The tenant id of an active key, or None (one indexed query)."""
    return tenant_id_for_hash(factory, hash_key(key))


def tenant_id_for_hash(factory: sessionmaker[Session], key_hash: str) -> uuid.UUID | None:
    """The tenant id of the active key with this SHA-256 hash, or None."""
    with factory() as session:
        return session.scalar(
            select(ApiKey.tenant_id).where(ApiKey.key_hash == key_hash,
                                           ApiKey.revoked_at.is_(None))
        )


MISSING_KEY = "Missing API key (X-API-Key header)"
INVALID_KEY = "Invalid API key"


class TenantKeyCache:
    """Recently verified keys (by hash) -> tenant id, each trusted for ``ttl_s`` seconds.

    Only keys the database accepted are remembered, so a newly created key
    works at once and an unknown key is always looked up again; a key revoked
    in the database stops working within ``ttl_s``. Bounded to ``max_entries``.
    """

    def __init__(self, ttl_s: float = 5.0, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s  # 0: nothing is remembered
        self.max_entries = max_entries
        self._entries: dict[str, tuple[uuid.UUID, float]] = {}

    def get(self, key_hash: str) -> uuid.UUID | None:
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        if entry[1] <= time.monotonic():
            self._entries.pop(key_hash, None)
            return None
        return entry[0]

    def put(self, key_hash: str, tenant_id: uuid.UUID) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (tenant_id, time.monotonic() + self.ttl_s)

    def clear(self) -> None:
        """Forget every key (e.g. after revoking one in this process)."""
        self._entries.clear()


class ApiKeyMiddleware:
    """ASGI middleware: authenticate every request whose path starts with ``prefix``.

    A key's tenant is looked up in the database (off the event loop) and then
    remembered for a few seconds in a :class:`TenantKeyCache`, so a client
    making many calls pays for one query, not one per request. ``revocations`` is
    the data folder's revocation marker (``relay_server.keys``): when it changes,
    every remembered key is forgotten, so a revoked key stops at once.
    """

    def __init__(self, app: ASGIApp, prefix: str = "/api/", cache_ttl_s: float = 5.0,
                 revocations: Path | None = None) -> None:
        from relay_server.keys import RevocationWatch

        self.app = app
        self.prefix = prefix
        self.cache = TenantKeyCache(cache_ttl_s)
        self.revocations = RevocationWatch(revocations)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get("x-api-key")
        tenant_id = None
        if key:
            key_hash = hash_key(key)
            if self.revocations.changed():
                self.cache.clear()
            tenant_id = self.cache.get(key_hash)
            if tenant_id is None:
                factory = scope["app"].state.session_factory
                try:
                    tenant_id = await run_in_threadpool(tenant_id_for_hash, factory, key_hash)
                except DBAPIError as exc:   # outside the routers: answer here, in words
                    if not is_database_unavailable(exc):
                        raise
                    await database_unavailable()(scope, receive, send)
                    return
                if tenant_id is not None:
                    self.cache.put(key_hash, tenant_id)
        if tenant_id is None:
            response = JSONResponse({"detail": INVALID_KEY if key else MISSING_KEY},
                                    status_code=status.HTTP_401_UNAUTHORIZED)
            await response(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        state["tenant_id"] = tenant_id
        await self.app(scope, receive, send)


def get_session(request: Request):  # type: ignore[no-untyped-def]
    """FastAPI dependency: one database session per request."""
    session: Session = request.app.state.session_factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def current_tenant_id(
    request: Request,
    key: str | None = Depends(api_key_header),
) -> uuid.UUID:
    """The caller's tenant id: set by :class:`ApiKeyMiddleware`, else looked up here.

    401 when the key is missing or unknown.
    """
    tenant_id = getattr(request.state, "tenant_id", None)
    if isinstance(tenant_id, uuid.UUID):
        return tenant_id
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, MISSING_KEY)
    found = tenant_id_for_key(request.app.state.session_factory, key)
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, INVALID_KEY)
    return found
