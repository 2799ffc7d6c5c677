"""GrowingPyramid: filled block by block, readable meanwhile, equal to the one-pass pyramid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.decode import AudioInfo, probe
from relay_desktop.core.audio.peaks import PeakCache, PeakPyramid
from relay_desktop.core.audio.progressive import GrowingPyramid, level_sizes
from relay_desktop.core.audio.seeking import seeks_fast


def noise_file(path: Path, frames: int, channels: int, rate: int = 16000) -> Path:
    rng = np.random.default_rng(frames + channels)
    sf.write(str(path), rng.uniform(-1, 1, (frames, channels)).astype(np.float32), rate)
    return path


@pytest.mark.parametrize(("frames", "channels"), [(5, 1), (64 * 513, 1), (100_003, 2),
                                                  (64 * 4 * 512 + 1, 3)])
@pytest.mark.parametrize("block", [1000, 4096, 77_777])
def test_final_levels_equal_the_one_pass_pyramid(tmp_path: Path, frames: int, channels: int,
                                                  block: int) -> None:
    path = noise_file(tmp_path / "a.flac", frames, channels)
    full = PeakPyramid.from_file(path)
    grown = GrowingPyramid.for_file(probe(path)).decode(path, block)
    assert grown.is_complete() and grown.frames == full.frames == frames
    assert len(grown.levels) == len(full.levels)
    for ours, theirs in zip(grown.levels, full.levels, strict=True):
        assert np.array_equal(ours, theirs)


def test_partial_pyramid_describes_exactly_what_was_decoded(tmp_path: Path) -> None:
    frames, block = 200_000, 8192
    path = noise_file(tmp_path / "a.wav", frames, 2)
    data = sf.read(str(path), dtype="float32", always_2d=True)[0]
    full = PeakPyramid.from_file(path)
    grown = GrowingPyramid.for_file(probe(path))
    assert grown.decoded_until() == 0 and not grown.is_complete()
    assert [len(level) for level in grown.levels] == level_sizes(frames)
    seen: list[int] = []
    blocks = (data[i:i + block] for i in range(0, frames, block))

    def check(decoded: int, total: int) -> None:
        seen.append(decoded)
        assert total == frames and decoded <= frames
        # every level's available buckets hold their final values (the last may be partial)
        for k, level in enumerate(grown.levels):
            n = grown.available_buckets(k)
            assert n * grown.bucket_frames(k) >= decoded
            assert np.array_equal(level[: n - 1], full.levels[k][: n - 1])
        env = grown.envelope(0, frames, grown.lane(None), 100)
        assert env is not None
        assert env[0][-1] < decoded, "nothing drawn past the decoded edge"

    grown.fill(blocks, check)
    assert seen == sorted(seen) and seen[0] < frames
    assert grown.decoded_until() == frames and grown.is_complete()


def test_a_file_shorter_than_its_header_ends_early(tmp_path: Path) -> None:
    path = noise_file(tmp_path / "a.wav", 50_000, 1)
    header = probe(path)
    promised = AudioInfo(path=path, frames=90_000, sample_rate=header.sample_rate,
                         channels=1, format=header.format, subtype=header.subtype,
                         format_info=header.format_info)
    grown = GrowingPyramid.for_file(promised).decode(path, 4096)
    full = PeakPyramid.from_file(path)
    assert grown.is_complete() and grown.frames == 50_000
    assert [len(level) for level in grown.levels] == [len(level) for level in full.levels]
    for ours, theirs in zip(grown.levels, full.levels, strict=True):
        assert np.array_equal(ours, theirs)


def test_store_saves_a_grown_pyramid_for_the_next_open(tmp_path: Path) -> None:
    path = noise_file(tmp_path / "a.flac", 30_000, 1)
    cache = PeakCache(tmp_path / "peaks")
    key = cache.key_of(path)
    grown = GrowingPyramid.for_file(probe(path)).decode(path, 4096)
    cache.store(path, grown, key)
    loaded = cache.open(path)
    assert loaded is not None and loaded.frames == 30_000
    assert np.array_equal(np.asarray(loaded.levels[0]), grown.levels[0])


def test_formats_that_seek_fast(tmp_path: Path) -> None:
    wav = probe(noise_file(tmp_path / "a.wav", 1000, 1))
    flac = probe(noise_file(tmp_path / "a.flac", 1000, 1))
    ogg_path = tmp_path / "a.ogg"
    sf.write(str(ogg_path), np.zeros(4000, dtype=np.float32), 16000, format="OGG")
    assert seeks_fast(wav) and seeks_fast(flac) and not seeks_fast(probe(ogg_path))
