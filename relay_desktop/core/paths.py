"""Where Relay Desktop keeps its files (platformdirs; ``RELAY_DESKTOP_HOME`` overrides all)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "relay-desktop"
APP_AUTHOR = "Relay"


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
        return cls(
            Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_cache_dir(APP_NAME, APP_AUTHOR)),
            Path(platformdirs.user_config_dir(APP_NAME, APP_AUTHOR)),
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
    def local_workspace(self) -> Path:
        return self.data / "local-workspace"
