"""Peaks from integer samples (read without converting them) equal peaks from floats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.decode import iter_blocks, native_dtype, probe
from relay_desktop.core.audio.peaks import PeakPyramid, PeakReducer
from relay_desktop.core.audio.progressive import GrowingPyramid


@pytest.mark.parametrize(("name", "subtype", "channels"), [
    ("a.wav", "PCM_16", 1), ("a.wav", "PCM_16", 2), ("a.wav", "PCM_24", 1),
    ("a.wav", "PCM_U8", 1), ("a.flac", "PCM_16", 1), ("a.flac", "PCM_24", 2),
    ("a.wav", "FLOAT", 1)])
def test_native_read_gives_the_float_reads_levels(tmp_path: Path, name: str, subtype: str,
                                                  channels: int) -> None:
    rng = np.random.default_rng(3)
    path = tmp_path / name
    frames = 64 * 1000 + 37   # a partial last bucket, and blocks that split buckets
    sf.write(str(path), rng.uniform(-1, 1, (frames, channels)), 16000, subtype=subtype)
    reference = PeakReducer(channels, frames)
    for block in iter_blocks(path, 10_000):   # floats, as libsndfile converts them
        assert block.dtype == np.float32
        reference.push(block)
    expected = PeakPyramid.from_level0(reference.finish(), 16000, frames, channels)
    native = list(iter_blocks(path, 10_000, native=True))
    assert native[0].dtype == np.dtype(native_dtype(subtype))
    for pyramid in (PeakPyramid.from_file(path, 10_000),
                    GrowingPyramid.for_file(probe(path)).decode(path, 10_000)):
        assert len(pyramid.levels) == len(expected.levels)
        for ours, theirs in zip(pyramid.levels, expected.levels, strict=True):
            assert ours.dtype == np.float32
            assert np.array_equal(ours, theirs)


def test_integer_types_only_where_they_hold_the_samples_exactly() -> None:
    assert native_dtype("PCM_16") == "int16" and native_dtype("PCM_24") == "int32"
    for subtype in ("PCM_32", "FLOAT", "DOUBLE", "VORBIS", "MPEG_LAYER_III", "ULAW"):
        assert native_dtype(subtype) == "float32"
