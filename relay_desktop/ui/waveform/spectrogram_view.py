"""Spectrogram plot: STFT tiles computed on the thread pool, cached, drawn as images.

The plot shares the waveform's time axis (x-linked by the WaveformView). Tiles
are requested for the visible range at a hop of about one column per pixel;
results arrive on the GUI thread, go into an LRU cache (bounded in bytes) and
are shown as ImageItems. Tiles of a previous zoom level stay visible until the
new level has covered the view, so zooming never shows blank areas.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QThreadPool, Signal

from relay_desktop.core.audio.decode import AudioInfo
from relay_desktop.core.audio.spectrogram import TileKey, hop_for, tiles_for_range
from relay_desktop.services import audio_tasks
from relay_desktop.services.audio_tasks import TaskHandle
from relay_desktop.ui.waveform.axis import FrequencyAxisItem

CACHE_BYTES = 96 * 1024 * 1024
DEFAULT_WINDOW = 1024
DEFAULT_DB = (-96.0, -12.0)


class SpectrogramPlot(QObject):
    """Owns the spectrogram PlotItem and its tiles.

    Signals:
        tiles_changed(): a tile arrived and is now shown.
        failed(str): a tile could not be computed (the file went away...).
    """

    tiles_changed = Signal()
    failed = Signal(str)

    def __init__(self, pool: QThreadPool, viewbox: pg.ViewBox,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool
        self.plot = pg.PlotItem(viewBox=viewbox, axisItems={"left": FrequencyAxisItem("left")})
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self._lut = pg.colormap.get("inferno").getLookupTable(nPts=256)
        self.window = DEFAULT_WINDOW
        self.db_range = DEFAULT_DB
        self._path: Path | None = None
        self._info: AudioInfo | None = None
        self._cache: OrderedDict[TileKey, np.ndarray] = OrderedDict()
        self._cache_bytes = 0
        self._items: dict[TileKey, pg.ImageItem] = {}
        self._pending: dict[TileKey, TaskHandle] = {}
        self._wanted: set[TileKey] = set()
        self._last: tuple[float, float, int] | None = None
        self.visible = True

    # -- configuration ------------------------------------------------------------------

    def set_source(self, path: Path | None, info: AudioInfo | None) -> None:
        """Show ``path`` (None clears); forgets every tile of the previous file."""
        self._cancel_pending(set())
        for item in self._items.values():
            self.plot.removeItem(item)
        self._items.clear()
        self._cache.clear()
        self._cache_bytes = 0
        self._path, self._info = path, info
        self._last = None
        if info is not None:
            nyquist = info.sample_rate / 2
            self.plot.vb.setLimits(yMin=0, yMax=nyquist)
            self.plot.vb.setYRange(0, nyquist, padding=0)

    def set_params(self, window: int | None = None,
                   db_range: tuple[float, float] | None = None) -> None:
        """Change the FFT window size and/or the displayed dB range."""
        if db_range is not None:
            lo, hi = sorted(db_range)
            if hi - lo < 1:
                hi = lo + 1
            self.db_range = (lo, hi)
            for item in self._items.values():
                item.setLevels(self.db_range)
        if window is not None and window != self.window:
            self.window = int(window)
            self._refresh_all()

    def _refresh_all(self) -> None:
        last = self._last
        self._cancel_pending(set())
        for item in self._items.values():
            self.plot.removeItem(item)
        self._items.clear()
        if last is not None:
            self._last = None
            self.update_range(*last)

    # -- tiles -----------------------------------------------------------------------------

    def wanted_keys(self, start_s: float, end_s: float, pixels: int) -> list[TileKey]:
        info = self._info
        if info is None:
            return []
        sr = info.sample_rate
        hop = hop_for(self.window, (end_s - start_s) * sr / max(1, pixels))
        tiles = tiles_for_range(self.window, hop, start_s * sr, end_s * sr, info.frames)
        return [TileKey(self.window, hop, i, None) for i in tiles]

    def update_range(self, start_s: float, end_s: float, pixels: int) -> None:
        """Request and show the tiles covering ``[start_s, end_s]``."""
        self._last = (start_s, end_s, pixels)
        if not self.visible or self._info is None or self._path is None:
            return
        keys = self.wanted_keys(start_s, end_s, pixels)
        self._wanted = set(keys)
        self._cancel_pending(self._wanted)
        for key in keys:
            if key in self._items:
                continue
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                self._show(key, cached)
            elif key not in self._pending:
                handle = audio_tasks.spectrogram_tile(self._pool, self._path, key)
                handle.finished.connect(self._tile_done)
                handle.failed.connect(self._tile_failed)
                self._pending[key] = handle
        self._prune()

    def _cancel_pending(self, keep: set[TileKey]) -> None:
        for key in [k for k in self._pending if k not in keep]:
            self._pending.pop(key).cancel()

    def _tile_done(self, tile: Any) -> None:
        key = tile.key
        self._pending.pop(key, None)
        if self._info is None or key.window != self.window:
            return
        self._cache[key] = tile.db
        self._cache_bytes += tile.db.nbytes
        while self._cache_bytes > CACHE_BYTES and self._cache:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.nbytes
        if key in self._wanted:
            self._show(key, tile.db)
            self._prune()
            self.tiles_changed.emit()

    def _tile_failed(self, message: str) -> None:
        self.failed.emit(message)

    def _show(self, key: TileKey, db: np.ndarray) -> None:
        info = self._info
        if info is None or len(db) == 0:
            return
        sr = info.sample_rate
        item = pg.ImageItem(db, levels=self.db_range, lut=self._lut, autoLevels=False)
        start, _stop = key.column_span_frames()
        item.setRect(QRectF(start / sr, 0.0, len(db) * key.hop / sr, sr / 2))
        item.setZValue(-10 if key.hop else -20)
        self.plot.addItem(item)
        self._items[key] = item

    def _prune(self) -> None:
        """Drop images not wanted now, but keep old-zoom ones until the new zoom is complete."""
        complete = all(k in self._items for k in self._wanted)
        for key in list(self._items):
            if key in self._wanted:
                continue
            same_level = bool(self._wanted) and key.hop == next(iter(self._wanted)).hop
            if complete or same_level or len(self._items) > 96:
                self.plot.removeItem(self._items.pop(key))

    def shown_keys(self) -> list[TileKey]:
        return list(self._items)

    def pending_count(self) -> int:
        return len(self._pending)
