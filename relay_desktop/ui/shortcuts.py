"""Every keyboard shortcut in one place, Help > Keyboard shortcuts, and rebinding them.

The :class:`ShortcutRegistry` of the main window wraps a :class:`Keymap` (see
:mod:`relay_desktop.core.keymap`) holding every command: the menu actions'
and the waveform editor's keys (Space, F, Z, 1-9, I/O, N/P, Tab, nudges...).
Menu actions get their keys from it and follow rebinding; widget key handlers
look the key they receive up with :func:`command_for`, which finds the keymap
of the widget's window (or the defaults when the widget stands alone), so the
list shown to the user is the behaviour.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QKeyCombination, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.keymap import DEFAULT_COMMANDS, WINDOW, Command, KeyConflict, Keymap

SETTINGS_NAME = "shortcuts"
#: how the list is ordered (the menus' order, then the editor's areas); others follow
GROUP_ORDER = ("File", "Edit", "Playback", "Waveform", "Regions", "Datasets", "Audio", "View",
               "Help")
PORTABLE = QKeySequence.SequenceFormat.PortableText
NATIVE = QKeySequence.SequenceFormat.NativeText
_MODIFIERS = (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier
              | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)


def canonical(keys: str) -> str:
    """One spelling per key sequence ("Delete" -> "Del"); "" when it is not one."""
    return QKeySequence(keys).toString(PORTABLE)


def new_keymap() -> Keymap:
    """A keymap with every built-in command at its default keys."""
    keymap = Keymap(canonical)
    keymap.define_all(DEFAULT_COMMANDS)
    return keymap


_DEFAULTS: Keymap | None = None


def default_keymap() -> Keymap:
    """The keymap of widgets outside a main window (built-in keys only)."""
    global _DEFAULTS
    if _DEFAULTS is None:
        _DEFAULTS = new_keymap()
    return _DEFAULTS


def keymap_for(widget: QWidget | None) -> Keymap:
    """The keymap of ``widget``'s window (its ``keymap`` attribute), else the defaults."""
    window = widget.window() if widget is not None else None
    keymap = getattr(window, "keymap", None)
    return keymap if isinstance(keymap, Keymap) else default_keymap()


def event_keys(event: QKeyEvent) -> list[str]:
    """The key sequences a key press may stand for, most specific first.

    Shift+Tab arrives as Backtab; a shifted symbol ("<" is Shift+, on many
    layouts) is also tried without its Shift. A modified key never matches a
    plain one: Ctrl+Z is not Z, Shift+1 is not 1.
    """
    key = event.key()
    if key in (0, Qt.Key.Key_unknown, Qt.Key.Key_Shift, Qt.Key.Key_Control, Qt.Key.Key_Alt,
               Qt.Key.Key_Meta):
        return []
    mods = event.modifiers() & _MODIFIERS
    if key == Qt.Key.Key_Backtab:
        key, mods = Qt.Key.Key_Tab, mods | Qt.KeyboardModifier.ShiftModifier
    found = [QKeySequence(QKeyCombination(mods, Qt.Key(key))).toString(PORTABLE)]
    shift = Qt.KeyboardModifier.ShiftModifier
    is_symbol = key < 0x01000000 and not Qt.Key.Key_A <= key <= Qt.Key.Key_Z
    if mods & shift and is_symbol:
        found.append(QKeySequence(QKeyCombination(mods & ~shift, Qt.Key(key))).toString(PORTABLE))
    return [k for k in found if k]


def command_for(widget: QWidget | None, event: QKeyEvent, scopes: tuple[str, ...],
                prefix: str = "") -> str | None:
    """The command ``event`` stands for in ``widget``'s keymap (ids starting with ``prefix``)."""
    keymap = keymap_for(widget)
    for keys in event_keys(event):
        command = keymap.command_for(keys, scopes)
        if command is not None and command.startswith(prefix):
            return command
    return None


def sequences(keymap: Keymap, command_id: str) -> list[QKeySequence]:
    return [QKeySequence(k) for k in keymap.keys(command_id)]


def keys_text(keymap: Keymap, command_id: str) -> str:
    """The keys of a command as the user reads them ("Ctrl+Shift+Z, Ctrl+Y")."""
    return ", ".join(QKeySequence(k).toString(NATIVE) for k in keymap.keys(command_id))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.replace("&", "").lower()).strip("_")


