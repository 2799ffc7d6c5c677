"""The keymap: every keyboard command of the app, its default keys and the user's own.

One :class:`Keymap` is the single source of truth for shortcuts: menu actions
take their keys from it, the waveform and region key handlers look the keys
they receive up in it, and Help > Keyboard shortcuts lists it (so the list
cannot drift from the behaviour). Keys are portable key-sequence strings
("Ctrl+Z", "Shift+,", "Space"); a ``canonical`` function given by the UI
layer spells them one way so that equal keys compare equal.

Scopes say where a key is live: ``"window"`` keys work everywhere in the main
window, the others only while their area has the focus (``"editor"``: the
waveform editor; ``"audio list"``...). Two commands clash when they share a key
and a scope, or when either of them is a window command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

WINDOW = "window"
EDITOR = "editor"


@dataclass(frozen=True)
class Command:
    """A keyboard command: ``id`` is stable (it keys the user's settings)."""

    id: str
    group: str
    text: str
    defaults: tuple[str, ...]
    scope: str = WINDOW


class KeyConflict(ValueError):
    """A key asked for is already taken (the message names the command holding it)."""


def _same(keys: str) -> str:
    return keys


@dataclass
class Keymap:
    """Commands with their current keys; user overrides kept apart from the defaults."""

    canonical: Callable[[str], str] = _same
    _commands: dict[str, Command] = field(default_factory=dict)
    _overrides: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    # -- commands ---------------------------------------------------------------------

    def define(self, command: Command) -> Command:
        """Add ``command`` (or return the one already defined with its id)."""
        existing = self._commands.get(command.id)
        if existing is not None:
            return existing
        keys = tuple(k for k in (self.canonical(d) for d in command.defaults) if k)
        command = Command(command.id, command.group, command.text, keys, command.scope)
        self._commands[command.id] = command
        return command

    def define_all(self, commands: Iterable[Command]) -> None:
        for command in commands:
            self.define(command)

    def command(self, command_id: str) -> Command:
        return self._commands[command_id]

    def commands(self) -> list[Command]:
        return list(self._commands.values())

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._commands

    # -- keys -------------------------------------------------------------------------

    def keys(self, command_id: str) -> tuple[str, ...]:
        """The keys of ``command_id`` now (the user's, else the defaults)."""
        if command_id in self._overrides:
            return self._overrides[command_id]
        return self._commands[command_id].defaults

    def first_key(self, command_id: str) -> str:
        keys = self.keys(command_id)
        return keys[0] if keys else ""

    def command_for(self, keys: str, scopes: Iterable[str]) -> str | None:
        """The id of the command bound to ``keys`` in any of ``scopes`` (None if none)."""
        wanted = self.canonical(keys)
        scope_set = set(scopes)
        for command in self._commands.values():
            if command.scope in scope_set and wanted in self.keys(command.id):
                return command.id
        return None

    def clash(self, command_id: str, keys: str) -> Command | None:
        """The other command that already uses ``keys`` where ``command_id`` would."""
        wanted = self.canonical(keys)
        scope = self._commands[command_id].scope
        for other in self._commands.values():
            if other.id == command_id or wanted not in self.keys(other.id):
                continue
            if WINDOW in (scope, other.scope) or other.scope == scope:
                return other
        return None

    def conflicts(self) -> list[str]:
        """Every clash as "keys: command / command" (empty when the keymap is sound)."""
        found = []
        for command in self._commands.values():
            for keys in self.keys(command.id):
                other = self.clash(command.id, keys)
                if other is not None and command.id < other.id:
                    found.append(f"{keys}: {command.text} / {other.text}")
        return found

    def bind(self, command_id: str, keys: Iterable[str]) -> None:
        """Give ``command_id`` these keys (empty: no key); KeyConflict if one is taken."""
        wanted = tuple(dict.fromkeys(k for k in (self.canonical(x) for x in keys) if k))
        for key in wanted:
            other = self.clash(command_id, key)
            if other is not None:
                raise KeyConflict(f"{key} is already the shortcut of “{other.text}” "
                                  f"({other.group}). Choose another key, or change that one "
                                  "first.")
        if wanted == self._commands[command_id].defaults:
            self._overrides.pop(command_id, None)
        else:
            self._overrides[command_id] = wanted
        self._notify()

    def restore_defaults(self) -> None:
        """Forget every user binding."""
        if self._overrides:
            self._overrides.clear()
            self._notify()

    # -- persistence ------------------------------------------------------------------

    def overrides(self) -> dict[str, list[str]]:
        """The user's bindings, as stored in the settings ({command id: [keys]})."""
        return {cid: list(keys) for cid, keys in self._overrides.items()}

    def load_overrides(self, data: Mapping[str, object] | None) -> list[str]:
        """Apply stored bindings; returns why any were skipped (unknown, clashing).

        All are applied first (so two commands may swap keys), then any binding that
        clashes is dropped, its command going back to its default keys.
        """
        self._overrides.clear()
        skipped = []
        for cid, keys in (data or {}).items():
            if cid not in self._commands or not isinstance(keys, list):
                skipped.append(f"{cid}: not a known command")
                continue
            self._overrides[cid] = tuple(k for k in (self.canonical(str(x)) for x in keys) if k)
        changed = True
        while changed:
            changed = False
            for cid in list(self._overrides):
                clashes = [k for k in self._overrides[cid] if self.clash(cid, k) is not None]
                if clashes:
                    del self._overrides[cid]
                    skipped.append(f"{cid}: {', '.join(clashes)} is taken")
                    changed = True
        self._notify()
        return skipped

    # -- listeners --------------------------------------------------------------------

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every change of a binding."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()


def _digits() -> list[Command]:
    return [Command(f"regions.type_{n}", "Regions", f"Type {n}: choose it (relabels the "
                    "selected region)", (str(n),), EDITOR) for n in range(1, 10)]


#: the keys of the waveform editor and its regions (the menus add their own actions)
EDITOR_COMMANDS: tuple[Command, ...] = (
    Command("playback.play_pause", "Playback", "Play / pause", ("Space",), EDITOR),
    Command("playback.play_selection", "Playback", "Play the selection", ("Shift+Space",),
            EDITOR),
    Command("playback.stop", "Playback", "Stop", ("S",), EDITOR),
    Command("playback.loop", "Playback", "Loop", ("L",), EDITOR),
    Command("playback.follow", "Playback", "Follow the playhead", ("Shift+L",), EDITOR),
    Command("playback.faster", "Playback", "Faster", ("Ctrl+]",), EDITOR),
    Command("playback.slower", "Playback", "Slower", ("Ctrl+[",), EDITOR),
    Command("playback.volume_up", "Playback", "Volume up", ("Ctrl+Up",), EDITOR),
    Command("playback.volume_down", "Playback", "Volume down", ("Ctrl+Down",), EDITOR),
    Command("waveform.pan_left", "Waveform", "Scroll left", ("Left",), EDITOR),
    Command("waveform.pan_right", "Waveform", "Scroll right", ("Right",), EDITOR),
    Command("waveform.page_left", "Waveform", "Scroll left half a page", ("Shift+Left",), EDITOR),
    Command("waveform.page_right", "Waveform", "Scroll right half a page", ("Shift+Right",),
            EDITOR),
    Command("waveform.zoom_in", "Waveform", "Zoom in", ("+", "=", "Up"), EDITOR),
    Command("waveform.zoom_out", "Waveform", "Zoom out", ("-", "_", "Down"), EDITOR),
    Command("waveform.start", "Waveform", "Go to the start", ("Home",), EDITOR),
    Command("waveform.end", "Waveform", "Go to the end", ("End",), EDITOR),
    Command("waveform.zoom_fit", "Waveform", "Zoom to fit", ("F",), EDITOR),
    Command("waveform.zoom_selection", "Waveform", "Zoom to the selection", ("Z",), EDITOR),
    Command("waveform.clear_selection", "Waveform", "Clear the time selection", ("Esc",),
            EDITOR),
    *_digits(),
    Command("regions.mark_in", "Regions", "Mark the in point at the playhead", ("I",), EDITOR),
    Command("regions.mark_out", "Regions", "Mark the out point: make the region", ("O",),
            EDITOR),
    Command("regions.next", "Regions", "Next region (select, show, play)", ("N",), EDITOR),
    Command("regions.previous", "Regions", "Previous region (select, show, play)", ("P",),
            EDITOR),
    Command("regions.cycle", "Regions", "Next overlapping region under the cursor", ("Tab",),
            EDITOR),
    Command("regions.cycle_back", "Regions", "Previous overlapping region under the cursor",
            ("Shift+Tab",), EDITOR),
    Command("regions.nudge_left", "Regions", "Nudge the selected edge 1 ms earlier", (",",),
            EDITOR),
    Command("regions.nudge_right", "Regions", "Nudge the selected edge 1 ms later", (".",),
            EDITOR),
    Command("regions.nudge_left_10", "Regions", "Nudge the selected edge 10 ms earlier",
            ("Shift+,", "<"), EDITOR),
    Command("regions.nudge_right_10", "Regions", "Nudge the selected edge 10 ms later",
            ("Shift+.", ">"), EDITOR),
    Command("regions.switch_edge", "Regions", "Switch the edge that nudges move", ("E",),
            EDITOR),
)

#: the Edit menu (undo works everywhere; the region commands in the editor and Labels dock)
EDIT_COMMANDS: tuple[Command, ...] = (
    Command("edit.undo", "Edit", "Undo", ("Ctrl+Z",)),
    Command("edit.redo", "Edit", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y")),
    Command("edit.cut", "Edit", "Cut regions", ("Ctrl+X",), EDITOR),
    Command("edit.copy", "Edit", "Copy regions", ("Ctrl+C",), EDITOR),
    Command("edit.paste", "Edit", "Paste regions at the playhead", ("Ctrl+V",), EDITOR),
    Command("edit.delete", "Edit", "Delete regions", ("Del", "Backspace"), EDITOR),
    Command("edit.select_all", "Edit", "Select all regions of the file", ("Ctrl+A",), EDITOR),
)

DEFAULT_COMMANDS: tuple[Command, ...] = (*EDITOR_COMMANDS, *EDIT_COMMANDS)
