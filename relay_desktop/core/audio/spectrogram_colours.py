"""Colouring spectrogram tiles: dB values to RGB32 pixels, on whichever thread asks.

A :class:`Colouring` maps dB values through a dB range onto a 256-entry colour
table the way pyqtgraph's ImageItem applies ``levels`` and ``lut`` (value ``v``
takes entry ``floor((v - low) * 256 / (high - low))``, clipped to the table),
and lays the result out as a ``QImage`` of format RGB32 wants it: 0xffRRGGBB
words, one row per frequency bin (lowest first), one pixel per STFT column.
Tile workers colour what they compute, so the GUI thread only wraps pixels
(colouring a tile costs about a millisecond, converting it inside a paint
several).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TABLE_SIZE = 256


def packed_table(rgb: np.ndarray) -> np.ndarray:
    """A colour table of ``TABLE_SIZE`` RGB(A) rows (uint8) as opaque 0xffRRGGBB words."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 2 or rgb.shape[0] != TABLE_SIZE or rgb.shape[1] not in (3, 4):
        raise ValueError(f"a colour table has {TABLE_SIZE} RGB rows, not shape {rgb.shape}")
    channels = rgb[:, :3].astype(np.uint32)
    return (np.uint32(0xFF000000) | channels[:, 0] << 16 | channels[:, 1] << 8
            | channels[:, 2])


@dataclass(frozen=True, eq=False)
class Colouring:
    """dB values between ``levels`` (low, high) spread over colour ``table`` (packed words).

    Compared by identity: whoever changes the colours makes a new one, and an
    image coloured with another is out of date.
    """

    levels: tuple[float, float]
    table: np.ndarray

    @classmethod
    def of(cls, levels: tuple[float, float], rgb: np.ndarray) -> Colouring:
        """``levels`` over an RGB table of ``TABLE_SIZE`` rows; the range is at least 1 dB."""
        low, high = sorted(float(v) for v in levels)
        return cls((low, max(high, low + 1.0)), packed_table(rgb))

    def pixels(self, db: np.ndarray) -> np.ndarray:
        """``db`` (columns, bins) as RGB32 words (bins, columns), C-contiguous."""
        low, high = self.levels
        index = np.subtract(db, np.float32(low), dtype=np.float32)
        index *= np.float32(TABLE_SIZE / (high - low))
        np.clip(index, 0, TABLE_SIZE - 1, out=index)
        return np.ascontiguousarray(self.table[index.T.astype(np.uint8)])
