"""Test-wide set-up: offscreen Qt, temporary user folders, a real Relay Local server.

The environment is prepared at import time, before any test module can import
Qt, so every Qt object is created on the offscreen platform and no test ever
touches the real user's settings, keychain, data or cache folders.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

_SANDBOX = Path(tempfile.mkdtemp(prefix="relay-tests-"))
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_QUICK_BACKEND", "software")
for _var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
    os.environ[_var] = str(_SANDBOX / _var.lower())
    Path(os.environ[_var]).mkdir(parents=True, exist_ok=True)
os.environ["RELAY_DESKTOP_HOME"] = str(_SANDBOX / "relay-desktop")
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.support.memory_keyring.MemoryKeyring"
os.environ.pop("RELAY_API_KEY", None)
os.environ.pop("RELAY_BASE_URL", None)

import pytest  # noqa: E402

from relay_desktop.services.qt_compat import pin_bool_singletons  # noqa: E402

pin_bool_singletons()  # PySide6 6.12 leaks references to True on every emit (see qt_compat)
from tests.support.live_server import LiveServer  # noqa: E402


@pytest.fixture(scope="session")
def relay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real Relay Local for the whole session (tests create their own data)."""
    server = LiveServer(tmp_path_factory.mktemp("relay-local")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_url_and_key(relay_server: LiveServer) -> tuple[str, str]:
    """(base_url, api_key) of the shared live server."""
    return relay_server.base_url, relay_server.api_key


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A private Relay Local for tests that restart, kill or fill a server."""
    server = LiveServer(tmp_path / "relay-local").start()
    try:
        yield server
    finally:
        server.stop()
