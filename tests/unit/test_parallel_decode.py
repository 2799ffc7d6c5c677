"""One file decoded on several threads: its spans, absorbed in order, give the one-pass levels."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.decode import AudioDecodeError, CancelFlag, DecodeCancelled, probe
from relay_desktop.core.audio.peaks import PeakPyramid
from relay_desktop.core.audio.progressive import GrowingPyramid
from relay_desktop.core.audio.spans import ReducedSpan, span_length
from relay_desktop.services import parallel_decode
from relay_desktop.services.parallel_decode import decoded_spans

FRAMES = 64 * 1500 + 37   # a partial last bucket


def write(path: Path, subtype: str, channels: int = 1, frames: int = FRAMES) -> Path:
    rng = np.random.default_rng(7)
    sf.write(str(path), rng.uniform(-1, 1, (frames, channels)), 16000, subtype=subtype)
    return path


def decode_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("relay-decode-")]


@pytest.mark.parametrize(("name", "subtype", "channels"), [
    ("a.wav", "PCM_16", 1), ("a.wav", "PCM_24", 2), ("a.flac", "PCM_16", 1),
    ("a.flac", "PCM_24", 2), ("a.wav", "FLOAT", 1), ("a.aiff", "PCM_16", 3)])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_spans_give_exactly_the_levels_of_one_pass(tmp_path: Path, name: str, subtype: str,
                                                   channels: int, workers: int) -> None:
    path = write(tmp_path / name, subtype, channels)
    expected = PeakPyramid.from_file(path, 4096)
    pyramid = GrowingPyramid.for_file(probe(path))
    reported: list[tuple[int, int]] = []
    # 5000 frames: not a whole number of buckets (rounded up), so spans cut across blocks
    pyramid.fill_spans(decoded_spans(path, probe(path), 5000, workers=workers),
                       lambda done, total: reported.append((done, total)))
    assert pyramid.complete and pyramid.frames == FRAMES
    assert len(pyramid.levels) == len(expected.levels)
    for ours, theirs in zip(pyramid.levels, expected.levels, strict=True):
        assert np.array_equal(ours, theirs)
    assert reported[-1] == (FRAMES, FRAMES)
    assert [done for done, _ in reported] == sorted(done for done, _ in reported)
    assert not decode_threads()


def test_spans_come_in_file_order_whatever_thread_finishes_first(tmp_path: Path) -> None:
    path = write(tmp_path / "a.wav", "PCM_16")
    spans = list(decoded_spans(path, probe(path), 1024, workers=3))
    length = span_length(1024)
    assert [s.start for s in spans] == [k * length for k in range(len(spans))]
    assert sum(s.frames for s in spans) == FRAMES and not any(s.ends_file for s in spans)


def test_a_wav_cut_short_shrinks_as_the_one_pass_does(tmp_path: Path) -> None:
    whole = write(tmp_path / "whole.wav", "PCM_16", 2)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2 + 3])
    info = probe(cut)
    serial = GrowingPyramid.for_file(info).decode(cut, 4096)
    ours = GrowingPyramid.for_file(info)
    ours.fill_spans(decoded_spans(cut, info, 4096))
    assert ours.frames == serial.frames < FRAMES
    for a, b in zip(ours.levels, serial.levels, strict=True):
        assert np.array_equal(a, b)


def test_a_damaged_file_fails_in_words_and_leaves_no_thread(tmp_path: Path) -> None:
    path = write(tmp_path / "a.flac", "PCM_16", frames=64 * 8000)
    data = bytearray(path.read_bytes())
    data[len(data) // 2:] = b"\0" * (len(data) - len(data) // 2)   # the second half wiped
    path.write_bytes(bytes(data))
    info = probe(path)
    with pytest.raises(AudioDecodeError, match=r"a\.flac"):
        GrowingPyramid.for_file(info).fill_spans(decoded_spans(path, info, 4096))
    assert not decode_threads()


def test_a_file_that_holds_no_frames_where_its_header_says_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path / "a.wav", "PCM_16")
    info = probe(path)
    empty = ReducedSpan(0, 0, 4096, np.zeros((0, 1, 2), dtype=np.float32))
    with pytest.raises(AudioDecodeError, match="no samples"):
        GrowingPyramid.for_file(info).fill_spans(iter([empty]))


def test_spans_out_of_order_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "a.wav", "PCM_16")
    spans = list(decoded_spans(path, probe(path), 4096))
    with pytest.raises(ValueError, match="next"):
        GrowingPyramid.for_file(probe(path)).fill_spans(iter([spans[1], spans[0]]))


def test_cancelling_stops_at_the_next_span_and_ends_the_threads(tmp_path: Path) -> None:
    path = write(tmp_path / "a.wav", "PCM_16")
    flag = CancelFlag()
    spans = decoded_spans(path, probe(path), 1024, workers=2, cancelled=flag)
    first = next(spans)
    assert first.start == 0 and decode_threads()
    flag.cancel()
    with pytest.raises(DecodeCancelled, match=r"a\.wav"):
        next(spans)
    assert not decode_threads()


def test_threads_stay_a_bounded_distance_ahead_and_stop_with_the_reader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_decode, "AHEAD_SPANS", 2)
    path = write(tmp_path / "a.wav", "PCM_16")
    decoded: list[int] = []
    real = parallel_decode.reduce_span

    def counting(snd: sf.SoundFile, index: int, span_frames: int, frames: int) -> ReducedSpan:
        decoded.append(index)
        return real(snd, index, span_frames, frames)

    monkeypatch.setattr(parallel_decode, "reduce_span", counting)
    spans: Iterator[ReducedSpan] = decoded_spans(path, probe(path), 1024, workers=2)
    next(spans)
    threading.Event().wait(0.3)   # the threads get every chance to run ahead
    assert sorted(decoded) == [0, 1]   # the one awaited (0) and the next: two spans
    spans.close()                     # a reader that stops early stops the threads
    assert not decode_threads()


def test_workers_follow_the_cores_within_two_to_four(monkeypatch: pytest.MonkeyPatch) -> None:
    for cores, expected in ((1, 2), (2, 2), (3, 3), (16, 4), (None, 2)):
        monkeypatch.setattr(parallel_decode.os, "cpu_count", lambda c=cores: c)
        assert parallel_decode.decode_workers() == expected


def test_spans_of_many_channels_are_shorter_so_a_threads_block_stays_small(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_decode, "MAX_SPAN_SAMPLES", 8192)
    path = write(tmp_path / "a.wav", "PCM_16", channels=8)
    info = probe(path)
    spans = list(decoded_spans(path, info, 1 << 20))
    assert {s.asked for s in spans[:-1]} == {1024}   # 8192 samples / 8 channels
    pyramid = GrowingPyramid.for_file(info)
    pyramid.fill_spans(iter(spans))
    for ours, theirs in zip(pyramid.levels, PeakPyramid.from_file(path).levels, strict=True):
        assert np.array_equal(ours, theirs)
