"""Content-addressed audio cache with a size limit and LRU eviction.

Files live in ``<root>/<sha256[:2]>/<sha256><suffix>`` (root is
``AppPaths.audio_cache``). ``index.json`` maps a remote key (server, dataset,
audio id, size) to the content hash of the file downloaded for it, and remembers
local copies recorded at upload time. Access time is the file's mtime (touched
on every hit), so eviction removes the least recently used files first until
the cache fits ``max_bytes``; a file in use can be pinned.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from relay_desktop.core.audio.lru_files import evict_oldest, oldest_first

DEFAULT_MAX_BYTES = 2 * 1024**3
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """The SHA-256 hex digest of ``path``, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def remote_key(base_url: str, dataset_id: str, audio_id: str, file_size: int | None) -> str:
    """Index key of a server's audio file."""
    return f"{base_url.rstrip('/')}|{dataset_id}|{audio_id}|{file_size or 0}"


class AudioCache:
    """A size-limited, content-addressed folder of audio files (thread-safe)."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self._lock = threading.RLock()
        self._pinned: set[str] = set()

    # -- index ---------------------------------------------------------------------------

    @property
    def _index_path(self) -> Path:
        return self.root / "index.json"

    def _read_index(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self._index_path.read_text())
        except (OSError, ValueError):
            return {"remote": {}, "local": {}}
        data.setdefault("remote", {})
        data.setdefault("local", {})
        return data

    def _write_index(self, data: dict[str, dict[str, str]]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".index-", dir=self.root)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
        os.replace(tmp, self._index_path)

    # -- content ------------------------------------------------------------------------

    def path_for(self, digest: str, suffix: str = "") -> Path:
        return self.root / digest[:2] / f"{digest}{suffix}"

    def _find(self, digest: str) -> Path | None:
        folder = self.root / digest[:2]
        if not folder.is_dir():
            return None
        for candidate in folder.glob(f"{digest}*"):
            if candidate.is_file():
                return candidate
        return None

    def get(self, digest: str) -> Path | None:
        """The cached file with this content hash (touched as used), or None."""
        with self._lock:
            found = self._find(digest)
            if found is not None:
                now = time.time()
                os.utime(found, (now, now))
            return found

    def add(self, src: Path, *, move: bool = False, digest: str | None = None) -> Path:
        """Put ``src`` into the cache (copy, or move) and return the cached path."""
        src = Path(src)
        digest = digest or sha256_file(src)
        with self._lock:
            existing = self.get(digest)
            if existing is not None:
                if move:
                    src.unlink(missing_ok=True)
                return existing
            dest = self.path_for(digest, src.suffix.lower())
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.part")
            if move:
                shutil.move(str(src), tmp)
            else:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
            now = time.time()
            os.utime(dest, (now, now))
            self.pin(digest)
            try:
                self.evict()
            finally:
                self.unpin(digest)
            return dest

    def digest_of(self, path: Path) -> str | None:
        """The content hash of a path inside the cache (from its name), else None."""
        path = Path(path)
        try:
            path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        name = path.name.split(".", 1)[0]
        return name if len(name) == 64 else None

    # -- remote and local lookups --------------------------------------------------------

    def lookup_remote(self, key: str) -> Path | None:
        """The cached download for a remote key, if still present."""
        with self._lock:
            digest = self._read_index()["remote"].get(key)
            return self.get(digest) if digest else None

    def store_remote(self, key: str, src: Path, *, move: bool = True) -> Path:
        """Add a downloaded file and remember it under ``key``."""
        with self._lock:
            dest = self.add(src, move=move)
            index = self._read_index()
            index["remote"][key] = dest.name.split(".", 1)[0]
            self._write_index(index)
            return dest

    def remember_local(self, dataset_id: str, audio_id: str, path: Path) -> None:
        """Record the local file an audio file was uploaded from."""
        with self._lock:
            index = self._read_index()
            index["local"][f"{dataset_id}|{audio_id}"] = str(Path(path).resolve())
            self._write_index(index)

    def local_copy(self, dataset_id: str, audio_id: str) -> Path | None:
        """The local file recorded at upload time, if it still exists."""
        with self._lock:
            recorded = self._read_index()["local"].get(f"{dataset_id}|{audio_id}")
        if recorded and Path(recorded).is_file():
            return Path(recorded)
        return None

    # -- eviction -------------------------------------------------------------------------

    def pin(self, digest: str) -> None:
        """Keep ``digest`` from eviction (e.g. while it is open in the editor)."""
        with self._lock:
            self._pinned.add(digest)

    def unpin(self, digest: str) -> None:
        with self._lock:
            self._pinned.discard(digest)

    def _sized_entries(self) -> list[tuple[Path, int]]:
        if not self.root.is_dir():
            return []
        return oldest_first(p for p in self.root.glob("??/*")
                            if p.is_file() and not p.name.startswith("."))

    def entries(self) -> list[Path]:
        """Cached audio files, least recently used first."""
        return [path for path, _size in self._sized_entries()]

    def total_bytes(self) -> int:
        return sum(size for _path, size in self._sized_entries())

    def evict(self) -> list[Path]:
        """Remove least recently used unpinned files until the cache fits; return them."""
        with self._lock:
            removed, _left = evict_oldest(
                self._sized_entries(), self.max_bytes,
                remove=lambda path: path.unlink(missing_ok=True),
                keep=lambda path: path.name.split(".", 1)[0] in self._pinned)
        return removed
