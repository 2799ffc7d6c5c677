"""The local workspace: Relay Local as a subprocess, its key, the demo seed, restarts, stop."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PySide6.QtWidgets import QApplication

from relay_desktop.api import RelayClient
from relay_desktop.app import Application
from relay_desktop.core.connections import LOCAL_ID
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.credentials import CredentialStore
from relay_desktop.services.local_workspace import SEED_MARKER, SERVER_NICE, LocalWorkspace


def thread_nice_values(pid: int) -> set[int]:
    """The nice value of every thread of process ``pid`` (Linux: field 19 of each stat)."""
    values = set()
    for stat in Path(f"/proc/{pid}/task").glob("*/stat"):
        fields = stat.read_text().rsplit(")", 1)[1].split()
        values.add(int(fields[16]))  # fields after "comm)" start at field 3
    return values


@pytest.fixture
def workspace(qtbot: Any, tmp_path: Path) -> Iterator[LocalWorkspace]:
    creds = CredentialStore(tmp_path / "credentials.json")
    ws = LocalWorkspace(tmp_path / "local-workspace", creds, watch_interval_ms=200)
    yield ws
    ws.stop()


def test_starts_serves_restarts_after_a_crash_and_stops(
        qtbot: Any, workspace: LocalWorkspace) -> None:
    seed_problems: list[str] = []
    workspace.seed_failed.connect(seed_problems.append)
    with qtbot.waitSignal(workspace.ready, timeout=90000) as ready:
        workspace.start()
    base_url, key = ready.args
    assert base_url.startswith("http://127.0.0.1:")
    assert requests.get(base_url + "/healthz", timeout=5).json()["server"] == "relay-local"
    with RelayClient(base_url, key) as client:
        page = client.datasets.list()
    assert workspace.credentials.get(LOCAL_ID) == key
    assert (workspace.data_dir / "server.log").exists()
    if sys.platform.startswith("linux"):  # every thread, BLAS and job threads included,
        # runs below the app's priority: drawing and decoding go first on busy cores
        assert workspace.proc is not None
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert thread_nice_values(workspace.proc.pid) == {min(19, own + SERVER_NICE)}
    # the demo seed either worked (marker written) or said why, without stopping anything
    seeded = (workspace.data_dir / SEED_MARKER).exists()
    assert seeded or seed_problems, "a failed seed must be visible"
    if seeded:
        assert page.total and page.total >= 1

    # a crash: the watchdog notices, says so and restarts it on the same address
    crashed: list[str] = []
    workspace.crashed.connect(crashed.append)
    assert workspace.proc is not None
    old_pid = workspace.proc.pid
    with qtbot.waitSignal(workspace.restarted, timeout=90000) as back:
        workspace.proc.kill()
    assert crashed and "restarting" in crashed[0]
    assert back.args == [base_url, key]
    assert workspace.proc is not None and workspace.proc.pid != old_pid
    with RelayClient(base_url, key) as client:
        assert client.datasets.list().total == page.total

    proc = workspace.proc
    with qtbot.waitSignal(workspace.stopped, timeout=20000):
        workspace.stop()
    assert proc.poll() is not None
    with pytest.raises(requests.RequestException):
        requests.get(base_url + "/healthz", timeout=2)


def test_a_broken_server_command_fails_with_a_sentence(
        qtbot: Any, tmp_path: Path) -> None:
    ws = LocalWorkspace(tmp_path / "ws", CredentialStore(tmp_path / "c.json"),
                        python=str(tmp_path / "no-such-python"))
    with qtbot.waitSignal(ws.failed, timeout=30000) as failed:
        ws.start()
    assert "could not" in failed.args[0].lower()
    assert not ws.is_running


def test_first_run_local_workspace_opens_the_workspace(
        qtbot: Any, gui_paths: AppPaths) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths, workspace_seed_demo=False)
    qtbot.addWidget(shell.window)
    window = shell.window
    try:
        shell.start()
        assert window.pages.currentWidget() is window.first_run
        with qtbot.waitSignal(shell.connected, timeout=90000):
            window.first_run.local_button.click()
        assert shell.context is not None and shell.context.connection.is_local
        qtbot.waitUntil(lambda: window.status.state == "online", timeout=30000)
        assert window.windowTitle() == "Relay Desktop — Local workspace"
        assert shell.settings.get("last_connection") == LOCAL_ID
        assert shell.local is not None and shell.local.is_running
        proc = shell.local.proc
    finally:
        shell.shutdown()
    assert proc is not None and proc.poll() is not None, "the server stops with the app"


def test_the_app_stops_relay_local_when_it_is_told_to_quit(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    env = dict(os.environ, RELAY_DESKTOP_HOME=str(tmp_path / "home"))
    errors = (tmp_path / "stderr.txt").open("w")
    app = subprocess.Popen([sys.executable, "-m", "relay_desktop", "--local"],
                           cwd=Path(__file__).resolve().parents[2], env=env,
                           stdout=subprocess.DEVNULL, stderr=errors, text=True)
    try:
        deadline = time.monotonic() + 90
        servers: list[psutil.Process] = []
        while time.monotonic() < deadline and not servers:
            servers = [p for p in psutil.Process(app.pid).children(recursive=True)
                       if "serve" in p.cmdline()]
            time.sleep(0.2)
        assert servers, "Relay Local was not started"
        # wait until it answers (the app is connected), then ask the app to quit
        log = tmp_path / "home" / "data" / "local-workspace" / "server.log"
        while time.monotonic() < deadline and not log.exists():
            time.sleep(0.2)
        time.sleep(1.0)
        app.send_signal(signal.SIGTERM)
        assert app.wait(30) == 0, (tmp_path / "stderr.txt").read_text()[-2000:]
        _gone, alive = psutil.wait_procs(servers, timeout=15)
        assert alive == [], "Relay Local outlived the app"
    finally:
        errors.close()
        if app.poll() is None:
            app.kill()
            app.wait(10)