class ShortcutRegistry:
    """The main window's keymap and the actions that take their keys from it."""

    def __init__(self, keymap: Keymap | None = None) -> None:
        self.keymap = keymap or new_keymap()
        self._actions: dict[str, list[QAction]] = {}
        self._settings: Any = None
        self.keymap.subscribe(self._apply)

    def register(self, group: str, action: QAction,
                 shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
                 command_id: str | None = None, scope: str = WINDOW,
                 text: str | None = None) -> QAction:
        """List ``action`` under ``group`` with ``shortcut`` as its default key.

        ``scope`` is where its key is live (see :mod:`relay_desktop.core.keymap`); ``text``
        replaces the action's own in the list when that is not clear out of its menu.
        """
        text = text or action.text().replace("&", "")
        cid = command_id or f"{_slug(group)}.{_slug(text)}"
        default = QKeySequence(shortcut).toString(PORTABLE) if shortcut is not None else ""
        self.keymap.define(Command(cid, group, text, (default,) if default else (), scope))
        return self.bind_action(cid, action)

    def bind_action(self, command_id: str, action: QAction) -> QAction:
        """Let ``action`` take (and keep following) the keys of ``command_id``."""
        self._actions.setdefault(command_id, []).append(action)
        action.setShortcuts(sequences(self.keymap, command_id))
        return action

    def release_action(self, action: QAction) -> None:
        for actions in self._actions.values():
            if action in actions:
                actions.remove(action)

    def _apply(self) -> None:
        for cid, actions in self._actions.items():
            for action in list(actions):
                try:
                    action.setShortcuts(sequences(self.keymap, cid))
                except RuntimeError:  # its widget is gone
                    actions.remove(action)
        if self._settings is not None:
            self._settings.set(SETTINGS_NAME, self.keymap.overrides())

    # -- settings -------------------------------------------------------------------

    def use_settings(self, settings: Any) -> list[str]:
        """Apply the user's bindings kept in ``settings`` and save every later change."""
        self._settings = None
        stored = settings.get(SETTINGS_NAME, {})
        skipped = self.keymap.load_overrides(stored if isinstance(stored, dict) else {})
        self._settings = settings
        return skipped

    # -- listing ----------------------------------------------------------------------

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(command id, group, text, keys) of every command, grouped."""
        order = {group: i for i, group in enumerate(GROUP_ORDER)}
        for command in self.keymap.commands():
            order.setdefault(command.group, len(order))
        commands = sorted(self.keymap.commands(), key=lambda c: order[c.group])
        return [(c.id, c.group, c.text, keys_text(self.keymap, c.id)) for c in commands]

    def entries(self) -> list[tuple[str, str, str]]:
        """(group, text, keys) for every command (menu actions and editor keys)."""
        return [(group, text, keys) for _cid, group, text, keys in self.rows()]

    def conflicts(self) -> list[str]:
        """Keys used by two commands in the same place (should be empty)."""
        return self.keymap.conflicts()


class ShortcutsDialog(QDialog):
    """Every shortcut, and a key editor: pick a row, press the new key, Assign.

    Signals:
        (QDialog's own only; a rebinding goes straight to the registry's keymap)
    """

    def __init__(self, registry: ShortcutRegistry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.setObjectName("shortcutsDialog")
        self.registry = registry
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Find a command or a key…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.table = QTableWidget(0, 3, self)
        self.table.setHorizontalHeaderLabels(["Area", "Action", "Shortcut"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)

        self.key_edit = QKeySequenceEdit(self)
        self.key_edit.setMaximumSequenceLength(1)
        self.key_edit.setToolTip("Click here and press the new key")
        self.assign_button = QPushButton("Assign", self)
        self.clear_button = QPushButton("No key", self)
        self.clear_button.setToolTip("Leave the selected command without a shortcut")
        self.defaults_button = QPushButton("Restore defaults", self)
        self.message = QLabel("Pick a command, click the box and press its new key.", self)
        self.message.setObjectName("shortcutsMessage")
        self.message.setWordWrap(True)
        edit_row = QHBoxLayout()
        edit_row.addWidget(QLabel("New key:", self))
        edit_row.addWidget(self.key_edit, 1)
        edit_row.addWidget(self.assign_button)
        edit_row.addWidget(self.clear_button)
        edit_row.addStretch(0)
        edit_row.addWidget(self.defaults_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit_row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

        self.assign_button.clicked.connect(self.assign)
        self.clear_button.clicked.connect(lambda: self.rebind(self.current_command(), []))
        self.defaults_button.clicked.connect(self.restore_defaults)
        self.table.itemSelectionChanged.connect(self._row_chosen)
        self._ids: list[str] = []
        self.fill()
        self._row_chosen()
        self.resize(640, 560)

    def fill(self) -> None:
        rows = self.registry.rows()
        current = self.current_command()
        self._ids = [r[0] for r in rows]
        self.table.setRowCount(len(rows))
        for row, (_cid, group, text, keys) in enumerate(rows):
            for col, value in enumerate((group, text, keys)):
                self.table.setItem(row, col, QTableWidgetItem(value))
        if current in self._ids:
            self.table.selectRow(self._ids.index(current))
        self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        """Show only the rows whose area, action or keys contain ``text``."""
        needle = text.strip().lower()
        for row in range(self.table.rowCount()):
            items = (self.table.item(row, c) for c in range(3))
            cells = " ".join(item.text() for item in items if item is not None).lower()
            self.table.setRowHidden(row, bool(needle) and needle not in cells)

    def current_command(self) -> str | None:
        row = self.table.currentRow()
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def select_command(self, command_id: str) -> None:
        self.table.selectRow(self._ids.index(command_id))

    def _row_chosen(self) -> None:
        has = self.current_command() is not None
        for w in (self.key_edit, self.assign_button, self.clear_button):
            w.setEnabled(has)

    def assign(self) -> bool:
        keys = self.key_edit.keySequence().toString(PORTABLE)
        if not keys:
            self._say("Click the box and press a key first.", error=True)
            return False
        return self.rebind(self.current_command(), [keys])

    def rebind(self, command_id: str | None, keys: list[str]) -> bool:
        """Give the command these keys; a clash is refused with a message."""
        if command_id is None:
            return False
        try:
            self.registry.keymap.bind(command_id, keys)
        except KeyConflict as exc:
            self._say(str(exc), error=True)
            return False
        text = self.registry.keymap.command(command_id).text
        shown = keys_text(self.registry.keymap, command_id) or "no key"
        self._say(f"“{text}” is now {shown}.")
        self.key_edit.clear()
        self.fill()
        return True

    def restore_defaults(self) -> None:
        self.registry.keymap.restore_defaults()
        self.fill()
        self._say("Every shortcut is back to its default.")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #e57373;" if error else "")
