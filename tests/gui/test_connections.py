"""Connection flows: a good key, a bad key, a server that goes down and comes back, keychains."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from keyring.backends import fail
from PySide6.QtWidgets import QApplication

from relay_desktop.app import Application
from relay_desktop.core.connections import (
    ConnectionRecord,
    ConnectionStore,
    from_environment,
    normalize_base_url,
)
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.services.credentials import CredentialStore, Storage, keyring_usable
from relay_desktop.ui.connection import ConnectionsDialog, FirstRunScreen
from tests.gui.conftest import unique
from tests.support.live_server import LiveServer


@pytest.fixture
def manager(gui_paths: AppPaths) -> Iterator[ConnectionManager]:
    mgr = ConnectionManager(gui_paths)
    yield mgr
    mgr.shutdown()


@pytest.fixture
def screen(qtbot: Any, manager: ConnectionManager) -> FirstRunScreen:
    widget = FirstRunScreen(manager)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_good_key_is_verified_saved_and_kept_in_the_keychain_only(
        qtbot: Any, screen: FirstRunScreen, manager: ConnectionManager,
        relay_server: LiveServer, gui_paths: AppPaths) -> None:
    form = screen.form
    assert not form.store_in_file.isVisible(), "a keychain exists: no file option"
    form.name.setText("Team")
    form.url.setText(relay_server.base_url + "/api/v1/")
    form.key.setText(relay_server.api_key)
    with qtbot.waitSignal(screen.server_connected, timeout=15000) as done:
        form.connect_button.click()
    record = done.args[0]
    assert record.name == "Team" and record.base_url == relay_server.base_url
    assert form.storage is Storage.KEYRING
    assert manager.key_for(record.id) == relay_server.api_key
    assert manager.credentials.keyring_available
    assert form.key.text() == ""
    saved = ConnectionStore(gui_paths.config / "connections.json").all()
    assert [r.id for r in saved] == [record.id]
    for path in gui_paths.config.rglob("*"):
        if path.is_file():
            assert relay_server.api_key not in path.read_text(errors="replace"), path


def test_bad_key_is_rejected_next_to_the_key_field_and_nothing_is_saved(
        qtbot: Any, screen: FirstRunScreen, manager: ConnectionManager,
        relay_server: LiveServer) -> None:
    form = screen.form
    form.url.setText(relay_server.base_url)
    form.key.setText("relay_wrong_key")
    with qtbot.waitSignal(manager.verification_failed, timeout=15000):
        form.connect_button.click()
    assert form.key_error.isVisibleTo(form)
    assert "rejected this API key" in form.key_error.text()
    assert manager.records() == []
    assert form.key.text() == "relay_wrong_key", "what the user typed is kept"
    assert form.connect_button.isEnabled()


def test_malformed_address_and_missing_key_are_explained(
        qtbot: Any, screen: FirstRunScreen, manager: ConnectionManager) -> None:
    form = screen.form
    form.url.setText("ftp://example.com")
    form.key.setText("k")
    with qtbot.waitSignal(manager.verification_failed, timeout=5000):
        form.submit()
    assert "http:// or https://" in form.url_error.text()
    form.url.setText("http://127.0.0.1:1")
    form.key.setText("")
    with qtbot.waitSignal(manager.verification_failed, timeout=5000):
        form.submit()
    assert form.key_error.text() == "Enter the API key"


def _serve_on(server: LiveServer, port: int) -> subprocess.Popen[str]:
    """Start the same server again (same data, same key) on the same port."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "relay_server", "serve", "--data-dir", str(server.data_dir),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=server.env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok:
                return proc
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the server did not come back")


def test_server_down_then_up(qtbot: Any, fresh_server: LiveServer, gui_paths: AppPaths) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    window = shell.window
    port = int(fresh_server.base_url.rsplit(":", 1)[1])
    fresh_server.stop()
    revived = None
    try:
        # down: connecting fails with a sentence and saves nothing
        form = window.first_run.form
        form.url.setText(fresh_server.base_url)
        form.key.setText(fresh_server.api_key)
        with qtbot.waitSignal(shell.manager.verification_failed, timeout=30000):
            form.connect_button.click()
        assert "Nothing answered at" in form.message.text()
        assert shell.manager.records() == []

        # up: the same details now connect and the window shows the workspace
        revived = _serve_on(fresh_server, port)
        with qtbot.waitSignal(shell.connected, timeout=30000):
            form.connect_button.click()
        qtbot.waitUntil(lambda: window.status.state == "online", timeout=15000)
        assert window.pages.currentWidget() is window.editor_host

        # down while connected: the status bar says so and offers Retry
        revived.terminate()
        revived.wait(15)
        window.datasets.refresh()
        qtbot.waitUntil(lambda: window.status.state == "offline", timeout=30000)
        assert window.status.retry.isVisibleTo(window)
        # other pollers (uploads, jobs) may notice first: wait for the refresh's own failure
        qtbot.waitUntil(lambda: window.datasets.banner.isVisibleTo(window.datasets),
                        timeout=30000)
        qtbot.waitUntil(lambda: window.connection_alert.box is not None, timeout=15000)
        assert window.connection_alert.box is not None
        assert "connection to the server was lost" in window.connection_alert.box.text()
        window.connection_alert.box.close()

        # up again: Retry brings the workspace back
        revived = _serve_on(fresh_server, port)
        window.status.retry.click()
        qtbot.waitUntil(lambda: window.status.state == "online", timeout=30000)
        assert not window.status.retry.isVisibleTo(window)
    finally:
        shell.shutdown()
        if revived is not None and revived.poll() is None:
            revived.terminate()
            revived.wait(15)


