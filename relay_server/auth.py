"""API keys: generation, hashing, lookup, and the request dependency."""

from __future__ import annotations

import hashlib
import secrets
import uuid

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader
from sqlalchemy import select
from sqlalchemy.orm import Session

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
    key: str | None = Depends(api_key_header),
    session: Session = Depends(get_session),
) -> uuid.UUID:
    """Resolve the caller's tenant from ``X-API-Key``; 401 when missing or unknown."""
    if not key:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Missing API key (X-API-Key header)")
    tenant = tenant_for_key(session, key)
    if tenant is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid API key")
    return tenant.id
