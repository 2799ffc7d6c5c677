"""API keys in the OS keychain (keyring), with a session-only fallback and an opt-in 0600 file."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from enum import Enum
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors

from relay_desktop.core.paths import app_name

log = logging.getLogger(__name__)

SERVICE = app_name()  # "relay-desktop-source" from a checkout: see core.paths


class Storage(Enum):
    """Where a key was put."""

    KEYRING = "keyring"
    FILE = "file"
    SESSION = "session"


def keyring_usable(backend: keyring.backend.KeyringBackend | None = None) -> bool:
    """False for keyring's ``fail`` backend and for a chainer that chains nothing."""
    backend = backend or keyring.get_keyring()
    module = type(backend).__module__
    if module.startswith("keyring.backends.fail"):
        return False
    if module.startswith("keyring.backends.chainer"):
        return bool(getattr(backend, "backends", []))
    return not module.startswith("keyring.backends.null")


class CredentialStore:
    """Stores one API key per connection id.

    Order of lookup: this session's memory, the keychain, then the opt-in file
    ``credentials.json`` (mode 0600) in the config folder.
    """

    def __init__(self, file_path: Path, backend: keyring.backend.KeyringBackend | None = None
                 ) -> None:
        self.file_path = file_path
        self._backend = backend or keyring.get_keyring()
        self._session: dict[str, str] = {}

    @property
    def keyring_available(self) -> bool:
        return keyring_usable(self._backend)

    @property
    def backend_name(self) -> str:
        return getattr(self._backend, "name", type(self._backend).__name__)

    def get(self, connection_id: str) -> str | None:
        if connection_id in self._session:
            return self._session[connection_id]
        if self.keyring_available:
            try:
                value = self._backend.get_password(SERVICE, connection_id)
            except keyring.errors.KeyringError as exc:
                log.warning("The keychain could not be read: %s", exc)
                value = None
            if value:
                return value
        return self._read_file().get(connection_id)

    def set(self, connection_id: str, api_key: str, *, allow_file: bool = False) -> Storage:
        """Keep ``api_key``: keychain if usable, else the 0600 file if allowed, else session."""
        self._session[connection_id] = api_key
        if self.keyring_available:
            try:
                self._backend.set_password(SERVICE, connection_id, api_key)
                return Storage.KEYRING
            except keyring.errors.KeyringError as exc:
                log.warning("The keychain refused the key: %s", exc)
        if allow_file:
            data = self._read_file()
            data[connection_id] = api_key
            self._write_file(data)
            return Storage.FILE
        return Storage.SESSION

    def delete(self, connection_id: str) -> None:
        self._session.pop(connection_id, None)
        if self.keyring_available:
            with contextlib.suppress(keyring.errors.KeyringError):
                self._backend.delete_password(SERVICE, connection_id)
        data = self._read_file()
        if data.pop(connection_id, None) is not None:
            self._write_file(data)

    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.file_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("Ignoring an unreadable credentials file: %s", exc)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def _write_file(self, data: dict[str, str]) -> None:
        self.file_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file_path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.file_path)
