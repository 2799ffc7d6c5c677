"""Saved connections and their keys; verifying a new connection with a real call."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api.redact import install as redact_secret
from relay_desktop.core.connections import (
    ConnectionRecord,
    ConnectionStore,
    from_environment,
    normalize_base_url,
)
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.api_worker import ApiWorker, RequestHandle
from relay_desktop.services.credentials import CredentialStore, Storage

log = logging.getLogger(__name__)

VERIFY_TIMEOUT = (5.0, 15.0)
_HOST_CHARS = re.compile(r"^[A-Za-z0-9._~%:\[\]-]+$")
EXAMPLE = "write it like http://127.0.0.1:8000 or https://api.relayai.dev"


@dataclass(frozen=True)
class ServerAddress:
    """A checked server address: the URL to use, and whether ``https://`` was assumed."""

    url: str
    assumed_https: bool


def parse_server_address(text: str) -> ServerAddress:
    """Check a typed server address; ValueError with a readable sentence when it is malformed.

    An address without a scheme is taken as ``https://``; ``assumed_https`` says so, so
    the form can show the address it will use rather than change it silently.
    """
    typed = text.strip()
    if typed and "://" in typed:
        scheme = typed.split("://", 1)[0]
        if scheme.lower() not in ("http", "https"):
            raise ValueError(f"“{typed}” is not a server address: it must start with http:// "
                             f"or https://, not {scheme}://")
    rest = typed.split("://", 1)[-1]
    host_port = rest.split("/", 1)[0]
    if typed and (not host_port or not _HOST_CHARS.match(host_port)):
        raise ValueError(f"“{typed}” is not a valid server address: the host name has "
                         f"characters an address cannot have; {EXAMPLE}.")
    try:
        url = normalize_base_url(typed)
    except ValueError as exc:
        message = str(exc)
        if not message.startswith(("Enter", "The ")):  # the URL parser's own wording
            message = f"“{typed}” is not a valid server address ({message}); {EXAMPLE}."
        raise ValueError(message) from None
    return ServerAddress(url, assumed_https="://" not in typed)


class ConnectionManager(QObject):
    """The saved connections (records in a JSON file, keys in the keychain).

    Signals:
        connections_changed(): a connection was saved or removed.
        verified(object, object): a new connection answered and was saved:
            (ConnectionRecord, Storage where its key went).
        verification_failed(object): the check failed (the exception; a ValueError
            for a malformed address, a relay_desktop.api error otherwise).
    """

    connections_changed = Signal()
    verified = Signal(object, object)
    verification_failed = Signal(object)

    def __init__(self, paths: AppPaths, credentials: CredentialStore | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = ConnectionStore(paths.config / "connections.json")
        self.credentials = credentials or CredentialStore(paths.config / "credentials.json")
        self._verifiers: set[ApiWorker] = set()

    def records(self) -> list[ConnectionRecord]:
        return self.store.all()

    def get(self, record_id: str) -> ConnectionRecord | None:
        return self.store.get(record_id)

    def key_for(self, record_id: str) -> str | None:
        key = self.credentials.get(record_id)
        if key:
            redact_secret(key)
        return key

    def environment(self) -> tuple[ConnectionRecord, str] | None:
        """RELAY_BASE_URL + RELAY_API_KEY, ready to use without saving."""
        found = from_environment()
        if found:
            redact_secret(found[1])
        return found

    def save_local(self, record: ConnectionRecord) -> None:
        self.store.save(record)
        self.connections_changed.emit()

    def remove(self, record_id: str) -> None:
        self.store.remove(record_id)
        self.credentials.delete(record_id)
        self.connections_changed.emit()

    def verify_and_save(self, name: str, base_url: str, api_key: str, *,
                        allow_file: bool = False, record_id: str | None = None
                        ) -> RequestHandle | None:
        """Check ``base_url`` + ``api_key`` with a real call off the GUI thread, then save.

        Emits ``verified`` or ``verification_failed``. Returns the request handle
        (None when the input is rejected before any request).
        """
        api_key = api_key.strip()
        try:
            url = parse_server_address(base_url).url
            if not api_key:
                raise ValueError("Enter the API key")
        except ValueError as exc:
            error = exc
            QTimer.singleShot(0, lambda: self.verification_failed.emit(error))
            return None
        redact_secret(api_key)
        worker = ApiWorker(url, api_key, timeout=VERIFY_TIMEOUT)
        self._verifiers.add(worker)
        handle = worker.submit(lambda client, _c, _p: client.datasets.list(page=1, page_size=1),
                               description=f"Checking {url}")

        def done() -> None:
            worker.shutdown(2000)
            self._verifiers.discard(worker)

        def ok(_page: object) -> None:
            record = ConnectionRecord.new(name, url)
            if record_id:
                record = replace(record, id=record_id)
            storage = self.credentials.set(record.id, api_key, allow_file=allow_file)
            self.store.save(record)
            log.info("Saved connection %s (%s); key kept in %s", record.name, url, storage.value)
            self.connections_changed.emit()
            self.verified.emit(record, storage)

        handle.succeeded.connect(ok)
        handle.failed.connect(self.verification_failed)
        handle.finished.connect(lambda: QTimer.singleShot(0, done))
        return handle

    def shutdown(self) -> None:
        for worker in list(self._verifiers):
            worker.shutdown(2000)
        self._verifiers.clear()


__all__ = ["ConnectionManager", "ServerAddress", "Storage", "parse_server_address"]
