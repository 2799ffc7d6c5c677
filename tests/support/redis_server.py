"""A real Redis for task-queue tests: ``RELAY_TEST_REDIS_URL``, or a private redis-server.

``RELAY_TEST_REDIS_URL`` (set by .ci/run) names a Redis the tests may wipe:
its database is flushed before each use. Without it, a private
``redis-server`` is started on a free port when the binary is installed
(Debian package ``redis-server``). Tests that need Redis skip, saying why,
only when neither is available.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

NO_REDIS = ("needs Redis: set RELAY_TEST_REDIS_URL or install redis-server "
            "(apt-get install redis-server)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ping(url: str) -> bool:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def _flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@contextmanager
def redis_url(folder: Path) -> Iterator[str]:
    """A URL of an empty Redis database for the duration of the block (or skip the test)."""
    pytest.importorskip("redis", reason="needs the redis package (pip install -e '.[redis]')")
    shared = os.environ.get("RELAY_TEST_REDIS_URL", "").strip()
    if shared:
        if not _ping(shared):
            pytest.fail(f"RELAY_TEST_REDIS_URL={shared} does not answer")
        _flush(shared)
        yield shared
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip(NO_REDIS)
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 15
        while not _ping(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on port {port}")
            time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
