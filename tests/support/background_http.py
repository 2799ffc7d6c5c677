"""A test HTTP server on 127.0.0.1 (a free port) served from a daemon thread."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class QuietThreadingServer(ThreadingHTTPServer):
    """Threads per connection; a client dropping a faulted connection is expected, not logged."""

    daemon_threads = True
    allow_reuse_address = True
    owner: Any

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class BackgroundHTTP:
    """Owns a :class:`QuietThreadingServer` (``handler.server.owner`` is this object);
    a context manager that starts and stops it."""

    thread_name = "test-http"
    server_class: type[QuietThreadingServer] = QuietThreadingServer

    def __init__(self, handler: type[BaseHTTPRequestHandler], host: str = "127.0.0.1") -> None:
        self._httpd = self.server_class((host, 0), handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=self.thread_name,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
