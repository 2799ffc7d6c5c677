"""Spectrogram tiles on disk, so reopening a file shows its spectrogram without an FFT.

A tile is one ``.npy`` file (the ``(columns, window // 2 + 1)`` float32 dB
array) at ``<root>/<fp[:2]>/<fp>/w<window>-h<hop>-<lane>-<index>.npy`` where
``fp`` is the file's :func:`~relay_desktop.core.audio.peaks.fingerprint` and
``root`` is ``AppPaths.spectrogram_cache``. Files are written atomically (a
temporary file, then ``os.replace``); access time is the file's mtime (touched
on every hit), so eviction removes the least recently used tiles until the
folder fits ``max_bytes``. An entry that cannot be read or has the wrong shape
is deleted and reported as a miss: the caller computes the tile again.

:class:`TileSource` binds one audio file to the cache: it computes the
fingerprint once (lazily, on the worker that first needs it) and answers
``load_or_compute(key)``. Thread-safe; no Qt.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from relay_desktop.core.audio.decode import CancelCheck
from relay_desktop.core.audio.lru_files import evict_oldest, oldest_first
from relay_desktop.core.audio.peaks import fingerprint
from relay_desktop.core.audio.spectrogram import TILE_COLUMNS, Tile, TileKey, compute_tile

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
FORMAT_VERSION = 1
#: after an eviction the folder holds at most this share of ``max_bytes``
_EVICT_TO = 0.9


def tile_name(key: TileKey) -> str:
    """The file name of ``key`` inside its file's folder."""
    lane = "mix" if key.lane is None else f"ch{key.lane}"
    return f"v{FORMAT_VERSION}-w{key.window}-h{key.hop}-{lane}-{key.position}.npy"


class SpectrogramTileCache:
    """A size-limited folder of spectrogram tiles, least recently used evicted first."""

    def __init__(self, root: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)
        self._lock = threading.Lock()
        self._total: int | None = None  # bytes on disk, counted on the first store

    def path_for(self, file_key: str, key: TileKey) -> Path:
        return self.root / file_key[:2] / file_key / tile_name(key)

    def load(self, file_key: str, key: TileKey) -> np.ndarray | None:
        """The stored dB array of ``key`` (touched as used), or None (missing or unreadable)."""
        path = self.path_for(file_key, key)
        try:
            db = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError) as exc:
            log.warning("Dropping unreadable spectrogram tile %s: %s", path.name, exc)
            self._discard(path)
            return None
        if not _valid(db, key):
            log.warning("Dropping spectrogram tile %s with a wrong shape %s", path.name,
                        getattr(db, "shape", None))
            self._discard(path)
            return None
        try:
            now = time.time()
            os.utime(path, (now, now))
        except OSError:
            pass  # evicted meanwhile: the array is still good
        return db

    def store(self, file_key: str, key: TileKey, db: np.ndarray) -> None:
        """Write ``db`` for ``key`` atomically, then evict if the folder is over its limit."""
        path = self.path_for(file_key, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tile-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, np.ascontiguousarray(db, dtype=np.float32), allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        size = path.stat().st_size
        with self._lock:
            if self._total is None:
                self._total = self._scan_total()
            else:
                self._total += size
            over = self._total > self.max_bytes
        if over:
            self.evict()

    def _sized_entries(self) -> list[tuple[Path, int]]:
        if not self.root.is_dir():
            return []
        return oldest_first(self.root.glob("??/*/*.npy"))

    def entries(self) -> list[Path]:
        """Stored tiles, least recently used first."""
        return [path for path, _size in self._sized_entries()]

    def total_bytes(self) -> int:
        return self._scan_total()

    def evict(self) -> int:
        """Remove least recently used tiles until the folder fits; return how many."""
        with self._lock:
            files = self._sized_entries()
            total = sum(size for _path, size in files)
            limit = self.max_bytes * _EVICT_TO if total > self.max_bytes else self.max_bytes
            removed, self._total = evict_oldest(files, limit, remove=self._discard)
            return len(removed)

    def _scan_total(self) -> int:
        return sum(size for _path, size in self._sized_entries())

    def _discard(self, path: Path) -> None:
        try:
            path.unlink(missing_ok=True)
            os.rmdir(path.parent)  # only succeeds once the file's folder is empty
        except OSError:
            pass


def _valid(db: object, key: TileKey) -> bool:
    return (isinstance(db, np.ndarray) and db.dtype == np.float32 and db.ndim == 2
            and db.shape[1] == key.window // 2 + 1 and 0 < db.shape[0] <= TILE_COLUMNS)


class TileSource:
    """The tiles of one audio file: read from the cache when stored, else computed and stored."""

    def __init__(self, path: Path, cache: SpectrogramTileCache | None,
                 content_hash: str | None = None) -> None:
        self.path = Path(path)
        self.cache = cache
        self._content_hash = content_hash
        self._lock = threading.Lock()
        self._file_key: str | None = None
        self._keyed = False

    def file_key(self) -> str | None:
        """The file's fingerprint (computed once, off the GUI thread); None if unreadable."""
        with self._lock:
            if not self._keyed:
                try:
                    self._file_key = fingerprint(self.path, self._content_hash)
                except OSError as exc:
                    log.info("No spectrogram cache for %s: %s", self.path.name, exc)
                self._keyed = True
            return self._file_key

    def load_or_compute(self, key: TileKey, cancelled: CancelCheck | None = None) -> Tile:
        """Tile ``key``: from the cache, else computed (then stored; a failed store is logged)."""
        file_key = self.file_key() if self.cache is not None else None
        if self.cache is not None and file_key is not None:
            db = self.cache.load(file_key, key)
            if db is not None:
                return Tile(key, db, from_cache=True)
        tile = compute_tile(self.path, key, cancelled)
        if self.cache is not None and file_key is not None and tile.columns:
            try:
                self.cache.store(file_key, key, tile.db)
            except OSError as exc:
                log.warning("Cannot store a spectrogram tile of %s: %s", self.path.name, exc)
        return tile
