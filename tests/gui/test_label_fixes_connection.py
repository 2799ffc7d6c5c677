"""Connection errors say what happened: nothing answered, a malformed address, a wrong key."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from relay_desktop.core.paths import AppPaths
from relay_desktop.services.connections import ConnectionManager, parse_server_address
from relay_desktop.ui.connection import ConnectionsDialog, FirstRunScreen
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


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_address_where_nothing_listens_says_nothing_answered(
        qtbot: Any, screen: FirstRunScreen, manager: ConnectionManager) -> None:
    form = screen.form
    url = f"http://127.0.0.1:{_closed_port()}"
    form.url.setText(url)
    form.key.setText("k")
    with qtbot.waitSignal(manager.verification_failed, timeout=30000):
        form.connect_button.click()
    text = form.message.text()
    assert text.startswith(f"Nothing answered at {url}: is the server running?")
    assert "Check the address and port" in text
    assert "lost" not in text


def test_a_malformed_address_gets_a_sentence_not_the_parser_text(
        qtbot: Any, screen: FirstRunScreen, manager: ConnectionManager) -> None:
    form = screen.form
    for typed in ("http://[::1", "http://exa mple.com"):
        form.url.setText(typed)
        form.key.setText("k")
        with qtbot.waitSignal(manager.verification_failed, timeout=5000):
            form.submit()
        assert form.url_error.isVisibleTo(form)
        assert f"“{typed}” is not a valid server address" in form.url_error.text()
        assert "http://127.0.0.1:8000" in form.url_error.text()


def test_https_is_shown_when_it_is_assumed_never_added_silently(
        qtbot: Any, screen: FirstRunScreen, manager: ConnectionManager) -> None:
    form = screen.form
    port = _closed_port()
    form.url.setText(f"127.0.0.1:{port}")
    form.key.setText("k")
    with qtbot.waitSignal(manager.verification_failed, timeout=30000):
        form.submit()
    assert form.url.text() == f"https://127.0.0.1:{port}"
    assert form.url_note.isVisibleTo(form)
    assert "write http:// instead" in form.url_note.text()
    assert parse_server_address(f"http://127.0.0.1:{port}").assumed_https is False


def test_a_wrong_key_in_file_connections_does_not_point_at_file_connections(
        qtbot: Any, manager: ConnectionManager, relay_server: LiveServer) -> None:
    dialog = ConnectionsDialog(manager)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_form()
    form = dialog.form
    form.url.setText(relay_server.base_url)
    form.key.setText("relay_wrong_key")
    with qtbot.waitSignal(manager.verification_failed, timeout=15000):
        form.connect_button.click()
    text = form.key_error.text()
    assert f"The server at {relay_server.base_url} rejected this API key" in text
    assert "File > Connections" not in text


def test_the_saved_connections_list_keeps_its_size_as_errors_grow(
        qtbot: Any, manager: ConnectionManager) -> None:
    dialog = ConnectionsDialog(manager)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.show_form()
    qtbot.waitExposed(dialog)
    qtbot.wait(20)
    before = dialog.list.height()
    form = dialog.form
    long_text = " ".join(["The server could not be reached for a long explained reason."] * 8)
    for label in (form.url_error, form.key_error, form.message):
        label.setText(long_text)
        label.setVisible(True)
    manager.verification_failed.emit(ValueError(long_text))  # what shows such messages
    qtbot.waitUntil(lambda: dialog.height() > 420, timeout=3000)
    qtbot.wait(20)
    assert dialog.list.height() >= 0.85 * before, (before, dialog.list.height())
    assert form.message.height() >= form.message.heightForWidth(form.message.width())
