"""Painting many coloured time spans as bars over a band, as one image.

Shared by the region painter (every region of a file, full plot height) and
the review lanes (thousands of detections in a thin band). A bar fills whole
device pixel columns, so a band of bars is the same in every row: the colours
of one row are blended here with numpy (source-over, in the order Qt's own
calls would draw them: by colour, each distinct pixel extent of a colour once)
and that row fills the band as a texture. Qt's raster engine blends
translucent rectangles one clipped span at a time (hundreds of tall bars cost
a frame's budget); one texture fill costs a blit, whatever the count.
Columns are device pixels, so bars stay sharp at a device pixel ratio of 2.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable

import numpy as np
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QBrush, QColor, QImage, QPaintEngine, QPainter, QTransform


def visible_slice(starts: np.ndarray, ends: np.ndarray, max_len: float, a: float,
                  b: float) -> np.ndarray:
    """Indices of the start-sorted spans that overlap ``[a, b]``."""
    lo = int(np.searchsorted(starts, a - max_len, side="left"))
    hi = int(np.searchsorted(starts, b, side="right"))
    idx = np.arange(lo, hi)
    return idx[ends[lo:hi] >= a]


def _premultiplied(color: QColor) -> tuple[np.ndarray, float]:
    a = color.alphaF()
    return np.array([a, color.redF() * a, color.greenF() * a, color.blueF() * a],
                    dtype=np.float64), a


def _coverage(width: int, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """How many of the column ranges ``[x0, x1)`` cover each of ``width`` columns."""
    cover = np.bincount(x0, minlength=width + 2) - np.bincount(x1, minlength=width + 2)
    return np.cumsum(cover[:width])


def _over(out: np.ndarray, color: QColor, times: np.ndarray) -> None:
    """``color`` drawn ``times[i]`` times over column ``i`` of ``out`` (premultiplied ARGB)."""
    hit = np.flatnonzero(times)
    if not len(hit):
        return
    pm, a = _premultiplied(color)
    if a >= 1.0:
        out[hit] = pm
        return
    if a <= 0.0:
        return
    keep = (1.0 - a) ** times[hit]
    out[hit] = out[hit] * keep[:, None] + ((1.0 - keep) / a)[:, None] * pm[None, :]


def _groups(colors: np.ndarray, x0: np.ndarray,
            x1: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """Per colour (ascending): its distinct column ranges."""
    order = np.lexsort((x1, x0, colors))
    colors, x0, x1 = colors[order], x0[order], x1[order]
    keep = np.ones(len(order), dtype=bool)
    keep[1:] = (colors[1:] != colors[:-1]) | (x0[1:] != x0[:-1]) | (x1[1:] != x1[:-1])
    colors, x0, x1 = colors[keep], x0[keep], x1[keep]
    cuts = [0, *(np.flatnonzero(colors[1:] != colors[:-1]) + 1).tolist(), len(colors)]
    return [(int(colors[i]), x0[i:j], x1[i:j]) for i, j in itertools.pairwise(cuts)]


class RowCache:
    """The last row :func:`paint_bars` made, for the next plot showing the same spans.

    The plots of a view share their x axis, so the waveform's and the
    spectrogram's rows of one frame are the same pixels.
    """

    def __init__(self) -> None:
        self.key: Hashable = None
        self.row: _Row | None = None


#: the row's pixels, the image wrapping them, the first and last coloured column
_Row = tuple[np.ndarray, QImage, int, int]


def paint_bars(p: QPainter, band: QRectF, starts: np.ndarray, ends: np.ndarray,
               colors: np.ndarray, palette: list[QColor],
               edge_palette: list[QColor] | None = None, edge_width: float = 0.0,
               cache: RowCache | None = None, key: Hashable = None) -> None:
    """Fill ``[starts[i], ends[i]]`` over ``band`` (view coordinates) in ``palette[colors[i]]``.

    Each span covers at least one device pixel column. With ``edge_palette``,
    each span's first and last ``edge_width`` logical pixels are then drawn in
    ``edge_palette[colors[i]]`` (its edges). The painter's transform must be
    axis-aligned (a plot's); the painter is left as it was. With ``cache``, a row
    made for the same ``key`` (which must name the spans and colours) and the
    same pixel columns is reused.
    """
    if not len(starts):
        return
    tr = p.transform()
    dev = tr.mapRect(band)
    device = p.device()
    dpr = device.devicePixelRatioF() if device is not None else 1.0
    left, right = math.floor(dev.left()), math.ceil(dev.right())
    width = round((right - left) * dpr)
    if width <= 0 or dev.height() <= 0:
        return
    full_key = (key, tr.m11(), tr.m31(), left, width, dpr, edge_palette is not None)
    if cache is not None and key is not None and cache.key == full_key and cache.row:
        made = cache.row
    else:
        made = _make_row(tr, left, width, dpr, starts, ends, colors, palette, edge_palette,
                         edge_width)
        if cache is not None:
            cache.key, cache.row = full_key, made
    _row, image, first, last = made
    if last <= first:
        return
    if p.paintEngine().type() == QPaintEngine.Type.Picture:
        image = image.copy()  # a recording device keeps the image: it must own its pixels
    p.save()
    p.resetTransform()
    p.setBrushOrigin(QPointF(left, 0.0))  # the row repeats down the band: a texture fill
    p.fillRect(QRectF(left + first / dpr, dev.top(), (last - first) / dpr, dev.height()),
               QBrush(image))
    p.restore()


def _make_row(tr: QTransform, left: int, width: int, dpr: float, starts: np.ndarray,
              ends: np.ndarray, colors: np.ndarray, palette: list[QColor],
              edge_palette: list[QColor] | None, edge_width: float) -> _Row:
    sx, dx = tr.m11() * dpr, (tr.m31() - left) * dpr
    x0 = np.clip(np.floor(starts * sx + dx), 0, width).astype(np.intp)
    x1 = np.clip(np.ceil(ends * sx + dx), 0, width).astype(np.intp)
    x1 = np.maximum(x1, x0 + 1)
    groups = _groups(colors, x0, x1)
    out = np.zeros((width, 4), dtype=np.float64)  # a, r, g, b; premultiplied, 0..1
    for c, g0, g1 in groups:
        _over(out, palette[c], _coverage(width, g0, g1))
    if edge_palette is not None and edge_width > 0:
        ew = max(1, round(edge_width * dpr))
        for c, g0, g1 in groups:
            e0 = np.concatenate([g0, np.maximum(g0, g1 - ew)])
            e1 = np.concatenate([np.minimum(g1, g0 + ew), g1])
            _over(out, edge_palette[c], np.minimum(_coverage(width, e0, e1), 1))
    channels = np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint32)
    row = (channels[:, 0] << 24) | (channels[:, 1] << 16) | (channels[:, 2] << 8) | channels[:, 3]
    image = QImage(row.data, width, 1, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    nonzero = np.flatnonzero(row)
    if not len(nonzero):
        return row, image, 0, 0
    return row, image, int(nonzero[0]), int(nonzero[-1]) + 1
