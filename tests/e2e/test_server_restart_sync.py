"""Stop the server mid-edit and start it again: nothing lost, nothing duplicated.

The app talks to a forwarding proxy on a fixed port (a restarted Relay Local
picks a new port); while the server is down the proxy's upstream refuses
connections, exactly as a stopped server does.
"""

from __future__ import annotations

import http.client
import threading
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.core.annotations import Region
from relay_desktop.core.journal import Journal
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.sync import SyncService
from tests.support.live_server import LiveServer

TYPES = [{"name": "click", "color": "#ff0000"}, {"name": "pause", "color": "#00ff00"}]


class Forwarder:
    """Forwards every request to ``upstream``; drops the connection when that is down."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.refused = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = urlsplit(owner.upstream)
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection", "content-length")}
                headers["Content-Length"] = str(len(body))
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    payload = resp.read()
                except OSError:
                    owner.refused += 1
                    self.close_connection = True
                    return
                finally:
                    conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("content-length", "connection", "transfer-encoding",
                                         "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _forward

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Forwarder:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def test_server_restart_mid_edit_loses_and_duplicates_nothing(fresh_server: LiveServer,
                                                              tmp_path: Path,
                                                              qtbot: QtBot) -> None:
    client = RelayClient(fresh_server.base_url, fresh_server.api_key)
    ds = client.datasets.create(f"restart-{uuid.uuid4().hex[:8]}", artifact_types=TYPES)
    audio = client.audio.request_upload(ds.id, "a.wav", "audio/wav", 1000).audio_id
    set_id = client.annotation_sets.create(ds.id).id
    client.close()
    with Forwarder(fresh_server.base_url) as proxy:
        worker = ApiWorker(proxy.url, fresh_server.api_key, timeout=(2.0, 10.0))
        journal = Journal(tmp_path / "journal.sqlite3")
        sync = SyncService(worker, journal, coalesce_ms=30, backoff_s=(0.3, 0.6, 1.0))
        session = AnnotationSession(sync, ds.id, set_id)
        try:
            with qtbot.waitSignal(session.loaded, timeout=10_000):
                session.open()
            session.add([Region(f"a{i}", audio, "click", i * 100, i * 100 + 50)
                         for i in range(5)])
            qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=10_000)

            fresh_server.stop()                               # the server goes away
            session.add([Region(f"b{i}", audio, "pause", 1000 + i * 100, 1050 + i * 100)
                         for i in range(5)])
            session.edit("a0", "resize", end_ms=90)
            session.edit("a1", "relabel", artifact_type="pause")
            session.delete(["a2"])
            session.edit("b0", "move", start_ms=5000, end_ms=5050)
            qtbot.waitUntil(lambda: session.state.kind == "offline"
                            and session.state.pending == 8, timeout=10_000)
            assert "saved on this computer" in session.state.message
            # 8 regions with unsynced edits: b0-b4 (b0 created then moved), a0, a1, a2
            assert journal.pending_count(set_id) == 8 and proxy.refused >= 1

            fresh_server.start()                              # same data dir, new port
            proxy.upstream = fresh_server.base_url
            qtbot.waitUntil(lambda: session.state.kind == "saved", timeout=15_000)
        finally:
            session.close()
            sync.close()
            worker.shutdown(5000)
            journal.close()
    with RelayClient(fresh_server.base_url, fresh_server.api_key) as check:
        anns = check.annotation_sets.get(ds.id, set_id).annotations
    by_id = {a.extra_data["client_id"]: a for a in anns}
    counts = Counter(a.extra_data["client_id"] for a in anns)
    assert max(counts.values()) == 1
    assert set(by_id) == {"a0", "a1", "a3", "a4"} | {f"b{i}" for i in range(5)}
    assert by_id["a0"].end_ms == 90 and by_id["a1"].artifact_type == "pause"
    assert (by_id["b0"].start_ms, by_id["b0"].end_ms) == (5000, 5050)
