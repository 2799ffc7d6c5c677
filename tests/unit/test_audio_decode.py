"""Block decoding: formats, channels, windows, zero crossings and clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.core.audio.decode import (
    AudioDecodeError,
    CancelFlag,
    DecodeCancelled,
    iter_blocks,
    nearest_zero_crossing,
    probe,
    read_window,
)


@pytest.mark.parametrize(("suffix", "rate", "channels"),
                         [(".wav", 8000, 1), (".flac", 44100, 2), (".ogg", 22050, 1),
                          (".aiff", 96000, 3)])
def test_blocks_cover_the_file(tmp_path: Path, suffix: str, rate: int, channels: int) -> None:
    rng = np.random.default_rng(0)
    data = (rng.uniform(-0.5, 0.5, (rate // 2 + 17, channels))).astype(np.float32)
    path = tmp_path / f"x{suffix}"
    sf.write(str(path), data, rate)
    info = probe(path)
    assert (info.sample_rate, info.channels) == (rate, channels)
    blocks = list(iter_blocks(path, 1000))
    assert all(b.dtype == np.float32 and b.shape[1] == channels for b in blocks)
    assert sum(len(b) for b in blocks) == info.frames
    if suffix != ".ogg":  # lossy
        np.testing.assert_allclose(np.concatenate(blocks), data, atol=1e-3)


def test_mp3_decodes_when_libsndfile_supports_it(tmp_path: Path) -> None:
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    path = tmp_path / "x.mp3"
    t = np.arange(16000) / 16000
    sf.write(str(path), (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16000)
    info = probe(path)
    assert info.sample_rate == 16000
    assert sum(len(b) for b in iter_blocks(path)) > 15000


def test_window_and_zero_crossing(tmp_path: Path) -> None:
    rate = 8000
    t = np.arange(rate) / rate
    path = tmp_path / "sine.wav"
    sf.write(str(path), np.sin(2 * np.pi * 100 * t).astype(np.float32), rate, subtype="FLOAT")
    window = read_window(path, 100, 300)
    assert window.shape == (200, 1)
    assert read_window(path, rate - 10, rate + 10).shape == (10, 1)
    # 100 Hz sine crosses zero every 5 ms
    near = read_window(path, 0, 200)
    snapped = nearest_zero_crossing(near, 0, rate, 0.0123, window_ms=4)
    assert snapped == pytest.approx(0.010, abs=1 / rate)


def test_cancel_between_blocks(tmp_path: Path) -> None:
    path = tmp_path / "c.wav"
    sf.write(str(path), np.zeros(10_000, dtype=np.float32), 8000)
    flag = CancelFlag()
    seen = 0
    with pytest.raises(DecodeCancelled):
        for _ in iter_blocks(path, 1000, cancelled=flag):
            seen += 1
            flag.cancel()
    assert seen == 1


def test_errors_are_sentences(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n" * 20)
    good = tmp_path / "good.flac"
    sf.write(str(good), np.random.default_rng(1).normal(0, 0.1, (20000, 2)), 16000)
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    cases = {empty: "empty", text: "not in an audio format", tmp_path / "missing.wav": "not exist",
             tmp_path: "folder"}
    for path, words in cases.items():
        with pytest.raises(AudioDecodeError) as err:
            probe(path)
        assert words in str(err.value)
        assert str(err.value).startswith("Cannot")
    # a truncated file either fails with a sentence or decodes what is there
    try:
        decoded = sum(len(b) for b in iter_blocks(truncated))
    except AudioDecodeError as exc:
        assert "truncated" in str(exc) or "damaged" in str(exc)
    else:
        assert 0 < decoded <= 20000


def test_truncated_wav_ends_early(tmp_path: Path) -> None:
    good = tmp_path / "good.wav"
    sf.write(str(good), np.ones((10_000, 1), dtype=np.float32) * 0.5, 8000)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(good.read_bytes()[:10_044])
    frames = sum(len(b) for b in iter_blocks(cut, 4096))
    assert 0 < frames < 10_000
