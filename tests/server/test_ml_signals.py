"""Frame signals, artifact-shaped runs and augmentation on small numpy-made audio."""

from __future__ import annotations

import numpy as np

from relay_server.ml import Region
from relay_server.ml.augment import with_room_tone
from relay_server.ml.candidates import dropout_runs, noise_runs
from relay_server.ml.features import FINE_MS, FrameExtractor, extract
from relay_server.ml.windows import Levels

RATE = 16_000


def _vowel(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    tone = sum(np.sin(2 * np.pi * 140 * h * t) / h for h in range(1, 12))
    return (0.3 * tone * (1 + 0.1 * rng.standard_normal(len(t)))).astype(np.float32)


def test_streaming_matches_one_block() -> None:
    audio = _vowel(2.3)
    whole = extract([audio])
    pieces = FrameExtractor()
    for start in range(0, len(audio), 4321):
        pieces.feed(audio[start:start + 4321])
    streamed = pieces.finish()
    assert streamed.slots == whole.slots == int(np.ceil(len(audio) / 160))
    assert np.allclose(streamed.logmel, whole.logmel, atol=1e-3)
    assert np.allclose(streamed.fine_db, whole.fine_db, atol=1e-3)


def test_dropout_and_burst_are_found_where_they_are() -> None:
    audio = _vowel(2.0)
    audio[8000:8800] = 0.0  # 50 ms dropout at 500 ms
    rng = np.random.default_rng(1)
    audio[20000:21280] = (0.5 * rng.standard_normal(1280)).astype(np.float32)  # 80 ms burst
    frames = extract([audio])
    levels = Levels.of(frames)
    starts, ends = dropout_runs(frames.fine_db, levels.speech_db, levels.floor_db)
    assert [(int(a) * FINE_MS, int(b) * FINE_MS) for a, b in zip(starts, ends, strict=True)] == [
        (500, 550)]
    starts, ends = noise_runs(frames, levels.speech_db)
    assert len(starts) == 1
    assert abs(int(starts[0]) * FINE_MS - 1250) <= 4 and abs(int(ends[0]) * FINE_MS - 1330) <= 4


def test_room_tone_spares_short_labelled_regions_only() -> None:
    audio = np.zeros(RATE, dtype=np.float32)
    regions = (Region("glitch", 100, 150), Region("long_pause", 300, 900))
    noisy = np.concatenate(list(with_room_tone([audio[:5000], audio[5000:]], -20.0, regions,
                                               seed=3)))
    assert len(noisy) == len(audio)
    assert not noisy[1600:2400].any()  # the 50 ms glitch is left as it was
    assert noisy[4800:14400].std() > 0  # the pause gets room tone
    level = 10 * np.log10(np.mean(noisy[3000:] ** 2))
    assert -20.0 - 46 < level < -20.0 - 24
