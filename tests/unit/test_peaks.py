"""Peak pyramid: correctness against numpy, streaming, disk cache and invalidation."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.peaks import (
    BASE_BUCKET,
    FACTOR,
    PeakCache,
    PeakPyramid,
    PeakReducer,
    fingerprint,
    minmax,
    reduce_level,
)


def reference(data: np.ndarray, bucket: int) -> np.ndarray:
    """Per-bucket min/max with a plain Python loop over numpy slices."""
    rows = []
    for i in range(0, len(data), bucket):
        chunk = data[i:i + bucket]
        rows.append(np.stack([chunk.min(axis=0), chunk.max(axis=0)], axis=-1))
    return np.array(rows, dtype=np.float32)


def lanes_of(data: np.ndarray) -> np.ndarray:
    if data.shape[1] == 1:
        return data
    return np.concatenate([data, data.mean(axis=1, keepdims=True)], axis=1).astype(np.float32)


@pytest.mark.parametrize("frames", [1, 63, 64, 65, 1000, 4097, 100_003])
@pytest.mark.parametrize("channels", [1, 2, 3])
def test_streaming_levels_match_numpy(frames: int, channels: int) -> None:
    rng = np.random.default_rng(frames * 10 + channels)
    data = rng.uniform(-1, 1, (frames, channels)).astype(np.float32)
    # odd block sizes exercise the remainder carried between blocks
    blocks = [data[i:i + 777] for i in range(0, frames, 777)]
    pyramid = PeakPyramid.from_blocks(blocks, 8000, channels)
    lanes = lanes_of(data)
    assert pyramid.frames == frames
    assert pyramid.lanes == lanes.shape[1]
    for level, got in enumerate(pyramid.levels):
        expected = reference(lanes, BASE_BUCKET * FACTOR**level)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_reduce_level_handles_partial_groups() -> None:
    rng = np.random.default_rng(1)
    data = rng.normal(size=(1234, 2)).astype(np.float32)
    level0 = minmax(data, 64)
    np.testing.assert_array_equal(reduce_level(level0, 4), minmax(data, 256))


def test_reducer_rejects_wrong_channel_count() -> None:
    reducer = PeakReducer(2)
    with pytest.raises(ValueError, match="expected"):
        reducer.push(np.zeros((10, 1), dtype=np.float32))


def test_level_choice_and_envelope_cover_the_range() -> None:
    rng = np.random.default_rng(2)
    data = rng.uniform(-1, 1, (200_000, 1)).astype(np.float32)
    data[123_456, 0] = 1.5  # a spike must survive every reduction
    pyramid = PeakPyramid.from_blocks([data], 48000, 1)
    assert pyramid.level_for(10) is None          # raw samples when zoomed in
    assert pyramid.level_for(64) == 0
    assert pyramid.level_for(300) == 1
    starts, mins, maxs = pyramid.envelope(0, 200_000, pyramid.lane(None), 800)  # type: ignore[misc]
    assert len(starts) <= 2 * 800
    assert maxs.max() == pytest.approx(1.5)
    assert mins.min() == pytest.approx(data.min())
    assert pyramid.envelope(1000, 1100, 0, 800) is None


def write(path: Path, data: np.ndarray, rate: int = 16000) -> Path:
    sf.write(str(path), data, rate)
    return path


def test_cache_roundtrip_is_memory_mapped(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    data = rng.uniform(-0.9, 0.9, (50_001, 2)).astype(np.float32)
    audio = write(tmp_path / "a.flac", data)
    cache = PeakCache(tmp_path / "peaks")
    assert cache.open(audio) is None
    built = cache.build(audio)
    reopened = cache.open(audio)
    assert reopened is not None
    assert isinstance(reopened.levels[0], np.memmap)
    assert reopened.frames == built.frames == 50_001
    for a, b in zip(built.levels, reopened.levels, strict=True):
        np.testing.assert_array_equal(a, b)
    decoded, _ = sf.read(str(audio), dtype="float32", always_2d=True)
    np.testing.assert_allclose(reopened.levels[0], reference(lanes_of(decoded), 64), atol=1e-6)


def test_cache_invalidates_when_the_file_changes(tmp_path: Path) -> None:
    audio = write(tmp_path / "b.wav", np.full((10_000, 1), 0.25, dtype=np.float32))
    cache = PeakCache(tmp_path / "peaks")
    first = cache.build(audio)
    assert first.levels[0][:, 0, 1].max() == pytest.approx(0.25, abs=1e-3)
    old_folder = first.folder
    write(audio, np.full((12_000, 1), -0.5, dtype=np.float32))
    st = audio.stat()
    os.utime(audio, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    assert cache.open(audio) is None, "a changed file must not reuse the stale pyramid"
    second = cache.open_or_build(audio)
    assert second.frames == 12_000
    assert second.levels[0][:, 0, 0].min() == pytest.approx(-0.5, abs=1e-3)
    assert old_folder is not None and not old_folder.exists(), "stale pyramid is removed"


def test_corrupt_cache_entry_is_rebuilt(tmp_path: Path) -> None:
    audio = write(tmp_path / "c.wav", np.zeros((5000, 1), dtype=np.float32))
    cache = PeakCache(tmp_path / "peaks")
    built = cache.build(audio)
    assert built.folder is not None
    (built.folder / "level0.npy").write_bytes(b"garbage")
    assert cache.open(audio) is None
    assert cache.open_or_build(audio).frames == 5000


def test_decoding_ahead_gives_the_same_pyramid_and_stops_cleanly(tmp_path: Path) -> None:
    import threading

    from relay_desktop.core.audio.decode import AudioDecodeError, iter_blocks
    from relay_desktop.services.audio_tasks import prefetched

    rng = np.random.default_rng(5)
    audio = write(tmp_path / "p.flac", rng.uniform(-0.5, 0.5, (70_001, 2)).astype(np.float32))
    serial = PeakPyramid.from_file(audio, 4096)
    ahead = PeakPyramid.from_file(audio, 4096, prefetch=prefetched)
    for a, b in zip(serial.levels, ahead.levels, strict=True):
        np.testing.assert_array_equal(a, b)
    before = threading.active_count()
    blocks = prefetched(iter_blocks(audio, 1000))
    next(blocks)
    blocks.close()  # the consumer stops early: the decoding thread must end too
    assert threading.active_count() == before

    def failing():
        yield np.zeros((10, 1), dtype=np.float32)
        raise AudioDecodeError("Cannot decode x: broken.")

    with pytest.raises(AudioDecodeError, match="broken"):
        list(prefetched(failing()))


@pytest.mark.parametrize("factor", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("lanes", [1, 3])
def test_reduce_level_agrees_with_a_plain_reduction_of_each_group(factor: int,
                                                                  lanes: int) -> None:
    level = np.random.default_rng(factor).standard_normal((1001, lanes, 2)).astype(np.float32)
    groups = [level[i:i + factor] for i in range(0, len(level), factor)]
    expected = np.stack([np.stack([g[..., 0].min(axis=0), g[..., 1].max(axis=0)], axis=-1)
                         for g in groups])
    np.testing.assert_array_equal(reduce_level(level, factor), expected)


def test_peaks_of_a_file_in_the_audio_cache_survive_the_cache_touching_it(
        tmp_path: Path) -> None:
    from relay_desktop.core.audio.cache import AudioCache

    src = tmp_path / "take.wav"
    sf.write(str(src), np.linspace(-0.5, 0.5, 20_000, dtype=np.float32), 16000)
    audio = AudioCache(tmp_path / "audio")
    cached = audio.add(src)
    digest = audio.digest_of(cached)
    assert digest is not None
    peaks = PeakCache(tmp_path / "peaks")
    peaks.build(cached, digest)
    os.utime(cached, ns=(1, 1))            # an old mtime, then a hit touches it again
    assert audio.get(digest) == cached
    assert peaks.open(cached, digest) is not None, "a hit of the audio cache kept its peaks"
    # a file known only by its path: a new mtime may mean new content, so a new key
    key = fingerprint(src)
    os.utime(src, ns=(2, 2))
    assert fingerprint(src) != key
