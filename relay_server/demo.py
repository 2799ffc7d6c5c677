"""The demo dataset (to be implemented by the seed-demo work)."""

from __future__ import annotations

import uuid

from relay_server.config import ServerSettings


def seed_demo(settings: ServerSettings, tenant: str = "default") -> uuid.UUID:
    """Create the demo dataset for ``tenant`` once and return its id."""
    raise NotImplementedError("seed-demo is not built yet")
