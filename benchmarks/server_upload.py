"""server_upload: 5 MB files POSTed through Relay Local's storage endpoint vs a disk copy.

Each file takes the documented path: ``upload-url`` over the API, then a
``multipart/form-data`` POST of the presigned fields plus the file to the
storage endpoint on loopback (the client streams the file with
``socket.sendfile``, as an efficient uploader would). The baseline copies
the same source files to new files on the same disk with
``shutil.copyfile`` plus ``fsync`` (the storage endpoint makes every upload
durable before it answers 204, as S3 does), interleaved with the uploads in
the same run. Value and baseline are MB/s (medians over rounds); the target
is a ratio of at least 0.5. The rate of a copy left in the page cache (no
fsync) and the ratio against it are reported as well.
"""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from benchmarks import result
from tests.support.live_server import LiveServer

FILE_BYTES = 5 * 1024 * 1024
TARGET_RATIO = 0.5


def _multipart_head(fields: dict[str, str], boundary: str, filename: str,
                    content_type: str) -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n")
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n')
    return "".join(parts).encode("utf-8")


def post_file(conn: http.client.HTTPConnection, url: str, fields: dict[str, str],
              path: Path) -> int:
    """Stream one presigned form upload over ``conn``; return the HTTP status."""
    boundary = uuid.uuid4().hex
    head = _multipart_head(fields, boundary, path.name, fields.get("Content-Type", ""))
    tail = f"\r\n--{boundary}--\r\n".encode()
    size = path.stat().st_size
    conn.putrequest("POST", urlsplit(url).path)
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    assert conn.sock is not None
    conn.sock.sendall(head)
    with open(path, "rb") as fh:
        conn.sock.sendfile(fh)
    conn.sock.sendall(tail)
    response = conn.getresponse()
    response.read()
    return response.status


def _make_sources(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"source-{i:03d}.wav"
        path.write_bytes(os.urandom(FILE_BYTES))
        paths.append(path)
    return paths


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def measure_copy(sources: list[Path], dest: Path, durable: bool) -> float:
    """Seconds to copy ``sources`` to new files (fsynced, with their folder, when durable)."""
    dest.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for src in sources:
        shutil.copyfile(src, dest / src.name)
        if durable:
            _fsync(dest / src.name)
            _fsync(dest)
    elapsed = time.perf_counter() - start
    shutil.rmtree(dest)
    return elapsed


class Uploader:
    """upload-url over the API, then the storage POST, on kept-alive connections."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.api = requests.Session()
        self.api.headers["X-API-Key"] = server.api_key
        r = self.api.post(f"{server.base_url}/api/v1/datasets",
                          json={"name": "bench", "artifact_types": [{"name": "glitch"}]},
                          timeout=30)
        r.raise_for_status()
        self.dataset_id = r.json()["id"]
        netloc = urlsplit(server.base_url)
        self.conn = http.client.HTTPConnection(netloc.hostname or "127.0.0.1", netloc.port,
                                               timeout=60)

    def upload_all(self, sources: list[Path]) -> tuple[float, float]:
        """Seconds for all uploads (upload-url + POST) and for the storage POSTs alone."""
        post_time = 0.0
        start = time.perf_counter()
        for src in sources:
            ticket = self.api.post(
                f"{self.server.base_url}/api/v1/datasets/{self.dataset_id}/audio/upload-url",
                json={"filename": src.name, "content_type": "audio/wav",
                      "file_size": src.stat().st_size}, timeout=30)
            ticket.raise_for_status()
            body = ticket.json()
            t0 = time.perf_counter()
            status = post_file(self.conn, body["upload_url"], body["fields"], src)
            post_time += time.perf_counter() - t0
            if status != 204:
                raise RuntimeError(f"storage POST answered {status}")
        return time.perf_counter() - start, post_time

    def close(self) -> None:
        self.conn.close()
        self.api.close()


def run(quick: bool) -> dict[str, Any]:
    rounds = 2 if quick else 5
    per_round = 20 if quick else 40
    count = rounds * per_round
    copy_durable: list[float] = []
    copy_cached: list[float] = []
    upload: list[float] = []
    post: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        root = Path(tmp)
        sources = _make_sources(root / "sources", per_round)
        server = LiveServer(root / "server").start()
        uploader = Uploader(server)
        try:
            measure_copy(sources[:5], root / "warm", durable=False)
            uploader.upload_all(sources[:3])
            for _ in range(rounds):  # interleaved, so both see the same machine load
                copy_durable.append(measure_copy(sources, root / "copy", durable=True))
                copy_cached.append(measure_copy(sources, root / "copy", durable=False))
                total_s, post_s = uploader.upload_all(sources)
                upload.append(total_s)
                post.append(post_s)
                shutil.rmtree(server.data_dir / "objects" / "tenants", ignore_errors=True)
        finally:
            uploader.close()
            server.stop()
    mb = per_round * FILE_BYTES / 1e6
    value = mb / statistics.median(upload)
    baseline = mb / statistics.median(copy_durable)
    cached = mb / statistics.median(copy_cached)
    ratio = value / baseline
    return result("server_upload", value, baseline, "MB/s", f"ratio >= {TARGET_RATIO}",
                  ratio >= TARGET_RATIO, ratio=ratio, files=count,
                  file_mb=round(FILE_BYTES / 1e6, 2),
                  baseline_kind="copy to a new file + fsync (the storage fsyncs before 204)",
                  storage_post_mb_s=round(mb / statistics.median(post), 1),
                  cached_copy_mb_s=round(cached, 1),
                  ratio_vs_cached_copy=round(value / cached, 4))
