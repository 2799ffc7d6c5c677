"""The ground everything stands on: entry points, the live server, layering."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import requests

from relay_desktop import __version__
from tests.support.fresh_interpreter import assert_probe_passes
from tests.support.live_server import LiveServer


def test_desktop_version_flag() -> None:
    out = subprocess.run([sys.executable, "-m", "relay_desktop", "--version"],
                         capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[0] == f"relay-desktop {__version__}"
    names = {line.split(":", 1)[0] for line in lines[1:]}
    assert {"Qt", "PySide6", "pyqtgraph", "libsndfile"} <= names


def test_server_version_flag() -> None:
    out = subprocess.run([sys.executable, "-m", "relay_server", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip().startswith("relay-server ")


def test_live_server_is_ready_and_requires_a_key(relay_server: LiveServer) -> None:
    assert requests.get(relay_server.base_url + "/healthz", timeout=5).json()["status"] == "ok"
    anonymous = requests.get(relay_server.base_url + "/api/v1/datasets", timeout=5)
    assert anonymous.status_code == 401
    assert "API key" in anonymous.json()["detail"]
    wrong = requests.get(relay_server.base_url + "/api/v1/datasets",
                         headers={"X-API-Key": "rl_not-a-key"}, timeout=5)
    assert wrong.status_code == 401


def test_api_and_core_import_without_qt() -> None:
    """relay_desktop.api and .core must work where Qt is not installed."""
    code = (
        "import sys, importlib, pkgutil\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError('Qt is blocked in this test: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import relay_desktop.api as api, relay_desktop.core as core\n"
        "for pkg in (api, core):\n"
        "    for mod in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        if not mod.name.endswith('__main__'):\n"
        "            importlib.import_module(mod.name)\n"
        "print('ok')\n"
    )
    assert_probe_passes(code, timeout_s=None)


def test_screenshot_writes_a_png(tmp_path: Path) -> None:
    target = tmp_path / "shot.png"
    subprocess.run([sys.executable, "-m", "relay_desktop", "--screenshot", str(target),
                    "--size", "800x500"], check=True, timeout=120)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
