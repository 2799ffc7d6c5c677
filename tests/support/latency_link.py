"""A TCP relay that delays every byte by a fixed one-way latency, as a network link does.

Run in its own process (so its copying never competes with the caller's GIL):
each chunk read from one side is written to the other ``one_way_ms`` later, in
both directions, on every connection. Bandwidth is not limited and nothing is
dropped: only the round trips a wide-area link adds are emulated (a request and
its answer take ``2 * one_way_ms`` more). Benchmarks put it between a client and
a Relay Local to read a target the way a hosted server is used.

    with LatencyLink(server.base_url, one_way_ms=20) as link:
        client = RelayClient(link.url, key)      # every exchange +40 ms

The server builds its signed upload URLs from the ``Host`` header it is sent,
so storage traffic goes through the link too.

``python -m tests.support.latency_link HOST PORT ONE_WAY_MS`` prints the port it
listens on (127.0.0.1) and relays until it is terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from typing import Self
from urllib.parse import urlsplit

CHUNK = 256 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                delay_s: float) -> None:
    """Copy ``reader`` to ``writer``, each chunk ``delay_s`` after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            chunk = await reader.read(CHUNK)
            queue.put_nowait((loop.time() + delay_s, chunk))
            if not chunk:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
        writer.close()


async def _serve(host: str, port: int, delay_s: float) -> None:
    async def relay(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(host, port)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pump(client_r, server_w, delay_s),
                             _pump(server_r, client_w, delay_s), return_exceptions=True)
        for w in (client_w, server_w):
            w.close()

    server = await asyncio.start_server(relay, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class LatencyLink:
    """Starts the relay process towards ``upstream_url``; ``url`` is where to connect."""

    def __init__(self, upstream_url: str, one_way_ms: float) -> None:
        parts = urlsplit(upstream_url)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.one_way_ms = one_way_ms
        self._proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time the relay process has used so far (user + system)."""
        import psutil

        if self._proc is None:
            return 0.0
        times = psutil.Process(self._proc.pid).cpu_times()
        return float(times.user + times.system)

    def __enter__(self) -> Self:
        host, port = self._upstream
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.latency_link", host, str(port),
             str(self.one_way_ms)], stdout=subprocess.PIPE, text=True)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()
        if not line.isdigit():
            self._proc.kill()
            raise RuntimeError(f"the latency link did not start (said {line!r})")
        self.port = int(line)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)


if __name__ == "__main__":
    _host, _port, _ms = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_host, _port, _ms / 1000))
