"""A streaming polyphase resampler that matches a one-shot ``resample_poly``.

Each block is resampled with enough signal on both sides that the filter
never sees an artificial edge, so block boundaries leave no trace and a
file of any length is resampled in constant memory.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import resample_poly


class StreamResampler:
    """Resample a stream of float32 blocks from ``rate_in`` to ``rate_out``."""

    def __init__(self, rate_in: int, rate_out: int) -> None:
        g = math.gcd(rate_in, rate_out)
        self.up = rate_out // g
        self.down = rate_in // g
        reach = math.ceil(10 * max(self.up, self.down) / self.up) + 2
        self.pad = math.ceil(reach / self.down) * self.down
        self._buf = np.zeros(self.pad, dtype=np.float32)  # left context, then pending input
        self._seen = 0
        self._emitted = 0

    @property
    def passthrough(self) -> bool:
        return self.up == self.down

    def _run(self, segment: np.ndarray, core: int) -> np.ndarray:
        out = resample_poly(segment, self.up, self.down).astype(np.float32)
        first = self.pad * self.up // self.down
        return out[first:first + core * self.up // self.down]

    def process(self, block: np.ndarray) -> np.ndarray:
        """Feed input; return the output that is now final."""
        if self.passthrough:
            self._seen += len(block)
            return block.astype(np.float32, copy=False)
        self._seen += len(block)
        self._buf = np.concatenate([self._buf, block.astype(np.float32, copy=False)])
        pending = len(self._buf) - 2 * self.pad
        core = (pending // self.down) * self.down
        if core <= 0:
            return np.zeros(0, dtype=np.float32)
        out = self._run(self._buf[:core + 2 * self.pad], core)
        self._buf = self._buf[core:]
        self._emitted += len(out)
        return out

    def flush(self) -> np.ndarray:
        """The output for the input still held back (call once, at the end)."""
        if self.passthrough:
            return np.zeros(0, dtype=np.float32)
        total = math.ceil(self._seen * self.up / self.down)
        need = total - self._emitted
        if need <= 0:
            return np.zeros(0, dtype=np.float32)
        pending = len(self._buf) - self.pad
        core = math.ceil(pending / self.down) * self.down
        segment = np.concatenate(
            [self._buf, np.zeros(core - pending + self.pad, dtype=np.float32)])
        out = self._run(segment, core)[:need]
        self._emitted += len(out)
        self._buf = np.zeros(self.pad, dtype=np.float32)
        return out
