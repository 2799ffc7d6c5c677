"""Time formatting, spectrogram tiles and the content-addressed audio cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.cache import AudioCache, remote_key, sha256_file
from relay_desktop.core.audio.spectrogram import (
    TILE_COLUMNS,
    TileKey,
    compute_tile,
    hop_for,
    tiles_for_range,
)
from relay_desktop.core.audio.timefmt import format_time, parse_time, tick_decimals


def test_format_and_parse_time() -> None:
    assert format_time(0) == "0:00:00.000"
    assert format_time(3723.0456) == "1:02:03.046"
    assert format_time(59.9996) == "0:01:00.000"
    assert format_time(-1.5) == "-0:00:01.500"
    assert format_time(float("nan")) == "--:--"
    assert format_time(36000, decimals=0) == "10:00:00"
    assert parse_time("1:02:03.5") == pytest.approx(3723.5)
    assert parse_time("02:03.25") == pytest.approx(123.25)
    assert parse_time("12.5") == pytest.approx(12.5)
    with pytest.raises(ValueError, match="not a time"):
        parse_time("abc")
    with pytest.raises(ValueError, match="below 60"):
        parse_time("1:75")
    assert [tick_decimals(s) for s in (5, 0.5, 0.05, 0.001, 0.0002, 1e-9)] == [0, 1, 2, 3, 4, 6]


def test_spectrogram_tile_finds_a_tone(tmp_path: Path) -> None:
    rate = 16000
    t = np.arange(rate * 2) / rate
    path = tmp_path / "tone.wav"
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), rate)
    tile = compute_tile(path, TileKey(window=512, hop=64, position=0, lane=None))
    assert tile.db.shape == (TILE_COLUMNS, 257)
    peak_bin = int(np.argmax(tile.db[100]))
    assert peak_bin * rate / 512 == pytest.approx(1000, abs=rate / 512)
    assert tile.db[100, peak_bin] == pytest.approx(20 * np.log10(0.5), abs=1.5)
    # zoomed out: the hop is larger than the window
    coarse = compute_tile(path, TileKey(window=256, hop=hop_for(256, 400), position=0, lane=0))
    assert coarse.columns == (rate * 2 - 1) // 512 + 1
    assert np.all(np.argmax(coarse.db, axis=1)[1:-1] == 16)


def test_tile_ranges() -> None:
    assert hop_for(1024, 10) == 256
    assert hop_for(1024, 300) == 512
    tiles = tiles_for_range(1024, 256, 0, 256 * TILE_COLUMNS * 3, total_frames=10**7)
    assert list(tiles) == [0, 1, 2, 3]
    assert list(tiles_for_range(1024, 256, 0, 10**9, total_frames=1000)) == [0]


def test_cache_add_lookup_and_lru_eviction(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path / "audio", max_bytes=2500)
    files = []
    for i in range(3):
        src = tmp_path / f"f{i}.wav"
        src.write_bytes(bytes([i]) * 1000)
        files.append(src)
    a = cache.add(files[0])
    assert a.name == sha256_file(files[0]) + ".wav"
    assert cache.add(files[0]) == a, "same content, same entry"
    b = cache.add(files[1])
    old = time.time() - 100
    os.utime(a, (old, old))
    os.utime(b, (old + 50, old + 50))
    assert cache.get(sha256_file(files[0])) == a  # touching a makes b the LRU
    c = cache.add(files[2])
    assert a.exists() and c.exists() and not b.exists()
    assert cache.total_bytes() <= 2500


def test_remote_index_and_local_copies(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path / "audio")
    dl = tmp_path / "download.flac"
    dl.write_bytes(b"fLaC" + b"x" * 100)
    key = remote_key("http://h:1/", "d1", "a1", 104)
    assert cache.lookup_remote(key) is None
    stored = cache.store_remote(key, dl)
    assert not dl.exists(), "downloads are moved, not copied"
    assert cache.lookup_remote(key) == stored
    assert cache.local_copy("d1", "a1") is None
    original = tmp_path / "orig.wav"
    original.write_bytes(b"RIFF")
    cache.remember_local("d1", "a1", original)
    assert AudioCache(tmp_path / "audio").local_copy("d1", "a1") == original.resolve()
    original.unlink()
    assert cache.local_copy("d1", "a1") is None
