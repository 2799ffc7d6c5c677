"""API keys from the command line: listed without ever showing the key, revoked at once.

A running server remembers verified keys for a few seconds; revoking a key with
``relay-server revoke-key`` on its data folder must stop that key on the very next
request, not after the cache expires. Keys are stored hashed. Serving beyond
loopback over plain HTTP warns.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from relay_server.auth import TenantKeyCache, hash_key
from relay_server.cli import is_loopback
from relay_server.keys import RevocationWatch, announce_revocation, marker_path
from tests.support.live_server import LiveServer, server_env


def _cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "relay_server", *args,
                           "--data-dir", str(server.data_dir)],
                          capture_output=True, text=True, env=server.env, timeout=120)


def _get(server: LiveServer, key: str) -> int:
    return requests.get(f"{server.base_url}/api/v1/datasets", headers={"X-API-Key": key},
                        timeout=10).status_code


def test_a_revoked_key_stops_on_the_next_request(fresh_server: LiveServer) -> None:
    other = fresh_server.new_key("acme")
    assert _get(fresh_server, fresh_server.api_key) == 200
    assert _get(fresh_server, other) == 200   # both now remembered by the server

    listed = _cli(fresh_server, "list-keys", "--ids")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2 and all("active" in line for line in lines)
    assert fresh_server.api_key not in listed.stdout and other not in listed.stdout
    acme = next(line for line in lines if "  acme  " in line)
    prefix = acme.split("…", 1)[0]
    assert other.startswith(prefix)

    revoked = _cli(fresh_server, "revoke-key", prefix)
    assert revoked.returncode == 0, revoked.stderr
    assert f"Revoked the key {prefix}" in revoked.stdout
    assert _get(fresh_server, other) == 401       # at once: no waiting for the cache
    assert _get(fresh_server, fresh_server.api_key) == 200   # the other tenant's key works

    again = _cli(fresh_server, "revoke-key", prefix)
    assert again.returncode == 0 and "already revoked" in again.stdout
    after = _cli(fresh_server, "list-keys", "--tenant", "acme")
    assert "revoked" in after.stdout and "active" not in after.stdout
    missing = _cli(fresh_server, "revoke-key", "rl_nothere")
    assert missing.returncode == 1 and "No key matches" in missing.stderr
    assert _get(fresh_server, fresh_server.api_key) == 200


def test_keys_are_stored_only_as_their_hash(fresh_server: LiveServer) -> None:
    database = fresh_server.data_dir / "relay.sqlite3"
    if not database.exists():
        pytest.skip("the server runs on PostgreSQL here; the SQLite run checks the table")
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT key_hash, prefix FROM api_keys").fetchall()
        dump = "\n".join(db.iterdump())
    assert (hash_key(fresh_server.api_key), fresh_server.api_key[:8]) in rows
    assert fresh_server.api_key not in dump


def test_the_cache_forgets_every_key_when_the_marker_changes(tmp_path: Path) -> None:
    watch = RevocationWatch(marker_path(tmp_path))
    assert not watch.changed()
    announce_revocation(tmp_path)
    assert watch.changed() and not watch.changed()   # once per revocation
    announce_revocation(tmp_path)
    assert watch.changed()
    off = TenantKeyCache(ttl_s=0)
    off.put("h", uuid.uuid4())
    assert off.get("h") is None   # RELAY_KEY_CACHE_TTL_S=0 remembers nothing


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("[::1]", True), ("localhost", True),
    ("127.0.0.2", True), ("0.0.0.0", False), ("::", False), ("192.168.1.10", False),
    ("relay.example.org", False)])
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_serving_beyond_loopback_over_plain_http_warns(tmp_path: Path) -> None:
    env = server_env()
    proc = subprocess.Popen([sys.executable, "-m", "relay_server", "serve", "--data-dir",
                             str(tmp_path / "data"), "--host", "0.0.0.0", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert "listening on http://0.0.0.0:" in line
        deadline = time.monotonic() + 30
        warning = ""
        while time.monotonic() < deadline and "WARNING" not in warning:
            warning = proc.stderr.readline()
        assert "plain HTTP" in warning and "TLS" in warning
    finally:
        proc.terminate()
        proc.wait(15)
