"""The main window: plug-in points, remembered layout, shortcuts, themes, log view, status bar."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from relay_desktop.app import Application
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.services.context import AppContext
from relay_desktop.ui.main_window import MainWindow
from relay_desktop.ui.shortcuts import ShortcutsDialog
from relay_desktop.ui.theme import ThemeManager
from tests.gui.conftest import unique
from tests.support.live_server import LiveServer


class ContextPanel(QLabel):
    """A panel like the ones other parts plug in: it receives the AppContext."""

    def __init__(self) -> None:
        super().__init__("panel")
        self.contexts: list[Any] = []

    def set_context(self, context: AppContext | None) -> None:
        self.contexts.append(context)


@pytest.fixture
def window(qtbot: Any, gui_paths: AppPaths) -> MainWindow:
    win = MainWindow(ConnectionManager(gui_paths), gui_paths.config / "window.ini")
    qtbot.addWidget(win)
    return win


def test_plug_in_points_give_panels_the_context_and_a_view_menu_entry(
        qtbot: Any, window: MainWindow, app_context: AppContext) -> None:
    panel = ContextPanel()
    dock = window.add_panel(panel, "Annotations", "right", "annotationsDock")
    assert dock.objectName() == "annotationsDock" and dock.widget() is panel
    assert "Annotations" in [a.text() for a in window.view_menu.actions()]
    editor = ContextPanel()
    window.set_editor(editor)
    assert window.editor is editor and window.editor_host.currentWidget() is editor
    window.set_context(app_context)
    assert panel.contexts[-1] is app_context and editor.contexts[-1] is app_context
    assert window.windowTitle() == "Relay Desktop — Test server"
    window.set_context(None)
    assert panel.contexts[-1] is None
    assert window.pages.currentWidget() is window.first_run


def test_dock_layout_and_geometry_are_remembered(qtbot: Any, gui_paths: AppPaths) -> None:
    first = MainWindow(ConnectionManager(gui_paths), gui_paths.config / "window.ini")
    qtbot.addWidget(first)
    first.show()
    first.resize(760, 580)
    first.log_dock.setVisible(True)
    first.removeDockWidget(first.audio_dock)
    first.addDockWidget(first.dockWidgetArea(first.log_dock), first.audio_dock)
    first.audio_dock.show()
    qtbot.waitExposed(first)
    first.save_layout()
    area = first.dockWidgetArea(first.audio_dock)
    first.close()

    second = MainWindow(ConnectionManager(gui_paths), gui_paths.config / "window.ini")
    qtbot.addWidget(second)
    assert second.restore_layout() is True
    second.show()
    assert second.dockWidgetArea(second.audio_dock) == area
    assert second.log_dock.isVisibleTo(second)
    assert (second.width(), second.height()) == (760, 580)


def test_every_action_has_a_unique_shortcut_and_the_help_lists_them(
        qtbot: Any, window: MainWindow) -> None:
    entries = window.shortcuts.entries()
    assert len(entries) >= 15
    missing = [text for _g, text, keys in entries if not keys]
    assert missing == []
    assert window.shortcuts.conflicts() == []
    dialog = window.show_shortcuts()
    assert isinstance(dialog, ShortcutsDialog)
    assert dialog.table.rowCount() == len(entries)
    texts = {dialog.table.item(r, 1).text() for r in range(dialog.table.rowCount())}
    assert {"New dataset…", "Refresh datasets", "Keyboard shortcuts", "Connections…"} <= texts
    dialog.close()


def test_themes_follow_the_choice_and_the_setting_survives(
        qtbot: Any, gui_paths: AppPaths) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    try:
        shell.set_theme("dark")
        assert shell.theme.effective == "dark"
        dark = app.palette().color(QPalette.ColorRole.Window).lightness()
        assert shell.window.theme_actions["dark"].isChecked()
        assert shell.window.audio_list.model.theme == "dark"
        shell.set_theme("light")
        assert app.palette().color(QPalette.ColorRole.Window).lightness() > dark + 100
        shell.set_theme("system")
        assert shell.theme.effective == shell.theme.os_scheme()
        assert shell.settings.get("theme") == "system"
        with pytest.raises(ValueError, match="theme must be one of"):
            ThemeManager(app).set_mode("purple")
    finally:
        shell.shutdown()


def test_log_view_shows_records_with_keys_redacted(
        qtbot: Any, window: MainWindow, app_context: AppContext, relay_server: LiveServer) -> None:
    window.log_dock.show()
    window.set_context(app_context)
    from relay_desktop.api.redact import install

    install(relay_server.api_key)
    logging.getLogger("relay_desktop.test").warning("using key %s now", relay_server.api_key)
    qtbot.waitUntil(lambda: "using key" in window.log_view.contents(), timeout=3000)
    assert relay_server.api_key not in window.log_view.contents()
    assert "***" in window.log_view.contents()


def test_status_bar_shows_connection_state_and_activity(
        qtbot: Any, window: MainWindow, app_context: AppContext) -> None:
    window.set_context(app_context)
    qtbot.waitUntil(lambda: window.status.state == "online", timeout=10000)
    assert "Connected" in window.status.state_text()
    assert "Test server" in window.status.state_text()
    assert not window.status.retry.isVisible()
    # the panels' first requests show as activity too: let them finish first
    qtbot.waitUntil(lambda: app_context.activity.active() == [], timeout=10000)
    token = app_context.activity.begin("Uploading 3 files")
    assert window.status.activity.text() == "Uploading 3 files"
    app_context.activity.end(token)
    assert window.status.activity.text() == ""


def test_application_honours_relay_base_url_and_key_from_the_environment(
        qtbot: Any, gui_paths: AppPaths, relay_server: LiveServer, live_client: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    name = unique("env-ds")
    live_client.datasets.create(name, artifact_types=[{"name": "click"}])
    monkeypatch.setenv("RELAY_BASE_URL", relay_server.base_url + "/")
    monkeypatch.setenv("RELAY_API_KEY", relay_server.api_key)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    try:
        shell.start()
        assert shell.context is not None
        assert shell.context.connection.base_url == relay_server.base_url
        qtbot.waitUntil(lambda: name in [d.name for d in shell.window.datasets.model.datasets()],
                        timeout=10000)
        assert relay_server.api_key not in shell.window.windowTitle()
    finally:
        shell.shutdown()
    for path in gui_paths.config.glob("*"):
        assert relay_server.api_key not in path.read_text(errors="replace"), path


def test_editor_placeholder_shows_the_activated_file(qtbot: Any, window: MainWindow) -> None:
    from relay_desktop.api.models import AudioFile

    audio = AudioFile("a1", "d1", "take_001.wav", "audio/wav", 10, 1000, 24000, 1, "ready",
                      None, None, None)
    with qtbot.waitSignal(window.audio_file_activated) as blocker:
        window.audio_list.audio_file_activated.emit(audio)
    assert blocker.args == [audio]
    assert window.editor_placeholder.title.text() == "take_001.wav"




class FakeEditor(QLabel):
    """Stands in for the audio editor plug-in: records what the shell asks of it."""

    def __init__(self, context: AppContext) -> None:
        super().__init__("editor")
        self.context = context
        self.opened: list[tuple[str, Any]] = []
        self.stopped = False

    def open_audio(self, dataset_id: str, audio: Any) -> None:
        self.opened.append((dataset_id, audio))

    def shutdown(self) -> None:
        self.stopped = True


def test_the_editor_plug_in_is_built_per_connection_and_opens_activated_files(
        qtbot: Any, gui_paths: AppPaths, relay_server: LiveServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from relay_desktop.api.models import AudioFile

    monkeypatch.setenv("RELAY_BASE_URL", relay_server.base_url)
    monkeypatch.setenv("RELAY_API_KEY", relay_server.api_key)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    built: list[FakeEditor] = []

    def factory(context: AppContext) -> FakeEditor:
        built.append(FakeEditor(context))
        return built[-1]

    shell = Application(app, gui_paths, editor_factory=factory)
    qtbot.addWidget(shell.window)
    try:
        shell.start()
        assert len(built) == 1 and shell.window.editor is built[0]
        assert built[0].context is shell.context
        audio = AudioFile("a1", "d1", "x.wav", "audio/wav", 1, 1, 1, 1, "ready", None, None, None)
        shell.window.audio_list.audio_file_activated.emit(audio)
        assert built[0].opened == [("d1", audio)]
        assert shell.context is not None
        shell.connect_to(shell.context.connection, relay_server.api_key)
        assert len(built) == 2 and built[0].stopped and shell.window.editor is built[1]
    finally:
        shell.shutdown()
    assert built[1].stopped


def test_a_broken_editor_plug_in_leaves_the_placeholder(
        qtbot: Any, gui_paths: AppPaths, relay_server: LiveServer,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("RELAY_BASE_URL", relay_server.base_url)
    monkeypatch.setenv("RELAY_API_KEY", relay_server.api_key)
    app = QApplication.instance()
    assert isinstance(app, QApplication)

    def broken(_context: AppContext) -> QWidget:
        raise RuntimeError("no audio backend")

    shell = Application(app, gui_paths, editor_factory=broken)
    qtbot.addWidget(shell.window)
    try:
        shell.start()
        assert shell.window.editor is shell.window.editor_placeholder
        assert shell.context is not None
        assert "audio editor could not be created" in caplog.text
    finally:
        shell.shutdown()
