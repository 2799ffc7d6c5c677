"""The benchmarks' latency link: every exchange takes two one-way delays more, bytes intact."""

from __future__ import annotations

import hashlib
import os
import time
from http.server import BaseHTTPRequestHandler

import requests

from tests.support.background_http import BackgroundHTTP
from tests.support.latency_link import LatencyLink


class _Digest(BaseHTTPRequestHandler):
    """Answers a POST with the SHA-256 of its body."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        answer = hashlib.sha256(body).hexdigest().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


def _timed_posts(url: str, body: bytes, times: int) -> tuple[list[float], list[str]]:
    elapsed, answers = [], []
    with requests.Session() as session:  # one kept-alive connection, as the clients use
        for _ in range(times):
            t0 = time.perf_counter()
            answers.append(session.post(url, data=body, timeout=10).text)
            elapsed.append(time.perf_counter() - t0)
    return elapsed, answers


def test_each_exchange_takes_the_round_trip_longer_and_the_bytes_arrive_intact() -> None:
    body = os.urandom(3 * 1024 * 1024)
    with BackgroundHTTP(_Digest) as upstream, LatencyLink(upstream.url, one_way_ms=60) as link:
        direct, _ = _timed_posts(upstream.url, body, 3)
        linked, answers = _timed_posts(link.url, body, 3)
    assert answers == [hashlib.sha256(body).hexdigest()] * 3
    # a new connection's first exchange and each kept-alive one both pay the round trip
    assert min(linked) >= 0.12
    assert min(linked) - min(direct) >= 0.11
    assert max(linked) < 2.0
