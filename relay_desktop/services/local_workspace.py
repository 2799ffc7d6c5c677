"""Relay Local as a subprocess: the default workspace that needs no account and no network.

The server is launched as ``python -m relay_server`` (this module never imports
it), or as ``<app binary> --run-server`` in a frozen (PyInstaller) build; it
listens on 127.0.0.1 with a free port, keeps its data in the local workspace
folder, and is stopped on exit and restarted if it dies.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from relay_desktop.api import RelayClient, errors
from relay_desktop.core.connections import LOCAL_ID
from relay_desktop.services.credentials import CredentialStore

log = logging.getLogger(__name__)

SEED_MARKER = ".demo-seeded"
EXIT_FOLDER_IN_USE = 3  # relay-server serve: another server holds the data folder
MAX_RESTARTS = 3
RESTART_WINDOW_S = 120.0


class WorkspaceError(RuntimeError):
    """The local workspace could not be started; the message says why."""


def _close_pipe(proc: subprocess.Popen[str]) -> None:
    """Close our end of the server's lifeline pipe (after it has exited)."""
    if proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()


def server_command(python: str | None = None) -> list[str]:
    """The command line that runs ``relay-server`` (its subcommand and options follow).

    From a source checkout: ``python -m relay_server``. In a frozen build
    ``sys.executable`` is the app's binary, which runs the server when its first
    argument is ``--run-server`` (packaging/launcher.py). An explicit ``python``
    always means ``python -m relay_server``.
    """
    if python is None and getattr(sys, "frozen", False):
        return [sys.executable, "--run-server"]
    return [python or sys.executable, "-m", "relay_server"]


#: Relay Local runs this many steps below normal CPU priority: training, inference and
#: audio processing take the cores only when the app is not drawing or decoding
SERVER_NICE = 10


