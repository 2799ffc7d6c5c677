"""Least-recently-used eviction shared by the audio and spectrogram caches."""

from __future__ import annotations

import os
from pathlib import Path

from relay_desktop.core.audio.lru_files import evict_oldest, oldest_first


def _files(tmp_path: Path, sizes: dict[str, int]) -> list[Path]:
    paths = []
    for age, (name, size) in enumerate(sizes.items()):
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        os.utime(path, (1000 + age, 1000 + age))  # listed order: oldest first
        paths.append(path)
    return paths


def test_files_are_listed_oldest_first_and_a_vanished_one_is_skipped(tmp_path: Path) -> None:
    a, b, c = _files(tmp_path, {"a": 10, "b": 20, "c": 30})
    os.utime(a, (2000, 2000))   # used again: now the newest
    gone = tmp_path / "gone"
    assert oldest_first([a, b, c, gone]) == [(b, 20), (c, 30), (a, 10)]


def test_eviction_stops_once_the_rest_fits_and_keeps_what_it_is_told_to(tmp_path: Path) -> None:
    a, b, c, d = _files(tmp_path, {"a": 10, "b": 20, "c": 30, "d": 40})
    removed, left = evict_oldest(oldest_first([a, b, c, d]), 50,
                                 remove=lambda p: p.unlink(), keep=lambda p: p == b)
    # 100 bytes over a 50 limit: a goes (90), b is kept, c goes (60), d goes (20)
    assert (removed, left) == ([a, c, d], 20)
    assert b.exists() and not any(p.exists() for p in (a, c, d))


def test_nothing_is_removed_when_the_files_fit(tmp_path: Path) -> None:
    files = oldest_first(_files(tmp_path, {"a": 10, "b": 20}))
    assert evict_oldest(files, 30, remove=lambda p: p.unlink()) == ([], 30)
