"""A threaded HTTP forwarding proxy that injects faults between the app and a real server.

Every request goes to the upstream Relay Local unless the current fault plan
says otherwise. The client's ``Host`` header is passed through, so the
server builds its signed upload URLs (and download URLs) on the proxy's
address: storage traffic goes through the proxy too and can be faulted.

The plan is switched at runtime with :meth:`FaultProxy.inject`; each
:class:`Fault` matches a method and a path pattern and fires ``times`` times.
Kinds:

* ``status``: answer a 5xx (``Retry-After`` optional) without forwarding;
* ``delay``: sleep ``seconds``, then forward (a latency spike);
* ``drop_before``: read the request, close the connection, forward nothing;
* ``drop_after``: forward, let the server do the work, close without answering;
* ``truncate``: forward, answer with the full ``Content-Length`` but half the
  body, then close;
* ``stall``: read the first bytes of the body, stop reading for ``seconds``,
  then go on and forward (``then="continue"``) or close (``then="drop"``).

Every exchange is recorded (:class:`Exchange`): what was forwarded, what the
client got, which fault was applied and when the server answered. So the proxy
also counts requests at the wire, outside the code under test
(:meth:`FaultProxy.request_counts`, by :attr:`Exchange.route`); with
``keep_bodies=True`` it keeps each request's and answer's body too (benchmarks
match edits to the requests that carried them).

    with FaultProxy(server.base_url) as proxy:
        proxy.inject(Fault.drop_after("POST", r"/annotations/bulk$"))
        ...
        assert proxy.applied("drop_after") == 1
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from tests.support.background_http import BackgroundHTTP, QuietThreadingServer

KINDS = ("status", "delay", "drop_before", "drop_after", "truncate", "stall")
_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te",
                  "trailer", "upgrade", "content-length"})
STALL_HEAD_BYTES = 4096
_ID_SEGMENT = re.compile(r"/(?:[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?"
                         r"[0-9a-fA-F]{12}|\d+)(?=/|$)")


@dataclass
class Fault:
    """One rule of the plan: ``kind`` for the next ``times`` requests matching it."""

    kind: str
    method: str = "*"
    path: str = ""
    times: int = 1
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    then: str = "continue"
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}")
        self._pattern = re.compile(self.path)

    def matches(self, method: str, path: str) -> bool:
        return (self.fired < self.times and self.method in ("*", method)
                and bool(self._pattern.search(path)))

    @property
    def label(self) -> str:
        if self.kind == "status":
            return f"status {self.status}" + (
                f" Retry-After {self.retry_after}" if self.retry_after is not None else "")
        if self.kind in ("delay", "stall"):
            return f"{self.kind} {self.seconds:g}s" + (f" then {self.then}"
                                                      if self.kind == "stall" else "")
        return self.kind

    @classmethod
    def burst(cls, method: str, path: str, times: int, status: int = 503,
              retry_after: str | None = None) -> Fault:
        return cls("status", method, path, times, status=status, retry_after=retry_after)

    @classmethod
    def latency(cls, method: str, path: str, seconds: float, times: int = 1) -> Fault:
        return cls("delay", method, path, times, seconds=seconds)

    @classmethod
    def drop_before(cls, method: str, path: str, times: int = 1) -> Fault:
        return cls("drop_before", method, path, times)

    @classmethod
    def drop_after(cls, method: str, path: str, times: int = 1) -> Fault:
        return cls("drop_after", method, path, times)

    @classmethod
    def truncate(cls, method: str, path: str, times: int = 1) -> Fault:
        return cls("truncate", method, path, times)

    @classmethod
    def stall(cls, method: str, path: str, seconds: float, then: str = "continue",
              times: int = 1) -> Fault:
        if then not in ("continue", "drop"):
            raise ValueError("then must be 'continue' or 'drop'")
        return cls("stall", method, path, times, seconds=seconds, then=then)


@dataclass
class Exchange:
    """One request as the proxy handled it."""

    method: str
    path: str
    fault: str
    forwarded: bool = False
    upstream_status: int | None = None
    answered: int | None = None   # the status the client received in full, if any
    started: float = field(default_factory=time.monotonic)
    ended: float = 0.0
    upstream_answered: float = 0.0  # monotonic time the server's answer was read in full
    request_body: bytes = b""   # kept only by FaultProxy(keep_bodies=True)
    response_body: bytes = b""  # the server's answer, likewise

    @property
    def route(self) -> str:
        """``METHOD /path`` with id segments (UUIDs, numbers) written ``{id}``."""
        return f"{self.method} {_ID_SEGMENT.sub('/{id}', self.path)}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm
    # and the client's delayed ACK add ~40 ms to every answer
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        proxy = self.server.owner
        path = urlsplit(self.path).path
        fault = proxy._take(self.command, path)
        record = Exchange(self.command, path, fault.label if fault else "")
        proxy._record(record)
        try:
            self._handle(fault, record)
        finally:
            record.ended = time.monotonic()

    def _handle(self, fault: Fault | None, record: Exchange) -> None:
        kind = fault.kind if fault else ""
        if fault is not None and kind == "stall":
            body = self._read_stalled(fault.seconds)
            if fault.then == "drop":
                self._drop()
                return
        else:
            body = self._read_body()
        keep = self.server.owner.keep_bodies
        if keep:
            record.request_body = body
        if fault is not None and kind == "drop_before":
            self._drop()
            return
        if fault is not None and kind == "status":
            payload = json.dumps({"detail": f"Injected {fault.status}"}).encode()
            headers = [("Content-Type", "application/json")]
            if fault.retry_after is not None:
                headers.append(("Retry-After", fault.retry_after))
            self._answer(fault.status, headers, payload)
            record.answered = fault.status
            return
        if fault is not None and kind == "delay":
            time.sleep(fault.seconds)
        try:
            status, headers, payload = self._forward(body)
        except OSError:
            self._drop()  # the upstream is down: the client sees a dropped connection
            return
        record.forwarded, record.upstream_status = True, status
        record.upstream_answered = time.monotonic()
        if keep:
            record.response_body = payload
        if kind == "drop_after":
            self._drop()
            return
        if kind == "truncate" and len(payload) > 1:
            self._answer(status, headers, payload[: len(payload) // 2], length=len(payload))
            self._drop()
            return
        self._answer(status, headers, payload)
        record.answered = status

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline(65537).split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _read_stalled(self, seconds: float) -> bytes:
        """Read a few bytes of the body, stop reading for ``seconds``, then read the rest."""
        length = int(self.headers.get("Content-Length") or 0)
        head = self.rfile.read(min(STALL_HEAD_BYTES, length))
        time.sleep(seconds)
        return head + (self.rfile.read(length - len(head)) if length > len(head) else b"")

    def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        target = urlsplit(self.server.owner.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port,
                                          timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        headers["Content-Length"] = str(len(body))
        try:
            # skip_host: the client's Host goes through, so the server's URLs name the proxy
            conn.putrequest(self.command, self.path, skip_host=True,
                            skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            payload = resp.read()
            kept = [(k, v) for k, v in resp.getheaders()
                    if k.lower() not in _HOP | {"date", "server"}]
            return resp.status, kept, payload
        finally:
            conn.close()

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes,
                length: int | None = None) -> None:
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload) if length is None else length))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch


class _Server(QuietThreadingServer):
    owner: FaultProxy


class FaultProxy(BackgroundHTTP):
    """A forwarding proxy on 127.0.0.1 (free port) with a fault plan switchable at runtime."""

    thread_name = "fault-proxy"
    server_class = _Server

    def __init__(self, upstream: str, *, keep_bodies: bool = False) -> None:
        super().__init__(_Handler)
        self.upstream = upstream.rstrip("/")
        self.keep_bodies = keep_bodies
        self._lock = threading.Lock()
        self._plan: list[Fault] = []
        self._used: list[Fault] = []
        self.exchanges: list[Exchange] = []

    # -- the plan ----------------------------------------------------------------------------

    def inject(self, *faults: Fault) -> None:
        """Replace the plan with ``faults`` (earlier ones win when several match)."""
        with self._lock:
            self._used.extend(self._plan)
            self._plan = list(faults)

    def clear(self) -> None:
        self.inject()

    def unfired(self) -> list[Fault]:
        """Faults of the current plan that have not fired as often as planned."""
        with self._lock:
            return [f for f in self._plan if f.fired < f.times]

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._plan:
                if fault.matches(method, path):
                    fault.fired += 1
                    return fault
        return None

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.exchanges.append(exchange)

    # -- inspection ----------------------------------------------------------------------------

    def faulted(self, kind: str | None = None) -> list[Exchange]:
        """Exchanges a fault was applied to (of ``kind``: its label starts with it)."""
        with self._lock:
            return [e for e in self.exchanges
                    if e.fault and (kind is None or e.fault.startswith(kind))]

    def applied(self, kind: str) -> int:
        return len(self.faulted(kind))

    def mark(self) -> int:
        """How many exchanges so far: pass it as ``since`` to look only at later ones."""
        with self._lock:
            return len(self.exchanges)

    def requests(self, since: int = 0, path: str = "") -> list[Exchange]:
        """The exchanges from number ``since`` on whose path matches the pattern ``path``."""
        pattern = re.compile(path)
        with self._lock:
            return [e for e in self.exchanges[since:] if pattern.search(e.path)]

    def request_counts(self, since: int = 0, path: str = "") -> dict[str, int]:
        """How many requests reached the proxy, by :attr:`Exchange.route` (faulted ones too)."""
        out: dict[str, int] = {}
        for e in self.requests(since, path):
            out[e.route] = out.get(e.route, 0) + 1
        return out

    def summary(self) -> dict[str, int]:
        """How many exchanges each fault label was applied to."""
        out: dict[str, int] = {}
        for e in self.faulted():
            out[e.fault] = out.get(e.fault, 0) + 1
        return out
