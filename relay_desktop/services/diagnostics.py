"""What Help > About and Help > Report a problem show: versions, platform and recent logs.

:class:`Diagnostics` gathers everything off the GUI thread (importing soundfile
and reading log files are not the GUI's work) and asks the connected server for
its version through the API worker. :func:`build_report` turns the result into
a plain-text report with the API key, signed URLs and the home folder redacted.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot

from relay_desktop.api.redact import redact
from relay_desktop.core.paths import AppPaths
from relay_desktop.services import app_log
from relay_desktop.services.api_worker import Priority
from relay_desktop.services.app_log import redact_urls
from relay_desktop.services.context import AppContext
from relay_desktop.services.versions import build_kind, platform_summary, versions

log = logging.getLogger(__name__)

LOG_LINES = 150
SERVER_LOG_LINES = 40
def redact_report(text: str, home: str | None = None) -> str:
    """Registered secrets, ``X-API-Key`` values, signed URLs and the home folder (``~``)."""
    text = redact_urls(redact(text))
    home = home if home is not None else str(Path.home())
    if home and home not in ("/", "\\"):
        text = text.replace(home, "~")
    return text


@dataclass
class DiagnosticsData:
    """Everything a report shows; ``server`` is None until the server has answered."""

    versions: dict[str, str] = field(default_factory=dict)
    platform: str = ""
    build: str = ""
    server: str | None = None
    connection: str = "not connected"
    log_file: Path | None = None
    log_lines: list[str] = field(default_factory=list)
    server_log_lines: list[str] = field(default_factory=list)


def build_report(data: DiagnosticsData, now: datetime | None = None) -> str:
    """The copyable plain-text report (already redacted)."""
    now = now or datetime.now(UTC)
    rows = [*data.versions.items(), ("Server", data.server or "unknown")]
    width = max(len(name) for name, _ in rows)
    parts = ["Relay Desktop problem report",
             f"Created: {now.strftime('%Y-%m-%d %H:%M:%S UTC')}", "",
             "== Versions", *(f"{name + ':':<{width + 1}} {value}" for name, value in rows), "",
             "== System",
             f"Platform:   {data.platform}",
             f"Build:      {data.build}",
             f"Connection: {data.connection}", ""]
    where = f" ({data.log_file})" if data.log_file else ""
    parts.append(f"== Last {len(data.log_lines)} log lines{where}")
    parts.extend(data.log_lines or ["(no log lines)"])
    if data.server_log_lines:
        parts += ["", f"== Last {len(data.server_log_lines)} lines of the Relay Local log",
                  *data.server_log_lines]
    return redact_report("\n".join(parts) + "\n")


def log_folder(paths: AppPaths | None = None) -> Path:
    """The folder of the app's log file (created if missing)."""
    current = app_log.current_log_file()
    folder = current.parent if current else (paths or AppPaths.default()).logs
    with contextlib.suppress(OSError):
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def _server_text(health: Any) -> str:
    if not isinstance(health, dict):
        return "unknown"
    name = str(health.get("server") or "server")
    version = health.get("version")
    return f"{name} {version}" if version else f"{name} (version not reported)"


class Diagnostics(QObject):
    """Gathers :class:`DiagnosticsData` in the background for one dialog.

    ``log_text`` is the log view's text, used when the app has no log file.

    Signals:
        changed(object): the data so far (a DiagnosticsData), after each part arrives.
        finished(object): everything has arrived (versions, logs and the server's answer).
    """

    changed = Signal(object)
    finished = Signal(object)
    _gathered = Signal(object)

    def __init__(self, context: AppContext | None, log_text: str = "",
                 paths: AppPaths | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.paths = paths or (context.paths if context is not None else None)
        self.log_text = log_text
        self.data = DiagnosticsData()
        if context is not None:
            info = context.connection
            kind = "local workspace" if info.is_local else "server"
            self.data.connection = f"{info.name} ({kind}, {info.base_url})"
        self._pending = 0
        self._gathered.connect(self._on_gathered)

    def start(self) -> None:
        """Gather on the global thread pool and ask the server for its version."""
        self._pending = 2 if self.context is not None else 1
        if self.context is None:
            self.data.server = "not connected"
        else:
            handle = self.context.worker.submit(lambda client, _c, _p: client.health(),
                                                priority=Priority.USER,
                                                description="Asking the server for its version")
            handle.succeeded.connect(self._on_health)
            handle.failed.connect(self._on_health_failed)
            handle.cancelled.connect(lambda: self._on_server("unknown (not asked)"))
        server_log = None
        if self.context is not None and self.context.connection.is_local and self.paths:
            server_log = self.paths.local_workspace / "server.log"
        log_text, paths = self.log_text, self.paths
        QThreadPool.globalInstance().start(lambda: self._gather(log_text, paths, server_log))

    def _gather(self, log_text: str, paths: AppPaths | None, server_log: Path | None) -> None:
        """On a pool thread: versions, platform and log tails."""
        result: dict[str, Any] = {"versions": versions(), "platform": platform_summary(),
                                  "build": build_kind()}
        path = app_log.current_log_file()
        lines = app_log.tail_lines(path, LOG_LINES) if path else []
        if not lines:
            lines = log_text.splitlines()[-LOG_LINES:]
            path = None
        result["log_file"], result["log_lines"] = path, lines
        result["server_log_lines"] = (app_log.tail_lines(server_log, SERVER_LOG_LINES)
                                      if server_log else [])
        with contextlib.suppress(RuntimeError):  # the dialog closed meanwhile
            self._gathered.emit(result)

    @Slot(object)
    def _on_gathered(self, result: dict[str, Any]) -> None:
        for key, value in result.items():
            setattr(self.data, key, value)
        self._part_done()

    @Slot(object)
    def _on_health(self, health: object) -> None:
        self._on_server(_server_text(health))

    @Slot(object)
    def _on_health_failed(self, exc: object) -> None:
        self._on_server(f"unknown ({exc})" if str(exc) else "unknown")

    def _on_server(self, text: str) -> None:
        self.data.server = text
        self._part_done()

    def _part_done(self) -> None:
        self._pending -= 1
        self.changed.emit(self.data)
        if self._pending <= 0:
            self.finished.emit(self.data)

    def report(self) -> str:
        """The report of what has arrived so far."""
        return build_report(self.data)
