"""User preferences kept in a small JSON file in the config folder (never secrets)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

THEMES = ("system", "light", "dark")

DEFAULTS: dict[str, Any] = {
    "theme": "system",
    "last_connection": None,
    "audio_page_size": 100,
    # the editor's spectrogram choices: window, floor, ceiling (dB), colour map
    "spectrogram": {"window": 1024, "floor": -96, "ceiling": -12, "colormap": "inferno"},
}

#: keys that must never be written to the settings file
_FORBIDDEN = ("api_key", "key", "password", "secret", "token")


class Settings:
    """Typed-enough preferences: ``get``/``set`` with defaults, saved atomically on each set."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._values: dict[str, Any] = {}
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable settings file %s: %s", self.path, exc)
            return
        if isinstance(data, dict):
            self._values = data

    def get(self, name: str, default: Any = None) -> Any:
        """The stored value, else the built-in default, else ``default``."""
        if name in self._values:
            return self._values[name]
        return DEFAULTS.get(name, default)

    def set(self, name: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) and save the file."""
        if any(word in name.lower() for word in _FORBIDDEN):
            raise ValueError(f"{name!r} looks like a secret; secrets belong in the keychain")
        if name == "theme" and value not in THEMES:
            raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {value!r}")
        self._values[name] = value
        self.save()

    @property
    def theme(self) -> str:
        value = self.get("theme")
        return value if value in THEMES else "system"

    def save(self) -> None:
        """Write the file atomically (a crash never leaves half a file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".settings-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(self._values, fh, indent=2, sort_keys=True)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
