"""Spectrogram tile planning (visible first, then the rest) and the on-disk tile cache."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.decode import CancelFlag, DecodeCancelled
from relay_desktop.core.audio.spectrogram import (
    TILE_COLUMNS,
    TileKey,
    compute_tile,
    contiguous_hops,
    hop_for,
    plan_tiles,
    stft_db,
    tiles_for_range,
)
from relay_desktop.core.audio.spectrogram_cache import SpectrogramTileCache, TileSource

RATE = 8000


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    t = np.arange(RATE * 6) / RATE
    path = tmp_path_factory.mktemp("spec") / "tone.wav"
    sf.write(str(path), (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), RATE)
    return path


def test_plan_puts_visible_tiles_first_nearest_the_centre() -> None:
    total = 10**8
    hop = hop_for(1024, 1000)
    width = hop * TILE_COLUMNS
    start, stop = 20.2 * width, 26.2 * width  # the centre is in tile 23
    pixels = 6 * TILE_COLUMNS  # one column per pixel at this hop
    plan = plan_tiles(1024, start, stop, pixels, total)
    assert [k.position for k in plan.visible] == [23, 22, 24, 21, 25, 20, 26]
    assert {k.hop for k in plan.visible} == {hop}
    # one screen either side, nearest first, none of them visible
    assert [k.position for k in plan.nearby][:2] == [19, 27]
    assert {k.position for k in plan.nearby} == set(range(14, 33)) - set(range(20, 27))
    # the whole file at the hop that puts it across the same width
    whole_hop = hop_for(1024, total / pixels)
    assert [k.position for k in plan.overview] == list(
        tiles_for_range(1024, whole_hop, 0, total, total))
    assert all(k.hop == whole_hop for k in plan.overview)
    everything = plan.visible + plan.nearby + plan.overview
    assert len(everything) == len(set(everything))


def test_plan_at_fit_zoom_has_nothing_left_for_the_background() -> None:
    plan = plan_tiles(1024, 0, 10**6, 800, 10**6)
    assert plan.visible and not plan.nearby and not plan.overview


def test_tiles_are_stored_and_read_back_without_recomputing(tone: Path, tmp_path: Path) -> None:
    cache = SpectrogramTileCache(tmp_path / "spec")
    key = TileKey(512, 128, 0, None)
    first = TileSource(tone, cache).load_or_compute(key)
    assert not first.from_cache and first.columns == TILE_COLUMNS
    assert len(cache.entries()) == 1
    again = TileSource(tone, cache).load_or_compute(key)  # a new source: as on reopening
    assert again.from_cache
    np.testing.assert_array_equal(again.db, first.db)
    other = TileSource(tone, cache).load_or_compute(TileKey(256, 128, 0, None))
    assert not other.from_cache, "another window is another tile"


@pytest.mark.parametrize("damage", ["garbage", "empty", "wrong-shape", "pickle"])
def test_a_damaged_entry_is_recomputed(tone: Path, tmp_path: Path, damage: str) -> None:
    cache = SpectrogramTileCache(tmp_path / "spec")
    source = TileSource(tone, cache)
    key = TileKey(512, 128, 0, None)
    good = source.load_or_compute(key).db
    stored = cache.path_for(source.file_key() or "", key)
    if damage == "garbage":
        stored.write_bytes(b"\x93NUMPY garbage" * 10)
    elif damage == "empty":
        stored.write_bytes(b"")
    elif damage == "wrong-shape":
        np.save(stored, np.zeros((3, 7), dtype=np.float32))
    else:
        np.save(stored, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    tile = source.load_or_compute(key)
    assert not tile.from_cache
    np.testing.assert_array_equal(tile.db, good)
    assert source.load_or_compute(key).from_cache, "the recomputed tile was stored again"


def test_a_changed_file_gets_new_tiles(tmp_path: Path) -> None:
    path = tmp_path / "take.wav"
    sf.write(str(path), np.zeros(RATE, dtype=np.float32), RATE)
    cache = SpectrogramTileCache(tmp_path / "spec")
    key = TileKey(256, 64, 0, None)
    TileSource(path, cache).load_or_compute(key)
    sf.write(str(path), np.full(RATE, 0.5, dtype=np.float32), RATE)
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert not TileSource(path, cache).load_or_compute(key).from_cache


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(tmp_path: Path) -> None:
    one = np.zeros((TILE_COLUMNS, 129), dtype=np.float32)
    size = 128 + one.nbytes  # the .npy header and the array
    cache = SpectrogramTileCache(tmp_path / "spec", max_bytes=int(size * 4.5))
    keys = [TileKey(256, 64, i, None) for i in range(6)]
    for i, key in enumerate(keys[:4]):
        cache.store("ab" * 20, key, one)
        past = time.time() - 100 + i
        os.utime(cache.path_for("ab" * 20, key), (past, past))
    assert cache.load("ab" * 20, keys[0]) is not None  # used: now the most recent
    cache.store("ab" * 20, keys[4], one)
    cache.store("ab" * 20, keys[5], one)
    assert cache.total_bytes() <= cache.max_bytes
    assert cache.load("ab" * 20, keys[1]) is None, "the least recently used went first"
    assert cache.load("ab" * 20, keys[0]) is not None
    assert cache.load("ab" * 20, keys[5]) is not None


def test_a_missing_file_has_no_cache_key_and_fails_in_words(tmp_path: Path) -> None:
    source = TileSource(tmp_path / "gone.wav", SpectrogramTileCache(tmp_path / "spec"))
    assert source.file_key() is None
    with pytest.raises(Exception, match="does not exist"):
        source.load_or_compute(TileKey(256, 64, 0, None))


def test_a_zoomed_out_tile_can_be_cancelled_between_reads(tone: Path) -> None:
    flag = CancelFlag()
    flag.cancel()
    key = TileKey(256, 256 * (contiguous_hops("WAV") + 1), 0, None)  # read column by column
    with pytest.raises(DecodeCancelled):
        compute_tile(tone, key, flag)


@pytest.mark.parametrize("channels,lane", [(1, None), (2, None), (2, 1)])
@pytest.mark.parametrize("container", ["WAV", "FLAC"])
# a contiguous read, one that skips what lies between the windows, one seek per column
@pytest.mark.parametrize("hops", [0.25, 2, 8, 9])
def test_tile_columns_are_the_stft_of_their_windows(tmp_path: Path, channels: int,
                                                    lane: int | None, container: str,
                                                    hops: float) -> None:
    hop = int(512 * hops)
    rng = np.random.default_rng(channels + hop)
    data = rng.uniform(-0.5, 0.5, (RATE * 3, channels)).astype(np.float32)
    path = tmp_path / f"noise.{container.lower()}"
    sf.write(str(path), data, RATE, format=container,
             subtype="FLOAT" if container == "WAV" else "PCM_16")
    tile = compute_tile(path, TileKey(512, hop, 0, lane))
    stored, _ = sf.read(str(path), dtype="float32", always_2d=True)  # FLAC: 16-bit samples
    signal = stored.mean(axis=1) if lane is None else stored[:, lane]
    padded = np.concatenate([np.zeros(256, np.float32), signal, np.zeros(512, np.float32)])
    windows = np.stack([padded[c * hop: c * hop + 512] for c in range(tile.columns)])
    assert tile.columns == min(TILE_COLUMNS, (len(signal) - 1) // hop + 1)
    np.testing.assert_allclose(tile.db, stft_db(windows, 512), atol=1e-3)


def test_compressed_files_read_wider_hops_in_one_piece() -> None:
    assert contiguous_hops("WAV") == contiguous_hops("AIFF") == 2
    assert contiguous_hops("FLAC") == contiguous_hops("ogg") == 8
