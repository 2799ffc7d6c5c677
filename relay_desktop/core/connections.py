"""Saved connections (name, base URL, local or remote), without their keys and without Qt."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOCAL_ID = "local-workspace"
ENV_ID = "environment"


@dataclass(frozen=True)
class ConnectionRecord:
    """One saved connection. The API key lives in the keychain under ``id``."""

    id: str
    name: str
    base_url: str
    is_local: bool = False

    @classmethod
    def new(cls, name: str, base_url: str, *, is_local: bool = False) -> ConnectionRecord:
        return cls(uuid.uuid4().hex, name.strip() or host_of(base_url), base_url, is_local)


def normalize_base_url(text: str) -> str:
    """Validate a server address and return it without a trailing slash or ``/api/v1``.

    Raises ValueError with a sentence when the address cannot be a Relay server.
    """
    url = text.strip()
    if not url:
        raise ValueError("Enter the server address, e.g. https://api.relayai.dev")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"The address must start with http:// or https://, not {parts.scheme}://")
    if not parts.hostname:
        raise ValueError("The address has no host name")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ValueError("The port in the address is not a number between 1 and 65535") from None
    path = parts.path.rstrip("/")
    if path.endswith("/api/v1"):
        path = path[: -len("/api/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


def host_of(base_url: str) -> str:
    return urlsplit(base_url).netloc or base_url


def from_environment(env: Mapping[str, str] | None = None) -> tuple[ConnectionRecord, str] | None:
    """The connection named by RELAY_BASE_URL and RELAY_API_KEY, if both are set and valid."""
    env = os.environ if env is None else env
    url, key = env.get("RELAY_BASE_URL", "").strip(), env.get("RELAY_API_KEY", "").strip()
    if not url or not key:
        return None
    try:
        base = normalize_base_url(url)
    except ValueError as exc:
        log.warning("Ignoring RELAY_BASE_URL: %s", exc)
        return None
    return ConnectionRecord(ENV_ID, f"{host_of(base)} (environment)", base), key


class ConnectionStore:
    """The list of saved connections in ``connections.json`` (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._records: list[ConnectionRecord] = self._load()

    def _load(self) -> list[ConnectionRecord]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("Ignoring unreadable connections file %s: %s", self.path, exc)
            return []
        records = []
        for item in raw if isinstance(raw, list) else []:
            try:
                records.append(ConnectionRecord(str(item["id"]), str(item["name"]),
                                                str(item["base_url"]), bool(item.get("is_local"))))
            except (KeyError, TypeError):
                log.warning("Skipping a malformed saved connection: %r", item)
        return records

    def all(self) -> list[ConnectionRecord]:
        return list(self._records)

    def get(self, record_id: str) -> ConnectionRecord | None:
        return next((r for r in self._records if r.id == record_id), None)

    def save(self, record: ConnectionRecord) -> None:
        """Add ``record`` or replace the one with the same id."""
        for index, existing in enumerate(self._records):
            if existing.id == record.id:
                self._records[index] = record
                break
        else:
            self._records.append(record)
        self._write()

    def rename(self, record_id: str, name: str) -> None:
        record = self.get(record_id)
        if record is None:
            raise KeyError(record_id)
        self.save(replace(record, name=name))

    def remove(self, record_id: str) -> None:
        self._records = [r for r in self._records if r.id != record_id]
        self._write()

    def _write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".connections-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump([asdict(r) for r in self._records], fh, indent=2)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
