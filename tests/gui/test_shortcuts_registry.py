"""One keymap: Help > Keyboard shortcuts lists every key the widgets obey, and rebinding
there changes what the keys do (saved in the settings, clashes refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from relay_desktop.core.keymap import EDITOR, WINDOW, Command, KeyConflict, Keymap
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.ui.main_window import MainWindow
from relay_desktop.ui.shortcuts import ShortcutsDialog, canonical
from relay_desktop.ui.waveform.editor import AudioEditor


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "d", tmp_path / "c", tmp_path / "k").ensure()


def make_window(qtbot: QtBot, paths: AppPaths, settings: Settings | None = None) -> MainWindow:
    window = MainWindow(ConnectionManager(paths), None)
    qtbot.addWidget(window)
    if settings is not None:
        window.shortcuts.use_settings(settings)
    return window


def cell(dialog: ShortcutsDialog, row: int, col: int) -> str:
    item = dialog.table.item(row, col)
    assert item is not None
    return item.text()


def listed(dialog: ShortcutsDialog) -> dict[str, str]:
    """Action text -> shortcut text, as the dialog shows them."""
    return {cell(dialog, r, 1): cell(dialog, r, 2) for r in range(dialog.table.rowCount())}


def test_the_list_has_every_key_the_editor_and_the_menus_use(qtbot: QtBot,
                                                             paths: AppPaths) -> None:
    window = make_window(qtbot, paths)
    dialog = window.show_shortcuts()
    shown = listed(dialog)
    keys = set(shown.values())
    for expected in ("Space", "Shift+Space", "F", "Z", "I", "O", "N", "P", "Tab", "Shift+Tab",
                     "Del, Backspace", ",", ".", "Shift+,, <", "E", "Ctrl+Z",
                     "Ctrl+Shift+Z, Ctrl+Y", "Ctrl+C", "Ctrl+V", "Ctrl+K", "F1", "L", "Esc"):
        assert expected in keys, expected
    for digit in range(1, 10):
        assert str(digit) in keys
    assert shown["Keyboard shortcuts"] == "F1"
    assert len(shown) == len(window.shortcuts.entries()) > 60
    assert window.shortcuts.conflicts() == []
    # every menu action with a key is in the list (nothing listed drifts from the menus)
    menu_keys = {a.shortcut().toString() for menu in window.menuBar().findChildren(type(
        window.edit_menu.menu)) for a in menu.actions() if not a.shortcut().isEmpty()}
    listed_keys = {k for text in keys for k in text.split(", ")}
    assert menu_keys <= listed_keys
    assert cell(dialog, 0, 0) == "File"  # in the menus' order
    dialog.search.setText("ms earlier")
    visible = [r for r in range(dialog.table.rowCount()) if not dialog.table.isRowHidden(r)]
    assert [cell(dialog, r, 2) for r in visible] == [",", "Shift+,, <"]
    dialog.close()


def test_rebinding_changes_what_the_waveform_key_does_and_is_saved(
        qtbot: QtBot, paths: AppPaths, tmp_path: Path) -> None:
    settings = Settings(paths.config / "settings.json")
    window = make_window(qtbot, paths, settings)
    editor = AudioEditor(paths=paths)
    window.set_editor(editor)
    window.pages.setCurrentWidget(window.editor_host)
    window.show()
    qtbot.waitExposed(window)
    wav = tmp_path / "tone.wav"
    sf.write(wav, np.zeros(16000 * 4, dtype=np.float32), 16000)
    with qtbot.waitSignal(editor.file_opened, timeout=10_000):
        editor.open_file(wav)
    view = editor.view

    dialog = window.show_shortcuts()
    dialog.select_command("waveform.zoom_fit")
    dialog.key_edit.setKeySequence(QKeySequence("G"))
    assert dialog.assign()
    assert listed(dialog)["Zoom to fit"] == "G"

    view.set_view_range(1.0, 1.5)
    QTest.keyClick(view, Qt.Key.Key_F)
    assert view.view_range() == pytest.approx((1.0, 1.5))  # F is no longer the key
    QTest.keyClick(view, Qt.Key.Key_G)
    assert view.view_range() == pytest.approx((0.0, 4.0))

    # a menu action follows too: Undo becomes Ctrl+U
    dialog.select_command("edit.undo")
    dialog.key_edit.setKeySequence(QKeySequence("Ctrl+U"))
    assert dialog.assign()
    assert window.edit_menu.undo_action.shortcut().toString() == "Ctrl+U"
    dialog.close()

    stored = Settings(paths.config / "settings.json").get("shortcuts")
    assert stored == {"waveform.zoom_fit": ["G"], "edit.undo": ["Ctrl+U"]}
    again = make_window(qtbot, paths, Settings(paths.config / "settings.json"))
    assert again.keymap.keys("waveform.zoom_fit") == ("G",)
    assert again.edit_menu.undo_action.shortcut().toString() == "Ctrl+U"
    editor.shutdown()


def test_a_key_already_taken_is_refused_with_a_message(qtbot: QtBot, paths: AppPaths) -> None:
    window = make_window(qtbot, paths)
    dialog = window.show_shortcuts()
    dialog.select_command("waveform.zoom_fit")
    dialog.key_edit.setKeySequence(QKeySequence("Z"))
    assert not dialog.assign()
    assert "Z is already the shortcut of “Zoom to the selection”" in dialog.message.text()
    assert window.keymap.keys("waveform.zoom_fit") == ("F",)
    # a window key clashes with an editor key too
    dialog.select_command("regions.mark_in")
    dialog.key_edit.setKeySequence(QKeySequence("Ctrl+K"))
    assert not dialog.assign()
    assert "Connections" in dialog.message.text()
    dialog.close()


def test_restore_defaults(qtbot: QtBot, paths: AppPaths) -> None:
    settings = Settings(paths.config / "settings.json")
    window = make_window(qtbot, paths, settings)
    dialog = window.show_shortcuts()
    dialog.select_command("regions.next")
    dialog.key_edit.setKeySequence(QKeySequence("J"))
    assert dialog.assign()
    assert listed(dialog)["Next region (select, show, play)"] == "J"
    dialog.defaults_button.click()
    assert listed(dialog)["Next region (select, show, play)"] == "N"
    assert settings.get("shortcuts") == {}
    dialog.close()


def test_bad_saved_bindings_are_skipped_not_fatal(qtbot: QtBot, paths: AppPaths) -> None:
    settings = Settings(paths.config / "settings.json")
    settings.set("shortcuts", {"no.such": ["X"], "regions.next": ["P"],
                               "regions.mark_in": ["K"]})
    window = MainWindow(ConnectionManager(paths), None)
    qtbot.addWidget(window)
    skipped = window.shortcuts.use_settings(settings)
    assert len(skipped) == 2
    assert window.keymap.keys("regions.mark_in") == ("K",)
    assert window.keymap.keys("regions.next") == ("N",)


# -- the Qt-free keymap ----------------------------------------------------------------


def keymap() -> Keymap:
    km = Keymap(canonical)
    km.define_all([Command("a.zoom", "View", "Zoom", ("Z",), EDITOR),
                   Command("b.list", "List", "Remove file", ("Delete",), "audio list"),
                   Command("b.del", "Regions", "Delete regions", ("Del",), EDITOR),
                   Command("c.undo", "Edit", "Undo", ("Ctrl+Z",), WINDOW)])
    return km


def test_keys_in_different_areas_may_repeat_but_a_window_key_is_everyones() -> None:
    km = keymap()
    assert km.conflicts() == []  # Delete in the file list and in the editor: both fine
    assert km.command_for("Delete", [EDITOR]) == "b.del"
    assert km.command_for("Ctrl+Z", [EDITOR]) is None
    with pytest.raises(KeyConflict, match="Undo"):
        km.bind("a.zoom", ["Ctrl+Z"])
    heard: list[Any] = []
    km.subscribe(lambda: heard.append(km.overrides()))
    km.bind("a.zoom", ["Shift+Z"])
    assert km.keys("a.zoom") == ("Shift+Z",) and heard[-1] == {"a.zoom": ["Shift+Z"]}
    km.bind("a.zoom", ["Z"])  # back to the default: no override kept
    assert km.overrides() == {}
    # stored bindings may swap two keys
    assert km.load_overrides({"a.zoom": ["Del"], "b.del": ["Z"]}) == []
    assert km.command_for("Z", [EDITOR]) == "b.del" and km.conflicts() == []


def test_the_app_uses_the_users_bindings(qtbot: QtBot, gui_paths: AppPaths) -> None:
    from relay_desktop.app import Application

    Settings(gui_paths.config / "settings.json").set("shortcuts", {"edit.undo": ["Ctrl+U"]})
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = Application(app, gui_paths)
    qtbot.addWidget(shell.window)
    try:
        assert shell.window.edit_menu.undo_action.shortcut().toString() == "Ctrl+U"
    finally:
        shell.shutdown()
