"""Decoding any file soundfile reads into 16 kHz mono blocks, never the whole file at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from relay_server.processing.decode import info, mono_blocks, open_audio
from relay_server.processing.resample import StreamResampler

RATE = 16_000


def blocks_16k(path: Path) -> Iterator[np.ndarray]:
    """Yield float32 mono blocks at 16 kHz; raise AudioError for unreadable input."""
    handle = open_audio(path)
    with handle:
        source = info(handle)
        resampler = StreamResampler(source.sample_rate, RATE)
        for block in mono_blocks(handle):
            out = resampler.process(block)
            if len(out):
                yield out
        tail = resampler.flush()
        if len(tail):
            yield tail
