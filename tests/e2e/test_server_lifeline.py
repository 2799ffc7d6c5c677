"""The local server ends with its app, however the app ends; one data folder, one server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import requests

from tests.support.live_server import LiveServer, server_env

ROOT = Path(__file__).resolve().parents[2]

APP = textwrap.dedent("""
    import sys
    from pathlib import Path
    from PySide6.QtCore import QCoreApplication
    from relay_desktop.services.qt_compat import pin_bool_singletons
    from relay_desktop.services.credentials import CredentialStore
    from relay_desktop.services.local_workspace import LocalWorkspace

    home = Path(sys.argv[1])
    pin_bool_singletons()  # as the app does at start-up (see qt_compat)
    app = QCoreApplication([])
    ws = LocalWorkspace(home / "ws", CredentialStore(home / "creds.json"), seed_demo=False)
    ws.ready.connect(lambda url, key: print("READY", ws.proc.pid, url, flush=True))
    ws.failed.connect(lambda why: print("FAILED", why, flush=True))
    ws.start()
    app.exec()
""")


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.1)
    return _gone(pid)


def _start_app(home: Path) -> tuple[subprocess.Popen[str], int, str]:
    app = subprocess.Popen([sys.executable, "-c", APP, str(home)], cwd=ROOT, text=True,
                           stdout=subprocess.PIPE, env=server_env({"QT_QPA_PLATFORM": "offscreen"}))
    assert app.stdout is not None
    line = app.stdout.readline()
    assert line.startswith("READY"), f"the app did not start its server: {line!r}"
    _, pid, url = line.split()
    return app, int(pid), url


@pytest.fixture
def app_home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "relay_server" in cmd and str(tmp_path) in cmd:
            proc.kill()


@pytest.mark.slow
def test_sigkilled_app_takes_its_server_along_and_the_next_launch_serves_alone(
        app_home: Path) -> None:
    app, server_pid, url = _start_app(app_home)
    assert requests.get(url + "/healthz", timeout=5).ok
    os.kill(app.pid, signal.SIGKILL)
    app.wait(10)
    assert _wait_gone(server_pid, 30), "the server outlived the app that started it"

    # the next launch gets the folder to itself, and quitting it leaves nothing behind
    app2, server2, url2 = _start_app(app_home)
    assert server2 != server_pid and requests.get(url2 + "/healthz", timeout=5).ok
    app2.terminate()
    app2.wait(10)
    assert _wait_gone(server2, 30)


def test_a_second_server_on_the_same_folder_is_refused_with_who_holds_it(
        tmp_path: Path) -> None:
    with LiveServer(tmp_path / "data") as first:
        second = subprocess.run(
            [sys.executable, "-m", "relay_server", "serve", "--data-dir", str(tmp_path / "data"),
             "--port", "0"], cwd=ROOT, env=server_env(), capture_output=True, text=True,
            timeout=60)
        assert second.returncode == 3
        assert "already served by another Relay Local" in second.stderr
        assert first.base_url in second.stderr and str(first.proc.pid) in second.stderr
        assert requests.get(first.base_url + "/healthz", timeout=5).ok  # untouched
