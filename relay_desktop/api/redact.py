"""Keep API keys out of logs and reprs."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

REDACTED = "***"
_HEADER_RE = re.compile(r"(?i)(x-api-key['\"]?\s*[:=]\s*['\"]?)([^'\"\s,}]+)")


class SecretRedactingFilter(logging.Filter):
    """Replace known secrets (and any ``X-API-Key: value``) in log records with ``***``.

    ``register()`` puts it on the client library's loggers; ``install()`` (for the
    application) applies it to every log record as it is created; it can also be
    added to any handler. New secrets are registered with ``add_secret``.
    """

    def __init__(self) -> None:
        super().__init__("relay-redact")
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            with self._lock:
                self._secrets.add(secret)

    def redact(self, text: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return _HEADER_RE.sub(lambda m: m.group(1) + REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is not ours to fix
            return True
        clean = self.redact(message)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


_FILTER = SecretRedactingFilter()
_factory_installed = False
_factory_lock = threading.Lock()
# the loggers the client library (and the HTTP stack under it) writes to
LIBRARY_LOGGERS = ("relay_desktop.api", "urllib3", "requests")


def register(secret: str) -> SecretRedactingFilter:
    """Register ``secret`` and redact it from the client library's own log records.

    What a library may do: the filter goes on the library's loggers (``relay_desktop.api``
    and its modules, ``urllib3``, ``requests``); nothing process-wide changes. An
    application that wants every record in the process clean calls :func:`install`.
    """
    _FILTER.add_secret(secret)
    names = [name for name in list(logging.Logger.manager.loggerDict)
             if name.split(".")[0] in ("urllib3", "requests")
             or name == LIBRARY_LOGGERS[0] or name.startswith(LIBRARY_LOGGERS[0] + ".")]
    for name in {*names, *LIBRARY_LOGGERS}:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
    return _FILTER


def install(secret: str) -> SecretRedactingFilter:
    """For applications: register ``secret`` and redact it from every log record in the process.

    A wrapping log-record factory is installed once, so records are clean before any
    logger, handler or test capture sees them, whatever handlers are added later.
    The desktop app calls this at start-up and for each key it uses; the client
    library itself only calls :func:`register`.
    """
    global _factory_installed
    register(secret)
    with _factory_lock:
        if not _factory_installed:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                _FILTER.filter(record)
                return record

            logging.setLogRecordFactory(factory)
            _factory_installed = True
    return _FILTER


def redact(text: str) -> str:
    """Redact every registered secret from ``text``."""
    return _FILTER.redact(text)
