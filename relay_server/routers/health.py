"""Relay Local extension: an unauthenticated readiness probe."""

from fastapi import APIRouter

from relay_server import __version__

router = APIRouter(tags=["Relay Local"])


@router.get("/healthz", include_in_schema=False)
def healthz() -> dict[str, str]:
    """Answer once the server is ready to take requests."""
    return {"status": "ok", "server": "relay-local", "version": __version__}