def _server_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("RELAY_DATABASE_URL", "RELAY_DATA_DIR", "QT_QPA_PLATFORM", "RELAY_API_KEY",
                 "RELAY_BASE_URL"):
        env.pop(name, None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


class LocalWorkspace(QObject):
    """Starts, watches and stops the Relay Local process of the local workspace.

    All waiting (the printed URL, ``/healthz``, key creation, seeding) happens on a
    background thread; the results arrive as signals on the GUI thread.

    Signals:
        status(str): a progress sentence ("Starting Relay Local…").
        ready(str, str): the server answers: (base_url, api_key).
        failed(str): it could not be started (a sentence).
        seed_failed(str): the demo dataset could not be created (non-fatal).
        crashed(str): the process died unexpectedly; a restart follows if allowed.
        restarted(str, str): it is back after a crash: (base_url, api_key).
        stopped(): the process was stopped on request.
    """

    status = Signal(str)
    ready = Signal(str, str)
    failed = Signal(str)
    seed_failed = Signal(str)
    crashed = Signal(str)
    restarted = Signal(str, str)
    stopped = Signal()
    _event = Signal(str, object)

    def __init__(self, data_dir: Path, credentials: CredentialStore, *,
                 python: str | None = None, startup_timeout: float = 60.0,
                 seed_demo: bool = True, watch_interval_ms: int = 1000,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data_dir = data_dir
        self.credentials = credentials
        self.python = python or sys.executable
        self.server_command = server_command(python)
        self.startup_timeout = startup_timeout
        self.seed_demo = seed_demo
        self.base_url = ""
        self.api_key = ""
        self.proc: subprocess.Popen[str] | None = None
        self._launching: subprocess.Popen[str] | None = None
        self._port = 0
        self._stopping = False
        self._starting = False
        self._restarts: list[float] = []
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(watch_interval_ms)
        self._watchdog.timeout.connect(self._check_alive)

    @property
    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def demo_dataset_id(self) -> str | None:
        """The id ``seed-demo`` reported for the demo dataset (None if not seeded)."""
        try:
            text = (self.data_dir / SEED_MARKER).read_text().strip()
        except OSError:
            return None
        return text or None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def start(self) -> None:
        """Start the server in the background (no-op while starting or running)."""
        if self._starting or self.is_running:
            return
        self._stopping = False
        self._begin(restart=False)

    def _begin(self, *, restart: bool) -> None:
        self._starting = True
        self.status.emit("Restarting Relay Local…" if restart else "Starting Relay Local…")
        threading.Thread(target=self._start_blocking, args=(restart,),
                         name="local-workspace-start", daemon=True).start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (terminate, then kill after ``timeout``)."""
        self._stopping = True
        self._watchdog.stop()
        launching, self._launching = self._launching, None
        if launching is not None and launching is not self.proc and launching.poll() is None:
            self._kill(launching)  # still starting: its thread will see _stopping
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc is not None:
            _close_pipe(proc)
            self.stopped.emit()

    # -- background thread ---------------------------------------------------

    def _start_blocking(self, restart: bool) -> None:
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = self.api_key or self.credentials.get(LOCAL_ID) or self._create_key()
            proc, url = self._launch(self._port if restart else 0)
            if self._stopping:  # the app quit while we were starting: leave nothing behind
                self._kill(proc)
                return
            self._event.emit("launched", (proc, url))
            self._wait_healthy(proc, url)
            key = self._check_key(url, key)
            self.credentials.set(LOCAL_ID, key)
            if self.seed_demo and not (self.data_dir / SEED_MARKER).exists():
                self._event.emit("status", "Preparing the demo dataset…")
                try:
                    out = self._run_cli("seed-demo", timeout=180)
                    words = out.strip().split()
                    (self.data_dir / SEED_MARKER).write_text((words[-1] if words else "") + "\n")
                except WorkspaceError as exc:
                    self._event.emit("seed_failed", str(exc))
            self._event.emit("restarted" if restart else "ready", (url, key))
        except WorkspaceError as exc:
            self._event.emit("failed", str(exc))
        except Exception as exc:  # anything else is still reported, never swallowed
            log.exception("Starting the local workspace failed")
            self._event.emit("failed", f"Relay Local could not be started: {exc}")

    def _run_cli(self, command: str, timeout: float) -> str:
        try:
            out = subprocess.run(
                [*self.server_command, command, "--data-dir", str(self.data_dir)],
                capture_output=True, text=True, env=_server_env(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise WorkspaceError(f"relay-server {command} did not finish in {timeout:.0f} s") \
                from None
        except OSError as exc:
            raise WorkspaceError(f"relay-server {command} could not run: {exc}") from exc
        if out.returncode != 0:
            lines = [line for line in out.stderr.strip().splitlines() if line.strip()]
            reason = lines[-1] if lines else f"exit status {out.returncode}"
            raise WorkspaceError(f"relay-server {command} failed: {reason}")
        return out.stdout

    def _create_key(self) -> str:
        self._event.emit("status", "Creating an API key for the local workspace…")
        lines = self._run_cli("create-key", timeout=120).strip().splitlines()
        if not lines:
            raise WorkspaceError("relay-server create-key printed no key")
        return lines[-1].strip()

    def _launch(self, port: int) -> tuple[subprocess.Popen[str], str]:
        log_file = open(self.log_path, "a")  # noqa: SIM115 - owned by the process
        try:
            proc = subprocess.Popen(
                [*self.server_command, "serve", "--data-dir", str(self.data_dir),
                 "--host", "127.0.0.1", "--port", str(port), "--exit-with-parent",
                 "--nice", str(SERVER_NICE)],
                # stdin stays open and unused: when this process dies, however it dies, the
                # OS closes it and the server shuts itself down (--exit-with-parent)
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file, text=True,
                env=_server_env())
        except OSError as exc:
            raise WorkspaceError(f"Relay Local could not be launched: {exc}") from exc
        finally:
            log_file.close()
        self._launching = proc
        assert proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()

        def drain() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.put(line)
            lines.put("")

        threading.Thread(target=drain, name="local-workspace-stdout", daemon=True).start()
        try:
            line = lines.get(timeout=self.startup_timeout)
        except queue.Empty:
            line = None
        if not line or "http://" not in line:
            self._kill(proc)
            if proc.returncode == EXIT_FOLDER_IN_USE:
                raise WorkspaceError(self._log_tail().removeprefix("relay-server: "))
            if port and line == "":
                return self._launch(0)  # the old port is taken: take any free one
            raise WorkspaceError("Relay Local did not start: " + self._log_tail())
        return proc, line.strip().rsplit(" ", 1)[-1]

    def _wait_healthy(self, proc: subprocess.Popen[str], url: str) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise WorkspaceError("Relay Local exited while starting: " + self._log_tail())
            try:
                if requests.get(url + "/healthz", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self._kill(proc)
        raise WorkspaceError(f"Relay Local did not answer within {self.startup_timeout:.0f} s")

    def _check_key(self, url: str, key: str) -> str:
        """Use ``key`` if the server accepts it, else create a fresh one (a reset workspace)."""
        with RelayClient(url, key, timeout=(5.0, 30.0)) as client:
            try:
                client.datasets.list(page=1, page_size=1)
                return key
            except errors.Unauthorized:
                log.info("The saved local-workspace key was not accepted; creating a new one")
        return self._create_key()

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "no output"

    @staticmethod
    def _kill(proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        _close_pipe(proc)

    # -- GUI thread ----------------------------------------------------------

    @Slot(str, object)
    def _on_event(self, kind: str, payload: object) -> None:
        if kind == "launched":
            assert isinstance(payload, tuple)
            proc: subprocess.Popen[str] = payload[0]
            url: str = payload[1]
            if self._stopping:
                self._kill(proc)
                return
            self.proc, self.base_url = proc, url
            self._port = int(url.rsplit(":", 1)[-1])
        elif kind == "status":
            self.status.emit(str(payload))
        elif kind == "seed_failed":
            log.warning("The demo dataset could not be created: %s", payload)
            self.seed_failed.emit(str(payload))
        elif kind in ("ready", "restarted"):
            self._starting = False
            if self._stopping:
                return
            self.base_url, self.api_key = payload  # type: ignore[misc]
            self._watchdog.start()
            (self.ready if kind == "ready" else self.restarted).emit(self.base_url, self.api_key)
        elif kind == "failed":
            self._starting = False
            log.error("%s", payload)
            if self.proc is not None:
                self._kill(self.proc)
                self.proc = None
            self.failed.emit(str(payload))

    @Slot()
    def _check_alive(self) -> None:
        if self._stopping or self._starting or self.proc is None:
            return
        code = self.proc.poll()
        if code is None:
            return
        self._watchdog.stop()
        self.proc = None
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_S]
        if len(self._restarts) >= MAX_RESTARTS:
            message = (f"Relay Local stopped (exit status {code}) and keeps failing; "
                       f"see {self.log_path}")
            self.crashed.emit(message)
            self.failed.emit(message)
            return
        self._restarts.append(now)
        self.crashed.emit(f"Relay Local stopped unexpectedly (exit status {code}); restarting it.")
        self._begin(restart=True)
