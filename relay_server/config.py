"""Server settings, read from the environment and the command line."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

MAX_UPLOAD_BYTES = 524_288_000  # 500 MiB, the documented cap
UPLOAD_POLICY_TTL_S = 3600
DOWNLOAD_URL_TTL_S = 3600
LEASE_TTL_S = 30.0  # a running job's lease lapses this long after its process stops renewing it
REAPER_INTERVAL_S = 5.0  # how often each process looks for jobs whose process died
KEY_CACHE_TTL_S = 5.0  # how long a server remembers a verified API key (see relay_server.keys)


@dataclass(frozen=True)
class ServerSettings:
    """Everything a Relay Local process needs to know about its environment.

    Attributes:
        data_dir: Folder that holds the database, stored objects and queues.
        database_url: SQLAlchemy URL; SQLite in ``data_dir`` by default.
        storage_backend: ``"local"`` (files under ``data_dir``) or ``"s3"``.
        s3_bucket: Bucket name for the S3 backend.
        s3_endpoint_url: Endpoint of an S3-compatible store (None for AWS).
        workers: Background worker threads for processing, training, inference.
        secret: Server secret that signs storage policies and download URLs.
        max_upload_bytes: Largest object the storage accepts.
        upload_ttl_s: Lifetime of a presigned upload policy.
        run_workers: Whether this process consumes the task queue itself.
        queue_url: ``redis://host:port/db`` puts the task queue on Redis (shared by
            ``relay-server worker`` processes on other machines); empty for huey on
            SQLite in ``data_dir``.
        lease_ttl_s: Lifetime of a running job's lease between heartbeats' renewals.
        reaper_interval_s: How often a process re-queues jobs whose lease lapsed.
        key_cache_ttl_s: How long a verified API key is remembered (0: never). A key
            revoked with ``relay-server revoke-key`` on this data folder stops at once;
            servers that do not share the folder forget it within this time.
    """

    data_dir: Path
    database_url: str = ""
    storage_backend: str = "local"
    s3_bucket: str = ""
    s3_endpoint_url: str | None = None
    workers: int = 2
    secret: str = ""
    max_upload_bytes: int = MAX_UPLOAD_BYTES
    upload_ttl_s: int = UPLOAD_POLICY_TTL_S
    run_workers: bool = True
    queue_url: str = ""
    lease_ttl_s: float = LEASE_TTL_S
    reaper_interval_s: float = REAPER_INTERVAL_S
    key_cache_ttl_s: float = KEY_CACHE_TTL_S
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.sqlite3"

    @classmethod
    def from_env(cls, data_dir: str | Path | None = None, **overrides: object) -> ServerSettings:
        """Build settings from ``RELAY_*`` environment variables and overrides."""
        root = Path(data_dir or os.environ.get("RELAY_DATA_DIR") or default_data_dir())
        root = root.expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        values: dict[str, object] = {
            "data_dir": root,
            "database_url": os.environ.get("RELAY_DATABASE_URL")
            or f"sqlite:///{root / 'relay.sqlite3'}",
            "storage_backend": os.environ.get("RELAY_STORAGE", "local"),
            "s3_bucket": os.environ.get("RELAY_S3_BUCKET", ""),
            "s3_endpoint_url": os.environ.get("RELAY_S3_ENDPOINT_URL") or None,
            "workers": int(os.environ.get("RELAY_WORKERS", "2")),
            "secret": os.environ.get("RELAY_SECRET") or load_or_create_secret(root),
            "queue_url": os.environ.get("RELAY_QUEUE_URL", "").strip(),
            "lease_ttl_s": _positive_float("RELAY_LEASE_TTL_S", LEASE_TTL_S),
            "reaper_interval_s": _positive_float("RELAY_REAPER_INTERVAL_S", REAPER_INTERVAL_S),
            "key_cache_ttl_s": _positive_float("RELAY_KEY_CACHE_TTL_S", KEY_CACHE_TTL_S,
                                               zero_ok=True),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        check_queue_url(str(values["queue_url"]))
        return cls(**values)  # type: ignore[arg-type]


def check_queue_url(url: str) -> None:
    """Raise ValueError unless ``url`` is empty (SQLite queue) or a Redis URL."""
    if url and not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError(f"the queue URL must be redis://host:port/db (RELAY_QUEUE_URL or "
                         f"--queue-url), not {url!r}")


def _positive_float(name: str, default: float, *, zero_ok: bool = False) -> float:
    """A positive number (or 0 with ``zero_ok``) from environment variable ``name``; a
    clear error otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {raw!r}") from None
    if zero_ok and value == 0:
        return value
    if not value > 0:
        raise ValueError(f"{name} must be {'0 or ' if zero_ok else ''}more than 0 seconds, "
                         f"not {raw!r}")
    return value


def default_data_dir() -> Path:
    """The per-user data folder Relay Local uses when none is given."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("relay-local", "Relay"))


def load_or_create_secret(data_dir: Path) -> str:
    """Read the server secret from ``data_dir``, creating it (mode 0600) once."""
    path = data_dir / "server-secret"
    if path.exists():
        return path.read_text().strip()
    secret = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret
