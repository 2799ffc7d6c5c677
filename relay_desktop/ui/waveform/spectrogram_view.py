"""Spectrogram plot: STFT tiles from the thread pool (or the tile cache), drawn as images.

The plot shares the waveform's time axis (x-linked by the WaveformView). On
every range change the visible tiles are asked for first, at about one column
per pixel and nearest the centre first; then, in the background, the tiles one
screen either side and the whole file at the overview zoom (see
:func:`~relay_desktop.core.audio.spectrogram.plan_tiles` and
:class:`~relay_desktop.services.spectrogram_tasks.TileScheduler`). Tiles live in
an in-memory LRU of about ten screens (:func:`memory_budget`) in front of the
on-disk tile cache, each with one image item made when it is first shown and
hidden, not destroyed, when out of view. The worker that makes a tile colours it too
(:class:`~relay_desktop.core.audio.spectrogram_colours.Colouring`), so the GUI
thread wraps finished RGB32 pixels. A colour map or dB range change re-colours
the images on screen at once and the others when they are shown again. On a
new window size or zoom level the old images stay (below the new ones) where the
new level has no image yet, so the plot never flashes blank.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, QThreadPool, Signal
from PySide6.QtGui import QImage, QPaintEngine, QPainter
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from relay_desktop.core.audio.decode import AudioInfo
from relay_desktop.core.audio.spectrogram import (
    COLORMAPS,
    DEFAULT_COLORMAP,
    DEFAULT_WINDOW,
    Tile,
    TileKey,
    plan_tiles,
)
from relay_desktop.core.audio.spectrogram_cache import SpectrogramTileCache, TileSource
from relay_desktop.core.audio.spectrogram_colours import Colouring
from relay_desktop.services.spectrogram_tasks import TileScheduler
from relay_desktop.ui.waveform.axis import FrequencyAxisItem

MB = 1024 * 1024
#: the in-memory tiles hold about this many screens of the view (its width, its window)...
SCREENS_IN_MEMORY = 10
#: ...within these bounds: a 4K-wide view at the default window keeps 158 MB, a
#: 1,600-pixel one the floor (at 4K, 96 MB held two zoom levels, and zooming across
#: more read the others back from disk, on threads that took the GIL from the frame)
MIN_MEMORY_BYTES, MAX_MEMORY_BYTES = 96 * MB, 256 * MB
DEFAULT_DB = (-96.0, -12.0)
#: images of other zoom levels or windows kept on screen (under the new ones) at most
MAX_STALE_SHOWN = 96
_CURRENT_Z, _STALE_Z = -10.0, -20.0
#: pyqtgraph names of the colour maps offered (grayscale is colorcet's linear grey)
_MAP_NAMES = {"inferno": "inferno", "viridis": "viridis", "magma": "magma",
              "grayscale": "CET-L1"}


def lookup_table(name: str) -> np.ndarray:
    """The 256-entry RGB lookup table of colour map ``name`` (one of ``COLORMAPS``)."""
    if name not in COLORMAPS:
        raise ValueError(f"unknown colour map {name!r}; one of {', '.join(COLORMAPS)}")
    return pg.colormap.get(_MAP_NAMES[name]).getLookupTable(nPts=256)


def memory_budget(pixels: int, window: int) -> int:
    """Bytes of tiles kept in memory for a view ``pixels`` wide at FFT ``window``.

    A column costs its dB values (float32) and their RGB32 pixels, one per bin.
    """
    screen = max(1, pixels) * (window // 2 + 1) * 8
    return min(MAX_MEMORY_BYTES, max(MIN_MEMORY_BYTES, SCREENS_IN_MEMORY * screen))


def _overlaps_any(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    """Whether frame span ``[start, stop)`` overlaps any of ``others``."""
    start, stop = span
    return any(start < b and a < stop for a, b in others)


class TileImage(QGraphicsItem):
    """One tile's RGB32 pixels drawn over its time and frequency span (view coordinates).

    Row 0 of the pixels (the lowest bin) lies at frequency 0; the plot's y axis
    points up, so it is drawn at the bottom.
    """

    def __init__(self, rect: QRectF, pixels: np.ndarray, colouring: Colouring) -> None:
        super().__init__()
        self._rect = QRectF(rect)
        self.set_pixels(pixels, colouring)

    def set_pixels(self, pixels: np.ndarray, colouring: Colouring) -> None:
        """Show ``pixels`` ((bins, columns) RGB32 words, made with ``colouring``)."""
        rows, columns = pixels.shape
        self._pixels = pixels  # the image wraps this buffer: keep it alive
        self._image = QImage(pixels.data, columns, rows, columns * 4,
                             QImage.Format.Format_RGB32)
        self.colouring = colouring
        self.update()

    def image(self) -> QImage:
        """The image drawn (it wraps the pixels without copying them)."""
        return self._image

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, p: QPainter, option: QStyleOptionGraphicsItem,
              widget: QWidget | None = None) -> None:
        image = self._image
        if p.paintEngine().type() == QPaintEngine.Type.Picture:
            image = image.copy()  # a recording device keeps the image: it must own its pixels
        p.drawImage(self._rect, image)


class SpectrogramPlot(QObject):
    """Owns the spectrogram PlotItem and its tiles.

    Signals:
        tiles_changed(): a tile arrived and is now shown.
        failed(str): a visible tile could not be computed (the file went away...).
    """

    tiles_changed = Signal()
    failed = Signal(str)

    def __init__(self, pool: QThreadPool, viewbox: pg.ViewBox,
                 parent: QObject | None = None, *, lower_priority: bool = False) -> None:
        super().__init__(parent)
        self.plot = pg.PlotItem(viewBox=viewbox, axisItems={"left": FrequencyAxisItem("left")})
        self.plot.hideAxis("bottom")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.scheduler = TileScheduler(pool, self, lower_priority=lower_priority)
        self.scheduler.tile_ready.connect(self._tile_ready)
        self.scheduler.tile_failed.connect(self._tile_failed)
        self.window = DEFAULT_WINDOW
        self.db_range = DEFAULT_DB
        self.colormap = DEFAULT_COLORMAP
        self._table = lookup_table(self.colormap)
        self._colouring = Colouring.of(self.db_range, self._table)
        self.scheduler.set_colouring(self._colouring)
        self._disk_cache: SpectrogramTileCache | None = None
        self._path: Path | None = None
        self._info: AudioInfo | None = None
        self._memory: OrderedDict[TileKey, Tile] = OrderedDict()
        self._memory_bytes = 0
        self._items: dict[TileKey, TileImage] = {}
        self._shown: set[TileKey] = set()
        self._wanted: list[TileKey] = []
        self._last: tuple[float, float, int] | None = None
        self._reported_failure = False
        self._counts = {"computed": 0, "from_disk": 0, "images_created": 0}
        self.visible = True

    # -- configuration ------------------------------------------------------------------

    def set_disk_cache(self, cache: SpectrogramTileCache | None) -> None:
        """Keep tiles in ``cache`` too (from the next :meth:`set_source` on)."""
        self._disk_cache = cache

    def set_source(self, path: Path | None, info: AudioInfo | None) -> None:
        """Show ``path`` (None clears); forgets every tile of the previous file."""
        source = TileSource(path, self._disk_cache) if path is not None else None
        self.scheduler.set_source(source)
        for item in self._items.values():
            self.plot.removeItem(item)
        self._items.clear()
        self._shown.clear()
        self._memory.clear()
        self._memory_bytes = 0
        self._wanted = []
        self._path, self._info = path, info
        self._last = None
        self._reported_failure = False
        if info is not None:
            nyquist = info.sample_rate / 2
            self.plot.vb.setLimits(yMin=0, yMax=nyquist)
            self.plot.vb.setYRange(0, nyquist, padding=0)

    def set_params(self, window: int | None = None,
                   db_range: tuple[float, float] | None = None,
                   colormap: str | None = None) -> None:
        """Change the FFT window size, the displayed dB range and/or the colour map.

        The dB range and the colour map re-colour the images already made; a new
        window shows what is cached of it and computes only the missing tiles.
        """
        # an unknown colour map raises before anything changes
        table = lookup_table(colormap) if colormap is not None else self._table
        recolour = False
        if db_range is not None:
            lo, hi = sorted(db_range)
            if hi - lo < 1:
                hi = lo + 1
            recolour = (lo, hi) != self.db_range
            self.db_range = (lo, hi)
        if colormap is not None and colormap != self.colormap:
            self.colormap, self._table = colormap, table
            recolour = True
        if recolour:
            self._colouring = Colouring.of(self.db_range, self._table)
            self.scheduler.set_colouring(self._colouring)
            for key in self._shown:  # the others are re-coloured when shown again
                self._colour(key)
        if window is not None and window != self.window:
            self.window = int(window)
            if self._last is not None:
                self.update_range(*self._last)

    # -- tiles -----------------------------------------------------------------------------

    def wanted_keys(self, start_s: float, end_s: float, pixels: int) -> list[TileKey]:
        """The visible tiles of ``[start_s, end_s]``, nearest the centre first."""
        info = self._info
        if info is None:
            return []
        sr = info.sample_rate
        return plan_tiles(self.window, start_s * sr, end_s * sr, pixels, info.frames).visible

    def update_range(self, start_s: float, end_s: float, pixels: int) -> None:
        """Show the tiles covering ``[start_s, end_s]``; ask for the missing ones, then the rest."""
        self._last = (start_s, end_s, pixels)
        info = self._info
        if not self.visible or info is None or self._path is None:
            self.scheduler.cancel_all()  # hidden: nothing to compute ahead for
            return
        sr = info.sample_rate
        plan = plan_tiles(self.window, start_s * sr, end_s * sr, pixels, info.frames)
        self._wanted = plan.visible
        missing = []
        for key in plan.visible:
            if key in self._memory:
                self._memory.move_to_end(key)
                self._show(key)
            else:
                missing.append(key)
        self.scheduler.request_visible(missing)
        self.scheduler.set_background(
            k for k in (*plan.nearby, *plan.overview) if k not in self._memory)
        self._prune()

    def hold_background(self, held: bool) -> None:
        """Compute only visible tiles while ``held`` (the file is still decoding)."""
        self.scheduler.hold_background(held)

    def _tile_ready(self, tile: Tile) -> None:
        key = tile.key
        self._counts["from_disk" if tile.from_cache else "computed"] += 1
        self._remember(tile)
        if key in self._wanted:
            self._show(key)
            self._prune()
            self.tiles_changed.emit()

    def _tile_failed(self, key: TileKey, message: str) -> None:
        if key in self._wanted and not self._reported_failure:
            self._reported_failure = True  # one sentence per file, not one per tile
            self.failed.emit(message)

    def _remember(self, tile: Tile) -> None:
        """Put ``tile`` into the memory LRU, dropping the least recent tiles not on screen."""
        key = tile.key
        old = self._memory.pop(key, None)
        if old is not None:
            self._memory_bytes -= 2 * old.db.nbytes
        self._memory[key] = tile
        self._memory_bytes += 2 * tile.db.nbytes  # the dB values and their pixels
        budget = self._memory_budget()
        for victim in list(self._memory):
            if self._memory_bytes <= budget:
                break
            if victim in self._shown or victim == key:
                continue
            self._memory_bytes -= 2 * self._memory.pop(victim).db.nbytes
            item = self._items.pop(victim, None)
            if item is not None:
                self.plot.removeItem(item)

    def _pixels(self, tile: Tile) -> np.ndarray:
        """``tile`` in the current colours: the worker's pixels when it used them."""
        if tile.pixels is not None and tile.colouring is self._colouring:
            return tile.pixels
        return self._colouring.pixels(tile.db)

    def _colour(self, key: TileKey) -> None:
        """Bring the image of ``key`` to the current colours, if it has other ones."""
        item = self._items.get(key)
        tile = self._memory.get(key)
        if item is not None and tile is not None and item.colouring is not self._colouring:
            item.set_pixels(self._pixels(tile), self._colouring)

    def _show(self, key: TileKey) -> None:
        info = self._info
        tile = self._memory.get(key)
        if info is None or tile is None:
            return
        item = self._items.get(key)
        if item is None:
            if not tile.columns:
                self._shown.add(key)  # nothing to draw, but it covers its (empty) span
                return
            sr = info.sample_rate
            start, _stop = key.column_span_frames()
            rect = QRectF(start / sr, 0.0, tile.columns * key.hop / sr, sr / 2)
            item = TileImage(rect, self._pixels(tile), self._colouring)
            self.plot.addItem(item, ignoreBounds=True)
            self._items[key] = item
            self._counts["images_created"] += 1
        else:
            self._colour(key)
        if item.zValue() != _CURRENT_Z:
            item.setZValue(_CURRENT_Z)
        if key not in self._shown:
            item.show()
            self._shown.add(key)

    def _hide(self, key: TileKey) -> None:
        self._shown.discard(key)
        item = self._items.get(key)
        if item is not None:
            item.hide()

    def _prune(self) -> None:
        """Hide images not wanted now; other levels' stay (below) only over the new one's holes.

        A hole is a visible tile not shown yet. An old image none of them overlaps
        would be painted under the new ones for nothing (when tiles of a zoom
        level are being made again, that was dozens of images per frame).
        """
        wanted = set(self._wanted)
        holes = [k.column_span_frames() for k in self._wanted if k not in self._shown]
        level = (self._wanted[0].window, self._wanted[0].hop) if self._wanted else None
        stale = [k for k in self._shown if k not in wanted]
        for key in stale:
            if (not holes or (key.window, key.hop) == level or len(stale) > MAX_STALE_SHOWN
                    or not _overlaps_any(key.column_span_frames(), holes)):
                self._hide(key)
                continue
            item = self._items.get(key)
            if item is not None and item.zValue() != _STALE_Z:
                item.setZValue(_STALE_Z)

    # -- state -----------------------------------------------------------------------------

    def shown_keys(self) -> list[TileKey]:
        """Tiles whose images are on screen (the visible ones, and old ones until covered)."""
        return [k for k in self._shown if k in self._items]

    def wanted(self) -> list[TileKey]:
        """The visible tiles of the last range, nearest the centre first."""
        return list(self._wanted)

    def covers_view(self) -> bool:
        """Whether every visible tile of the last range is shown."""
        return bool(self._wanted) and set(self._wanted) <= self._shown

    def pending_count(self) -> int:
        """Tiles asked for and not arrived yet, visible and background."""
        return self.scheduler.pending()

    def tile_counts(self) -> dict[str, int]:
        """Tiles computed and read from the disk cache, and images made, since creation."""
        return dict(self._counts)

    def memory_use(self) -> tuple[int, int]:
        """Bytes of tiles held in memory, and the budget for the view's width and window."""
        return self._memory_bytes, self._memory_budget()

    def _memory_budget(self) -> int:
        pixels = self._last[2] if self._last is not None else 0
        return memory_budget(pixels, self.window)

    def image_of(self, key: TileKey) -> TileImage | None:
        """The image made for tile ``key`` (shown or not), if any."""
        return self._items.get(key)

    @property
    def colouring(self) -> Colouring:
        """The colours images are drawn in now (a new object after every change)."""
        return self._colouring

    def db_of(self, key: TileKey) -> np.ndarray | None:
        """The dB values of tile ``key`` while it is in memory."""
        tile = self._memory.get(key)
        return None if tile is None else tile.db
