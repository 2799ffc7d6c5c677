"""Where ``make package`` leaves its artifacts, and the GUI fixtures the dialog tests share.

The smoke tests run the BUILT artifacts; without them they are skipped with the
reason (``make package`` builds them; ``RELAY_PACKAGE_DIST`` points elsewhere), or
fail when ``RELAY_PACKAGE_REQUIRED=1``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.gui.conftest import (  # noqa: F401  (fixtures shared with the GUI tests)
    _restore_application_look,
    api_worker,
    app_context,
    gui_paths,
)

ROOT = Path(__file__).resolve().parents[2]
DIST = Path(os.environ.get("RELAY_PACKAGE_DIST") or ROOT / "dist")
BUILD_HINT = "run `make package` first (or set RELAY_PACKAGE_DIST)"


def missing(reason: str) -> None:
    """Skip, or fail when ``RELAY_PACKAGE_REQUIRED=1`` (.ci/run's packaging step sets it)."""
    if os.environ.get("RELAY_PACKAGE_REQUIRED") == "1":
        pytest.fail(f"{reason} (RELAY_PACKAGE_REQUIRED=1)")
    pytest.skip(reason)


def built_binary() -> Path:
    """The one-folder build's executable, or skip."""
    exe = DIST / "relay-desktop" / ("relay-desktop.exe" if os.name == "nt" else "relay-desktop")
    if not exe.is_file():
        missing(f"no packaged build at {exe}: {BUILD_HINT}")
    return exe


def built_artifact(pattern: str, what: str) -> Path:
    """The newest file in the dist folder matching ``pattern``, or skip."""
    found = sorted(DIST.glob(pattern), key=lambda p: p.stat().st_mtime)
    if not found:
        missing(f"no {what} ({DIST / pattern}): {BUILD_HINT}")
    return found[-1]


def fresh_home_env(home: Path) -> dict[str, str]:
    """The environment of a user who never ran the app: a new HOME, no test overrides.

    The keyring is the null backend: a smoke test never touches a real keychain.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RELAY_", "XDG_", "PYTHON", "QT_", "DBUS_"))}
    home.mkdir(parents=True, exist_ok=True)
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen",
               PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    return env
