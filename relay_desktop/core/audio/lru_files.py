"""Least-recently-used eviction for a cache folder whose files' mtimes are their last use.

Both on-disk caches (audio files, spectrogram tiles) touch a file's mtime on
every hit, list their files oldest first and remove from the front until the
folder fits. A file that vanishes meanwhile (another process evicting, a user
clearing the folder) is skipped, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path


def oldest_first(paths: Iterable[Path]) -> list[tuple[Path, int]]:
    """``(path, size)`` of the files that exist, least recently used first."""
    found = []
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        found.append((st.st_mtime, path, st.st_size))
    found.sort(key=lambda entry: (entry[0], entry[1]))
    return [(path, size) for _mtime, path, size in found]


def evict_oldest(files: list[tuple[Path, int]], limit: float, remove: Callable[[Path], None],
                 keep: Callable[[Path], bool] | None = None) -> tuple[list[Path], int]:
    """Remove ``files`` (as :func:`oldest_first` lists them) from the front until their
    total is at most ``limit``, skipping those ``keep`` says to keep.

    Returns (the paths removed, the bytes left).
    """
    total = sum(size for _path, size in files)
    removed: list[Path] = []
    for path, size in files:
        if total <= limit:
            break
        if keep is not None and keep(path):
            continue
        remove(path)
        total -= size
        removed.append(path)
    return removed, total


__all__ = ["evict_oldest", "oldest_first"]