def test_saved_connections_are_switchable(
        qtbot: Any, relay_server: LiveServer, gui_paths: AppPaths, live_client: Any) -> None:
    mine = unique("mine")
    live_client.datasets.create(mine, artifact_types=[{"name": "x"}])
    other_key = relay_server.new_key(unique("tenant"))
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    try:
        for name, key in (("Main", relay_server.api_key), ("Other", other_key)):
            with qtbot.waitSignal(shell.manager.verified, timeout=15000):
                shell.manager.verify_and_save(name, relay_server.base_url, key)
        records = {r.name: r for r in shell.manager.records()}
        dialog = shell.window.show_connections()
        assert isinstance(dialog, ConnectionsDialog)
        assert dialog.list.count() == 3  # the local workspace + two servers
        dialog.select(records["Main"].id)
        with qtbot.waitSignal(shell.window.datasets.datasets_loaded, timeout=15000):
            dialog.open_button.click()
        assert shell.context is not None and shell.context.connection.name == "Main"
        assert mine in [d.name for d in shell.window.datasets.model.datasets()]
        with qtbot.waitSignal(shell.window.datasets.datasets_loaded, timeout=15000):
            shell.open_saved(records["Other"].id)
        assert shell.window.windowTitle() == "Relay Desktop — Other"
        assert mine not in [d.name for d in shell.window.datasets.model.datasets()]
        assert shell.settings.get("last_connection") == records["Other"].id
    finally:
        shell.shutdown()
    # the next start opens the last connection again
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    try:
        shell.start()
        assert shell.context is not None and shell.context.connection.name == "Other"
    finally:
        shell.shutdown()


def test_without_a_keychain_keys_stay_in_the_session_unless_a_private_file_is_chosen(
        qtbot: Any, gui_paths: AppPaths, relay_server: LiveServer) -> None:
    assert not keyring_usable(fail.Keyring())
    creds = CredentialStore(gui_paths.config / "credentials.json", backend=fail.Keyring())
    manager = ConnectionManager(gui_paths, creds)
    screen = FirstRunScreen(manager)
    qtbot.addWidget(screen)
    screen.show()
    form = screen.form
    assert form.keychain_note.isVisible() and "session only" in form.keychain_note.text()
    form.url.setText(relay_server.base_url)
    form.key.setText(relay_server.api_key)
    with qtbot.waitSignal(screen.server_connected, timeout=15000) as first:
        form.connect_button.click()
    assert form.storage is Storage.SESSION
    assert not (gui_paths.config / "credentials.json").exists()
    session_id = first.args[0].id
    assert CredentialStore(gui_paths.config / "credentials.json",
                           backend=fail.Keyring()).get(session_id) is None

    form.store_in_file.setChecked(True)
    form.url.setText(relay_server.base_url)
    form.key.setText(relay_server.api_key)
    with qtbot.waitSignal(screen.server_connected, timeout=15000) as second:
        form.connect_button.click()
    assert form.storage is Storage.FILE
    path = gui_paths.config / "credentials.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {second.args[0].id: relay_server.api_key}
    manager.shutdown()


def test_environment_and_address_rules() -> None:
    env = {"RELAY_BASE_URL": "relay.example.com:8400/api/v1", "RELAY_API_KEY": " k1 "}
    found = from_environment(env)
    assert found is not None
    record, key = found
    assert record.base_url == "https://relay.example.com:8400" and key == "k1"
    assert from_environment({"RELAY_BASE_URL": "http://x"}) is None
    assert from_environment({"RELAY_BASE_URL": "gopher://x", "RELAY_API_KEY": "k"}) is None
    with pytest.raises(ValueError, match="not a number"):
        normalize_base_url("http://host:99999")
    assert isinstance(ConnectionRecord.new("", "http://h:1"), ConnectionRecord)
