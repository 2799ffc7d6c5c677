"""``relay-server worker``: consume tasks from a shared queue (to be implemented)."""

from __future__ import annotations

from relay_server.config import ServerSettings


def run_worker(settings: ServerSettings) -> int:
    raise NotImplementedError
