"""LocalStorage: objects as files under the data folder, uploaded by presigned POST.

The storage endpoint (``relay_server.routers.storage_endpoint``) serves the
POST and signed GETs at ``/storage/<bucket>/...`` on the API's own host and
port; this module signs them and owns the files. Writes go to a temporary
file in the target folder and are renamed into place, so a reader never
sees half an object and a broken upload leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

from relay_server.storage import policy
from relay_server.storage.base import PresignedPost
from relay_server.storage.errors import ObjectNotFound
from relay_server.storage.keys import check_key
from relay_server.storage.writer import FileWriter

log = logging.getLogger("relay_server.storage")
PARTIAL_SUFFIX = ".part"
BUCKET = "relay-local"


def fsync_dir(folder: Path) -> None:
    """Persist a rename in ``folder`` (best effort where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class PartialObject:
    """An object being written: bytes go to a hidden temp file until :meth:`commit`.

    Buffers are written in batches of a megabyte with one ``writev`` each
    (a copy into the page cache, which does not wait for the disk), and each
    megabyte is handed to the kernel's writeback at once, so the fsync in
    :meth:`commit`, the only step that waits for the disk, is short.
    """

    def __init__(self, final_path: Path) -> None:
        self.final_path = final_path
        final_path.parent.mkdir(parents=True, exist_ok=True)
        self.temp_path = final_path.with_name(
            f".{final_path.name}.{uuid.uuid4().hex[:12]}{PARTIAL_SUFFIX}")
        self._fd: int | None = os.open(self.temp_path,
                                       os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        self._writer = FileWriter(self._fd)

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._writer.size

    def write(self, data: bytes | memoryview) -> None:
        """Append ``data`` (kept by reference until written: it must not change)."""
        self._writer.write(data)

    def commit(self) -> None:
        """Make the bytes durable (fsync), then rename the temp file over the final path.

        Like S3, a successful upload is on disk before it is acknowledged.
        """
        assert self._fd is not None
        self._writer.flush()
        os.fsync(self._fd)
        os.close(self._fd)
        self._fd = None
        os.replace(self.temp_path, self.final_path)
        fsync_dir(self.final_path.parent)

    def abort(self) -> None:
        """Drop the temp file (safe to call more than once, or after commit).

        Never raises: a temp file a read-only disk keeps is hidden from
        :meth:`LocalStorage.list_keys` and removed by ``sweep_partials`` later.
        """
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
        try:
            self.temp_path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("Could not remove the partial upload %s: %s", self.temp_path, exc)


class LocalStorage:
    """Objects under ``root``; presigned POST and GET emulating S3's."""

    name = "local"

    def __init__(self, root: Path, secret: str, upload_ttl_s: int,
                 max_upload_bytes: int, bucket: str = BUCKET) -> None:
        self.root = root
        self.secret = secret
        self.bucket = bucket
        self.upload_ttl_s = upload_ttl_s
        self.max_upload_bytes = max_upload_bytes
        root.mkdir(parents=True, exist_ok=True)

    # -- keys and paths -------------------------------------------------------------------
    def path(self, key: str) -> Path:
        """The file of ``key`` (whether or not it exists); ValueError for a bad key."""
        return self.root.joinpath(*check_key(key).split("/"))

    # -- signing ----------------------------------------------------------------------------
    def presign_upload(self, key: str, content_type: str, file_size: int,
                       base_url: str) -> PresignedPost:
        size = min(file_size, self.max_upload_bytes)
        fields = policy.build_post_fields(self.secret, self.bucket, key, content_type,
                                          size, size, self.upload_ttl_s)
        return PresignedPost(url=f"{base_url.rstrip('/')}/storage/{self.bucket}",
                             fields=fields, key=key, expires_in=self.upload_ttl_s)

    def download_url(self, key: str, expires_in: int, base_url: str) -> str:
        expires = int(time.time()) + expires_in
        query = urlencode({"Expires": expires,
                           "Signature": policy.sign_get(self.secret, self.bucket, key, expires)})
        return f"{base_url.rstrip('/')}/storage/{self.bucket}/{quote(key)}?{query}"

    # -- reading ----------------------------------------------------------------------------
    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self.path(key), "rb")
        except FileNotFoundError as exc:
            raise ObjectNotFound(key) from exc

    @contextlib.contextmanager
    def local_copy(self, key: str) -> Iterator[Path]:
        path = self.path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        yield path

    def list_keys(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.rstrip("/") if prefix.endswith("/") else self.root
        if not base.exists():
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                if name.endswith(PARTIAL_SUFFIX) and name.startswith("."):
                    continue
                key = Path(dirpath, name).relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    yield key

    # -- writing ----------------------------------------------------------------------------
    def begin_upload(self, key: str) -> PartialObject:
        """Start writing ``key``; nothing is visible until the PartialObject commits."""
        return PartialObject(self.path(key))

    def put_file(self, key: str, source: Path, content_type: str | None = None) -> None:
        partial = self.begin_upload(key)
        try:
            with open(source, "rb") as src:
                while chunk := src.read(1 << 20):
                    partial.write(chunk)
            partial.commit()
        finally:
            partial.abort()

    def put_bytes(self, key: str, data: bytes) -> None:
        partial = self.begin_upload(key)
        try:
            partial.write(data)
            partial.commit()
        finally:
            partial.abort()

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()
        self._prune_empty(self.path(key).parent)

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` (a folder prefix ending in ``/``)."""
        if not prefix.endswith("/"):
            keys = list(self.list_keys(prefix))
            for key in keys:
                self.delete(key)
            return len(keys)
        folder = self.path(prefix.rstrip("/"))
        if not folder.is_dir():
            return 0
        count = sum(len(files) for _d, _s, files in os.walk(folder))
        shutil.rmtree(folder, ignore_errors=True)
        self._prune_empty(folder.parent)
        return count

    def _prune_empty(self, folder: Path) -> None:
        """Remove empty parent folders up to (not including) the root."""
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def sweep_partials(self, older_than_s: float = 3600.0) -> int:
        """Delete temp files of uploads that died with an earlier process."""
        cutoff = time.time() - older_than_s
        removed = 0
        for dirpath, _dirs, files in os.walk(self.root):
            for name in files:
                if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
                    path = Path(dirpath, name)
                    with contextlib.suppress(OSError):
                        if path.stat().st_mtime < cutoff:
                            path.unlink()
                            removed += 1
        return removed
