"""The app's log file: every record of the process, redacted, in ``AppPaths.logs``."""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from relay_desktop.api.redact import REDACTED, redact
from relay_desktop.core.paths import AppPaths

LOG_NAME = "relay-desktop.log"
MAX_BYTES = 2_000_000
BACKUPS = 3

#: a query parameter that makes a URL a credential (AWS SigV4/V2, Relay Local's storage, tokens)
_SIGNED_PARAMS = re.compile(
    r"(?i)(signature|x-amz-|awsaccesskeyid|credential|token|policy|sig|key|expires)=")
_URL = re.compile(r"(?i)\bhttps?://[^\s'\"<>]+")
_QUERY_VALUE = re.compile(r"(?i)([?&](?:signature|x-amz-[a-z-]+|awsaccesskeyid|credential|"
                          r"token|policy|sig|api[_-]?key|key|expires)=)[^&#\s]*")


def redact_urls(text: str) -> str:
    """Blank the credential parameters of signed URLs (``...?X-Amz-Signature=***``)."""
    def clean(match: re.Match[str]) -> str:
        url = match.group(0)
        if "?" not in url or not _SIGNED_PARAMS.search(url):
            return url
        return _QUERY_VALUE.sub(lambda m: m.group(1) + REDACTED, url)

    return _URL.sub(clean, text)


class _RedactingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file handler that redacts secrets and signed URLs from each line."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_urls(redact(super().format(record)))


def log_file(paths: AppPaths) -> Path:
    return paths.logs / LOG_NAME


def current_log_file() -> Path | None:
    """The log file :func:`install_log_file` added to the root logger (None if none)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _RedactingFileHandler):
            return Path(handler.baseFilename)
    return None


def install_log_file(paths: AppPaths, level: int = logging.INFO) -> Path | None:
    """Add the log file to the root logger once; returns its path (None if it cannot be opened)."""
    root = logging.getLogger()
    current = current_log_file()
    if current is not None:
        return current
    path = log_file(paths)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _RedactingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                        encoding="utf-8", delay=True)
    except OSError:
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path


def tail_lines(path: Path, count: int = 200, max_bytes: int = 256_000) -> list[str]:
    """The last ``count`` lines of a text file (reads at most ``max_bytes``; [] if missing)."""
    try:
        with path.open("rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except OSError:
        return []
    lines = data.decode("utf-8", errors="replace").splitlines()
    if size > max_bytes and lines:
        lines = lines[1:]  # the first line was cut in the middle
    return lines[-count:]
