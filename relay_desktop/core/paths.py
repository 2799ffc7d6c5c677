"""Where Relay Desktop keeps its files (platformdirs; ``RELAY_DESKTOP_HOME`` overrides all).

An installed app (the packaged build, or a wheel) uses the folders named
``relay-desktop``; the app run from a source checkout uses ``relay-desktop-source``.
So the two can run side by side without sharing a workspace by accident: a
checkout runs unreleased migrations that an installed release cannot read,
and only one Relay Local may hold a workspace folder at a time. The suffix goes
on the checkout, whose data is a developer's, never on what users install.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "relay-desktop"
APP_AUTHOR = "Relay"
SOURCE_SUFFIX = "-source"


def is_source_checkout() -> bool:
    """True when running from a source tree (a ``pyproject.toml`` next to the package)."""
    if getattr(sys, "frozen", False):
        return False
    return (Path(__file__).resolve().parents[2] / "pyproject.toml").is_file()


def app_name() -> str:
    """The folder (and keychain service) name: ``relay-desktop`` or ``relay-desktop-source``."""
    return APP_NAME + SOURCE_SUFFIX if is_source_checkout() else APP_NAME


@dataclass(frozen=True)
class AppPaths:
    """The data, cache and config folders of one installation (created on demand)."""

    data: Path
    cache: Path
    config: Path

    @classmethod
    def default(cls) -> AppPaths:
        home = os.environ.get("RELAY_DESKTOP_HOME")
        if home:
            root = Path(home)
            return cls(root / "data", root / "cache", root / "config")
        name = app_name()
        return cls(
            Path(platformdirs.user_data_dir(name, APP_AUTHOR)),
            Path(platformdirs.user_cache_dir(name, APP_AUTHOR)),
            Path(platformdirs.user_config_dir(name, APP_AUTHOR)),
        )

    def ensure(self) -> AppPaths:
        for folder in (self.data, self.cache, self.config):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    @property
    def journal(self) -> Path:
        return self.data / "journal.sqlite3"

    @property
    def audio_cache(self) -> Path:
        return self.cache / "audio"

    @property
    def peak_cache(self) -> Path:
        return self.cache / "peaks"

    @property
    def spectrogram_cache(self) -> Path:
        """Spectrogram tiles (``core.audio.spectrogram_cache``)."""
        return self.cache / "spectrogram"

    @property
    def logs(self) -> Path:
        """The app's log files (``services.app_log``)."""
        return self.data / "logs"

    @property
    def local_workspace(self) -> Path:
        return self.data / "local-workspace"
