"""A real local HTTP server that injects faults, for client and GUI tests.

Each test scripts replies per ``(method, path)``: status sequences (a 503
burst, then success), ``Retry-After``, delays, connections dropped before or
after the request body was read, redirects to another host or port, S3-style
XML errors. Every request is recorded (method, path, query, headers, body) so
a test can prove what was, and was not, sent. ``sink`` routes swallow any
amount of bytes without keeping them.

    with FaultServer() as srv:
        srv.script("GET", "/api/v1/datasets", [Reply(503), Reply(503), Reply(200, json={...})])
        ...
        assert srv.count("GET", "/api/v1/datasets") == 3
"""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.background_http import BackgroundHTTP, QuietThreadingServer

BODY_KEEP_LIMIT = 8 * 1024 * 1024


@dataclass
class Reply:
    """One scripted answer.

    ``drop``: ``"before_read"`` closes the connection without reading the body or
    answering; ``"after_read"`` reads the whole request, records it, then closes
    without answering. ``delay`` sleeps before answering (after reading).
    ``proxy``: forward the request to this base URL (a real server) and relay its
    answer, or with ``drop="after_read"`` forward it and then drop the connection,
    so the upstream did the work but the client never hears back.
    """

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    delay: float = 0.0
    drop: str | None = None
    retry_after: str | None = None
    proxy: str | None = None

    @classmethod
    def redirect(cls, location: str, status: int = 307) -> Reply:
        return cls(status=status, headers={"Location": location})

    @classmethod
    def s3_error(cls, status: int, code: str, message: str) -> Reply:
        xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
               f"<Message>{message}</Message><RequestId>fault</RequestId></Error>")
        return cls(status=status, body=xml.encode(), content_type="application/xml")


@dataclass
class Recorded:
    """A request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    body_length: int
    time: float
    port: int

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return jsonlib.loads(self.body.decode()) if self.body else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        owner = self.server.owner
        parts = urlsplit(self.path)
        reply = owner._next_reply(self.command, parts.path)
        if reply is not None and reply.drop == "before_read":
            owner._record(self, parts, b"", 0)
            self._drop()
            return
        keep = parts.path not in owner.sinks
        body, length = self._read_body(keep)
        owner._record(self, parts, body, length)
        if parts.path in owner.sinks and reply is None:
            reply = Reply(204)
        if reply is None:
            reply = Reply(404, json={"detail": "Not Found"})
        if reply.delay:
            time.sleep(reply.delay)
        if reply.proxy:
            upstream = self._forward(reply.proxy, body)
            if reply.drop != "after_read":
                self._answer(upstream)
                return
        if reply.drop == "after_read":
            self._drop()
            return
        self._answer(reply)

    def _forward(self, base: str, body: bytes) -> Reply:
        target = urlsplit(base)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=30)
        skip = {"host", "connection", "content-length", "transfer-encoding", "keep-alive"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in skip}
        headers["Content-Length"] = str(len(body))
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            keep = {k: v for k, v in resp.getheaders()
                    if k.lower() not in skip | {"content-type", "date", "server"}}
            return Reply(status=resp.status, body=payload, headers=keep,
                         content_type=resp.getheader("Content-Type"))
        finally:
            conn.close()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_body(self, keep: bool) -> tuple[bytes, int]:
        chunks: list[bytes] = []
        kept = 0
        total = 0
        buf = bytearray(1024 * 1024)
        view = memoryview(buf)

        def take(n: int) -> None:
            nonlocal kept, total
            while n > 0:
                got = self.rfile.readinto(view[: min(n, len(buf))])
                if not got:
                    raise ConnectionError("client went away")
                n -= got
                total += got
                if keep and kept < BODY_KEEP_LIMIT:
                    chunks.append(bytes(view[:got]))
                    kept += got

        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                take(size)
                self.rfile.readline(3)
        else:
            take(int(self.headers.get("Content-Length") or 0))
        return b"".join(chunks), total

    def _answer(self, reply: Reply) -> None:
        if reply.json is not None:
            payload = jsonlib.dumps(reply.json).encode()
            ctype = reply.content_type or "application/json"
        else:
            payload = reply.body
            ctype = reply.content_type or ("text/plain" if payload else "")
        self.send_response(reply.status)
        if ctype:
            self.send_header("Content-Type", ctype)
        if reply.retry_after is not None:
            self.send_header("Retry-After", reply.retry_after)
        for k, v in reply.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class _HTTPServer(QuietThreadingServer):
    owner: FaultServer


class FaultServer(BackgroundHTTP):
    """A scripted HTTP/1.1 server on 127.0.0.1 with a free port, in a background thread."""

    thread_name = "fault-server"
    server_class = _HTTPServer

    def __init__(self, host: str = "127.0.0.1") -> None:
        super().__init__(_Handler, host)
        self._lock = threading.Lock()
        self._scripts: dict[tuple[str, str], deque[Reply]] = {}
        self.records: list[Recorded] = []
        self.sinks: set[str] = set()

    # -- scripting -------------------------------------------------------------

    def script(self, method: str, path: str, replies: list[Reply] | Reply) -> None:
        """Answer ``method path`` with ``replies`` in turn; the last one repeats.

        ``method`` may be ``"*"`` (any method); ``("*", "*")`` is the fallback for
        every request without a script of its own."""
        if isinstance(replies, Reply):
            replies = [replies]
        with self._lock:
            self._scripts[(method.upper(), path)] = deque(replies)

    def script_dataset_upload(self, upload_url: str, fields: dict[str, str] | None = None,
                              audio_id: str = "a", dataset_id: str = "d") -> None:
        """Act as the API half of a dataset-audio upload: upload-url then confirm.

        The storage POST goes to ``upload_url`` (another server: a sink, a recorder)."""
        self.script("POST", f"/api/v1/datasets/{dataset_id}/audio/upload-url", Reply(200, json={
            "upload_url": upload_url, "fields": fields or {"key": "k", "policy": "p"},
            "audio_id": audio_id}))
        self.script("POST", f"/api/v1/datasets/{dataset_id}/audio/confirm",
                    Reply(200, json={"audio_id": audio_id, "status": "pending"}))

    def proxy(self, method: str, path: str, upstream: str, *, drop: bool = False) -> None:
        """Forward ``method path`` to ``upstream``; with ``drop`` the reply never comes back."""
        self.script(method, path, Reply(proxy=upstream, drop="after_read" if drop else None))

    def sink(self, path: str) -> str:
        """Make ``POST path`` swallow its body (counted, not kept) and answer 204."""
        self.sinks.add(path)
        return self.url + path

    def _next_reply(self, method: str, path: str) -> Reply | None:
        with self._lock:
            queue = (self._scripts.get((method, path)) or self._scripts.get(("*", path))
                     or self._scripts.get(("*", "*")))
            if not queue:
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _record(self, handler: _Handler, parts: Any, body: bytes, length: int) -> None:
        rec = Recorded(method=handler.command, path=parts.path, query=parse_qs(parts.query),
                       headers={k.lower(): v for k, v in handler.headers.items()},
                       body=body, body_length=length, time=time.monotonic(), port=self.port)
        with self._lock:
            self.records.append(rec)

    # -- inspection --------------------------------------------------------------

    def requests_to(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [r for r in self.records
                    if (method is None or r.method == method) and (path is None or r.path == path)]

    def count(self, method: str | None = None, path: str | None = None) -> int:
        return len(self.requests_to(method, path))
