"""Training-time augmentation: a copy of each training file with room tone under it.

Recordings differ in their noise floor; the demo-like training data has
digital silence. Adding a second copy of each training file with coloured
noise at a random level 25-45 dB under its speech level teaches the model
that silence is "quiet for this file", not "zero". Labelled regions shorter
than ``KEEP_SHORT_MS`` are left untouched, since such an artifact (a dropout,
a burst) replaces the recording, its noise included; longer ones (pauses)
get the room tone like everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from scipy.signal import lfilter

from relay_server.ml.audio import RATE
from relay_server.ml.records import Region

KEEP_SHORT_MS = 300
LEVEL_RANGE_DB = (25.0, 45.0)


def with_room_tone(blocks: Iterable[np.ndarray], speech_db: float, regions: Sequence[Region],
                   seed: int) -> Iterator[np.ndarray]:
    """Yield ``blocks`` with seeded coloured noise added (see the module doc)."""
    rng = np.random.default_rng(seed)
    level_db = speech_db - rng.uniform(*LEVEL_RANGE_DB)
    rms = 10 ** (level_db / 20)
    pole = rng.uniform(0.8, 0.98)
    gain = np.sqrt(1 - pole ** 2)  # unit-variance output for unit-variance input
    keep = [(r.start_ms * RATE // 1000, r.end_ms * RATE // 1000) for r in regions
            if r.end_ms - r.start_ms < KEEP_SHORT_MS]
    state = np.zeros(1)
    offset = 0
    for block in blocks:
        white = rng.standard_normal(len(block))
        coloured, state = lfilter([gain], [1.0, -pole], white, zi=state)
        noise = (rms * (0.7 * coloured + 0.3 * white)).astype(np.float32)
        for a, b in keep:
            lo, hi = max(a - offset, 0), min(b - offset, len(block))
            if lo < hi:
                noise[lo:hi] = 0.0
        offset += len(block)
        yield block + noise
