"""Start real Relay Local servers as subprocesses for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests


def create_key(data_dir: Path, tenant: str = "default", env: dict[str, str] | None = None) -> str:
    """Create an API key with the real CLI and return it."""
    out = subprocess.run(
        [sys.executable, "-m", "relay_server", "create-key", "--data-dir", str(data_dir),
         "--tenant", tenant],
        check=True, capture_output=True, text=True, env=env or server_env(),
    )
    return out.stdout.strip().splitlines()[-1]


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a test server; on PostgreSQL each server gets a fresh database."""
    env = dict(os.environ)
    env.pop("QT_QPA_PLATFORM", None)
    admin_url = os.environ.get("RELAY_TEST_DATABASE_URL")
    if admin_url:
        env["RELAY_DATABASE_URL"] = fresh_postgres_database(admin_url)
    env.update(extra or {})
    return env


def fresh_postgres_database(admin_url: str) -> str:
    """Create an empty database next to ``admin_url`` and return its URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = "relay_test_" + uuid.uuid4().hex[:12]
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@dataclass
class LiveServer:
    """A running ``relay-server serve`` process on 127.0.0.1 with a free port."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=server_env)
    api_key: str = ""
    base_url: str = ""
    proc: subprocess.Popen[str] | None = None
    log_path: Path | None = None
    serve_args: tuple[str, ...] = ()  # more options for ``serve`` (e.g. the app's --nice)

    def start(self, timeout: float = 60.0) -> LiveServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not self.api_key:
            self.api_key = create_key(self.data_dir, env=self.env)
        self.log_path = self.data_dir / "server.log"
        log = open(self.log_path, "a")  # noqa: SIM115 - owned by the process lifetime
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "relay_server", "serve", "--data-dir", str(self.data_dir),
             "--host", "127.0.0.1", "--port", "0", *self.serve_args],
            stdout=subprocess.PIPE, stderr=log, text=True, env=self.env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "http://" not in line:
            self.stop()
            raise RuntimeError(f"relay-server did not start: {line!r}\n{self.log_tail()}")
        self.base_url = line.strip().rsplit(" ", 1)[-1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.base_url + "/healthz", timeout=2).ok:
                    return self
            except requests.RequestException:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"relay-server exited early\n{self.log_tail()}")
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"relay-server not ready in {timeout}s\n{self.log_tail()}")

    def new_key(self, tenant: str) -> str:
        """A key for another tenant on the same server."""
        return create_key(self.data_dir, tenant, env=self.env)

    def kill(self) -> None:
        """Kill the process without a graceful shutdown (crash simulation)."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def freeze(self) -> None:
        """Stop the process where it stands (SIGSTOP): it does nothing more until killed."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGSTOP)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
