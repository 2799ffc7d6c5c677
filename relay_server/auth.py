"""API keys: generation, hashing, lookup, the /api/ gate and the tenant dependency.

Every request under ``/api/`` passes :class:`ApiKeyMiddleware` first: a missing
or unknown ``X-API-Key`` is a 401 before the body is even parsed, and the
caller's tenant id is put on ``request.state.tenant_id`` for the routers.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from relay_server.db.models import ApiKey, Tenant

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
    with factory() as session:
        return session.scalar(
            select(ApiKey.tenant_id).where(ApiKey.key_hash == hash_key(key),
                                           ApiKey.revoked_at.is_(None))
        )


MISSING_KEY = "Missing API key (X-API-Key header)"
INVALID_KEY = "Invalid API key"


class ApiKeyMiddleware:
    """ASGI middleware: authenticate every request whose path starts with ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        key = Headers(scope=scope).get("x-api-key")
        tenant_id = None
        if key:
            factory = scope["app"].state.session_factory
            tenant_id = await run_in_threadpool(tenant_id_for_key, factory, key)
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
