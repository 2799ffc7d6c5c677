"""WaveformView: detail waveform + spectrogram on one time axis, with an overview strip.

Public API (stable; the annotation editor builds on it):

- ``plots() -> list[pg.PlotItem]``: the plots with time in seconds on x (detail
  waveform first, then the spectrogram). Overlay items (regions, labels) may be
  added to them; they share the x range.
- Signals ``view_range_changed(float, float)`` (seconds), ``clicked_at(float)``
  (a plain left click, seconds), ``selection_changed(float, float)`` (the
  Shift-drag time selection; ``(0.0, 0.0)`` when cleared) and
  ``empty_drag(float, float, str)``: a plain left-drag on empty space, as
  ``(start_s, current_s, phase)`` with phase ``"start"``, ``"move"`` or
  ``"finish"`` -- this view does nothing else with it, so the annotation
  editor can draw regions with it.
- ``set_view_range(start_s, end_s)``, ``view_range()``, ``duration_s``,
  ``sample_rate``, ``channels``, ``zero_crossing_near(t_s, window_ms)``
  (from the samples the view holds in memory; never reads the file), ``set_playhead(t_s)``,
  ``set_selection(a, b)``, ``selection()``, ``clear_selection()``.

Mouse and keys: see :mod:`relay_desktop.ui.waveform.time_viewbox` (a click also
clears the selection; the window's keymap decides the keys: Left/Right pan, +/-
or Up/Down zoom, Home/End, F fit, Z zoom to the selection, Esc clears it).

Drawing uses :class:`WaveItem` with arrays taken from the peak pyramid at about
one bucket per pixel; when zoomed in further, raw samples are read on the
thread pool for the visible window (plus a margin) and drawn as a line, with a
dot per sample at extreme zoom. They are also read (not drawn) while a pixel
is no wider than ``SNAP_PIXEL_S``, so that edges dropped at that zoom can snap
to a zero crossing without touching the disk on the GUI thread.

Progressive open: ``set_audio`` accepts a pyramid that is still growing (see
:mod:`relay_desktop.core.audio.progressive`); the decoded part is drawn, the rest
is a :class:`PendingBand` in the detail plot and the overview. The editor calls
``decoding_progressed()`` as blocks arrive (redraws are throttled to one per
``DECODE_REFRESH_MS``), then ``decoding_finished(info)`` or ``decoding_stopped()``.
Where the visible window is not decoded yet and ``read_ahead`` allows it (a
format that seeks fast), its raw samples are read by seeking and drawn instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView, QVBoxLayout, QWidget

from relay_desktop.core.audio.decode import AudioInfo, nearest_zero_crossing
from relay_desktop.core.audio.peaks import PeakPyramid
from relay_desktop.core.keymap import EDITOR
from relay_desktop.services.audio_tasks import RawWindow
from relay_desktop.services.thread_priority import background_pool
from relay_desktop.ui.shortcuts import command_for
from relay_desktop.ui.waveform.items import WaveItem
from relay_desktop.ui.waveform.message_overlay import MessageOverlay
from relay_desktop.ui.waveform.overview import OverviewStrip
from relay_desktop.ui.waveform.pending import PendingBand
from relay_desktop.ui.waveform.picture_hold import PictureHold
from relay_desktop.ui.waveform.raw_reader import (
    Envelope,
    RawWindowReader,
    Samples,
    raw_drawing,
)
from relay_desktop.ui.waveform.spectrogram_view import SpectrogramPlot
from relay_desktop.ui.waveform.throttle import Throttle
from relay_desktop.ui.waveform.time_viewbox import (
    ZOOM_STEP,
    TimeViewBox,
    detail_plot,
    navigation_keys,
)

AXIS_WIDTH = 52
LANE_GAP = 2.25
MIN_VISIBLE_SAMPLES = 16
# raw samples are kept in memory (for zero-crossing snaps) while a pixel is this short
SNAP_PIXEL_S = 0.005
# while a file decodes, the views redraw what has arrived at most this often
DECODE_REFRESH_MS = 80
WAVE_COLORS = ("#4fc3f7", "#81c784", "#ffb74d", "#ba68c8", "#e57373", "#4db6ac")
BACKGROUND = "#1b1e23"


class WaveformView(QWidget):
    """Detail waveform, spectrogram and overview of one audio file (see the module doc).

    Signals:
        view_range_changed(float, float): visible time range in seconds.
        clicked_at(float): a left click at this time (seconds).
        selection_changed(float, float): the time selection; (0.0, 0.0) when cleared.
        empty_drag(float, float, str): plain left-drag (start_s, current_s, phase).
    """

    view_range_changed = Signal(float, float)
    clicked_at = Signal(float)
    selection_changed = Signal(float, float)
    empty_drag = Signal(float, float, str)

    def __init__(self, pool: QThreadPool | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("waveformView")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pool = pool or QThreadPool.globalInstance()
        self._path: Path | None = None
        self._info: AudioInfo | None = None
        self._pyramid: PeakPyramid | None = None
        self._mode = "mix"
        self._raw = RawWindowReader(self._pool, self)
        self._raw.arrived.connect(self._raw_arrived)
        self._raw.failed.connect(self.show_message)
        self._selection: tuple[float, float] | None = None
        self._drawn_mode = ""
        self._read_ahead = True
        self._decoding = False
        self._decode_redraws = Throttle(DECODE_REFRESH_MS, self._redraw_decoded, self)

        self._glw = pg.GraphicsLayoutWidget()
        self._glw.setBackground(BACKGROUND)
        # a zoom repaints the whole detail plot anyway; one rectangle is cheaper to clip
        # every draw to than pyqtgraph's minimal region (detail, axis, overview box...)
        self._glw.setViewportUpdateMode(
            QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        # the background is one colour: filling it beats copying pyqtgraph's cached pixmap
        self._glw.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        # every zoom or pan moves all the plots' items: a BSP index would be rebuilt per
        # frame to answer one "what is exposed" query (frame_4k median 8-10% lower without)
        self._glw.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._glw.ci.setSpacing(0)
        self._glw.ci.layout.setContentsMargins(0, 0, 6, 0)
        self._detail_vb = TimeViewBox(self)
        self.detail = detail_plot(self._detail_vb, AXIS_WIDTH)
        self.overview = OverviewStrip(self)
        self.overview.window_dragged.connect(lambda a, b: self.set_view_range(a, b))
        self.overview.centre_requested.connect(self.centre_on)
        self._glw.addItem(self.overview.plot, row=0, col=0)
        self._glw.addItem(self.detail, row=1, col=0)
        self._spec_vb = TimeViewBox(self)
        # tiles run on threads that give way to decoding and drawing when cores are busy
        self.spectrogram = SpectrogramPlot(background_pool(), self._spec_vb, self,
                                           lower_priority=True)
        self.spectrogram.plot.getAxis("left").setWidth(AXIS_WIDTH)
        self.spectrogram.plot.setXLink(self.detail)
        self.spectrogram.failed.connect(self.show_message)
        self._glw.addItem(self.spectrogram.plot, row=2, col=0)
        self._glw.ci.layout.setRowStretchFactor(0, 0)
        self._glw.ci.layout.setRowStretchFactor(1, 3)
        self._glw.ci.layout.setRowStretchFactor(2, 2)
        for vb in (self._detail_vb, self._spec_vb):
            vb.disableAutoRange()

        self._wave = WaveItem(WAVE_COLORS[0])
        self.detail.addItem(self._wave, ignoreBounds=True)  # we manage ranges: no autorange work
        self.pending = PendingBand()
        self.detail.addItem(self.pending, ignoreBounds=True)
        # the playhead and selection items join their plots when first shown: hidden,
        # pyqtgraph would still run their range/transform handlers on every zoom
        self._pending_items: list[tuple[pg.GraphicsObject, pg.PlotItem]] = []
        self._playheads: list[pg.InfiniteLine] = []
        for plot in (self.detail, self.spectrogram.plot):
            line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#ffca28", width=1.5))
            line.setZValue(50)
            line.hide()
            self._pending_items.append((line, plot))
            self._playheads.append(line)
        self._regions: list[pg.LinearRegionItem] = []
        for plot in (self.detail, self.spectrogram.plot):
            region = pg.LinearRegionItem(values=(0, 0), movable=plot is self.detail,
                                         brush=pg.mkBrush(120, 170, 255, 55),
                                         pen=pg.mkPen(150, 190, 255, 160))
            region.setZValue(40)
            region.hide()
            self._pending_items.append((region, plot))
            self._regions.append(region)
        self._regions[0].sigRegionChanged.connect(self._region_edited)

        self.overview.hide()

        self._message = MessageOverlay(self)
        self.picture = PictureHold(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._glw, 1)

        self._detail_vb.sigXRangeChanged.connect(self._range_changed)
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(30)
        self._resize_timer.timeout.connect(self.refresh)
        self._detail_vb.sigResized.connect(self._resize_timer.start)
        self._set_lane_axis()
        self._detail_vb.setRange(xRange=(0, 1), yRange=(-1.05, 1.05), padding=0)

    # -- public API ---------------------------------------------------------------------

    def plots(self) -> list[pg.PlotItem]:
        """Plots with time (seconds) on x: the detail waveform, then the spectrogram."""
        return [self.detail, self.spectrogram.plot]

    @property
    def duration_s(self) -> float:
        return self._info.duration_s if self._info else 0.0

    @property
    def sample_rate(self) -> int:
        return self._info.sample_rate if self._info else 0

    @property
    def channels(self) -> int:
        return self._info.channels if self._info else 0

    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def info(self) -> AudioInfo | None:
        return self._info

    @property
    def pyramid(self) -> PeakPyramid | None:
        return self._pyramid

    @property
    def channel_mode(self) -> str:
        return self._mode

    def set_audio(self, path: Path, info: AudioInfo, pyramid: PeakPyramid, *,
                  at: tuple[float, float] | None = None, read_ahead: bool = True,
                  window: RawWindow | None = None) -> None:
        """Show a file (its header and peak pyramid, complete or still growing).

        Zooms to fit, or to ``at`` (start, end in seconds). While the pyramid grows,
        ``read_ahead`` lets the view read a visible window decoding has not reached
        (by seeking; only worth it for formats that seek fast). ``window``: raw
        samples already read (those of ``at``), drawn at once.
        """
        self._path, self._info, self._pyramid = Path(path), info, pyramid
        self._raw.set_source(self._path, info.frames)
        if window is not None:
            self._raw.hold(window)
        self._read_ahead = read_ahead
        self._set_decoding(not pyramid.is_complete())
        self._decode_redraws.stop()
        self.clear_message()
        self.clear_selection()
        self._set_limits()
        self._set_lane_axis()
        self.overview.set_pyramid(pyramid, pyramid.lane(None))
        self.overview.show()
        self.spectrogram.set_source(self._path, info)
        if at is None:
            self.zoom_fit()
        else:
            self.set_view_range(*at)
        self.refresh()
        self.picture.release()

    def _set_limits(self) -> None:
        pyramid, info = self._pyramid, self._info
        if pyramid is None or info is None:
            return
        duration = max(pyramid.duration_s, 1e-6)
        min_range = max(MIN_VISIBLE_SAMPLES / info.sample_rate, 1e-5)
        for vb in (self._detail_vb, self._spec_vb):
            vb.setLimits(xMin=0.0, xMax=duration, minXRange=min_range, maxXRange=duration)
        self._wave.set_bounds(QRectF(0.0, -LANE_GAP * max(1, pyramid.channels) - 1.1, duration,
                                     LANE_GAP * max(1, pyramid.channels) + 2.2))

    def _set_decoding(self, decoding: bool) -> None:
        self._decoding = decoding
        # tiles ahead of the view would take a core from the decoding being watched
        self.spectrogram.hold_background(decoding)

    @property
    def decoding(self) -> bool:
        """Whether the shown file is still decoding (its pyramid growing)."""
        return self._decoding

    def decoding_progressed(self) -> None:
        """More of the file decoded: redraw now, or once the throttle interval is over."""
        if self._decoding:
            self._decode_redraws.poke()

    def _redraw_decoded(self) -> None:
        self.overview.refresh(decoding=self._decoding)
        if self._drawn_mode in ("partial", "loading", ""):
            self.refresh()  # the visible part had not all arrived

    def decoding_finished(self, info: AudioInfo) -> None:
        """The whole file decoded; ``info`` has its real length (shorter when truncated)."""
        self._set_decoding(False)
        self._decode_redraws.stop()
        if self._pyramid is None:
            return
        shrank = self._info is not None and info.frames != self._info.frames
        self._info = info
        if shrank:
            a, b = self.view_range()
            self._set_limits()
            self.spectrogram.set_source(self._path, info)
            self.set_view_range(a, min(b, self.duration_s))
        self.overview.refresh(decoding=False)
        self.refresh()

    def decoding_stopped(self) -> None:
        """Decoding was cancelled: what arrived stays, the rest stays marked as not decoded."""
        self._set_decoding(False)
        self._decode_redraws.stop()
        self.overview.refresh(decoding=False)
        self.refresh()

    def pending_span(self) -> tuple[float, float] | None:
        """The time range (seconds) not decoded yet (the overview's band), or None."""
        return self.overview.pending.span()

    def clear(self) -> None:
        """Forget the file (the view shows nothing until the next ``set_audio``)."""
        self._path = self._info = self._pyramid = None
        self._raw.set_source(None, 0)
        self._set_decoding(False)
        self._decode_redraws.stop()
        self._wave.clear()
        self.pending.clear()
        self._drawn_mode = ""
        self.overview.set_pyramid(None)
        self.overview.hide()
        self.spectrogram.set_source(None, None)
        self.clear_selection()
        for line in self._playheads:
            line.hide()

    def view_range(self) -> tuple[float, float]:
        """The visible time range in seconds."""
        a, b = self._detail_vb.viewRange()[0]
        return float(a), float(b)

    def set_view_range(self, start_s: float, end_s: float) -> None:
        """Show ``[start_s, end_s]`` (clamped to the file and the minimum span)."""
        if self._info is None:
            return
        a, b = sorted((float(start_s), float(end_s)))
        duration = self.duration_s
        min_span = max(MIN_VISIBLE_SAMPLES / self.sample_rate, 1e-5)
        span = min(max(b - a, min_span), duration)
        a = min(max(0.0, a), duration - span)
        self._detail_vb.setXRange(a, a + span, padding=0)

    def zoom_by(self, factor: float, centre_s: float | None = None) -> None:
        """Scale the visible span by ``factor`` (<1 zooms in) keeping ``centre_s`` in place."""
        a, b = self.view_range()
        c = (a + b) / 2 if centre_s is None else centre_s
        self.set_view_range(c - (c - a) * factor, c + (b - c) * factor)

    def zoom_in(self) -> None:
        self.zoom_by(ZOOM_STEP**2)

    def zoom_out(self) -> None:
        self.zoom_by(1 / ZOOM_STEP**2)

    def pan_by(self, dx_s: float) -> None:
        a, b = self.view_range()
        self.set_view_range(a + dx_s, b + dx_s)

    def centre_on(self, t_s: float) -> None:
        a, b = self.view_range()
        half = (b - a) / 2
        self.set_view_range(t_s - half, t_s + half)

    def zoom_fit(self) -> None:
        """Show the whole file."""
        if self._info is not None:
            self._detail_vb.setXRange(0.0, self.duration_s, padding=0)

    def zoom_to_selection(self) -> bool:
        """Show the selection (with 5% margins); False when there is none."""
        sel = self._selection
        if sel is None:
            return False
        a, b = sel
        margin = (b - a) * 0.05
        self.set_view_range(a - margin, b + margin)
        return True

    def ensure_visible(self, t_s: float) -> None:
        """Page the view so ``t_s`` is visible (follow mode)."""
        a, b = self.view_range()
        if not a <= t_s <= b:
            span = b - a
            self.set_view_range(t_s - 0.05 * span, t_s + 0.95 * span)

    def set_playhead(self, t_s: float | None) -> None:
        """Draw the playhead at ``t_s`` seconds (None hides it)."""
        if t_s is not None:
            self._attach(*self._playheads)
        for line in (*self._playheads, self.overview.playhead):
            if t_s is None:
                line.hide()
            else:
                line.setValue(t_s)
                line.show()

    def playhead(self) -> float | None:
        line = self._playheads[0]
        return float(line.value()) if line.isVisible() else None

    def set_selection(self, start_s: float, end_s: float) -> None:
        """Select ``[start_s, end_s]`` (an empty range clears the selection)."""
        a, b = sorted((max(0.0, start_s), min(end_s, self.duration_s or end_s)))
        if b - a <= 0:
            self.clear_selection()
            return
        self._attach(*self._regions)
        for region in self._regions:
            region.blockSignals(True)
            region.setRegion((a, b))
            region.show()
            region.blockSignals(False)
        if self._selection != (a, b):
            self._selection = (a, b)
            self.selection_changed.emit(a, b)

    def selection(self) -> tuple[float, float] | None:
        return self._selection

    def _attach(self, *items: pg.GraphicsObject) -> None:
        """Add those of ``items`` not yet in their plot (see ``_pending_items``)."""
        for pending in [p for p in self._pending_items if p[0] in items]:
            self._pending_items.remove(pending)
            item, plot = pending
            plot.addItem(item, ignoreBounds=True)

    def clear_selection(self) -> None:
        for region in self._regions:
            region.hide()
        if self._selection is not None:
            self._selection = None
            self.selection_changed.emit(0.0, 0.0)

    def set_channel_mode(self, mode: str) -> None:
        """``"mix"`` (one lane, the channel mean) or ``"channels"`` (a lane per channel)."""
        if mode not in ("mix", "channels"):
            raise ValueError(f"unknown channel mode {mode!r}")
        self._mode = mode
        self._set_lane_axis()
        self.refresh()

    def set_spectrogram_visible(self, visible: bool) -> None:
        """Show or hide the spectrogram under the waveform."""
        plot = self.spectrogram.plot
        if visible == self.spectrogram.visible:
            return
        self.spectrogram.visible = visible
        if visible:
            self._glw.addItem(plot, row=2, col=0)
            self._glw.ci.layout.setRowStretchFactor(2, 2)
            plot.setXLink(self.detail)
            self.refresh()
        else:
            plot.setXLink(None)  # a hidden plot need not follow every zoom
            self._glw.removeItem(plot)

    def set_spectrogram_params(self, window: int | None = None,
                               db_range: tuple[float, float] | None = None,
                               colormap: str | None = None) -> None:
        """FFT window, dB range, colour map (see ``SpectrogramPlot.set_params``)."""
        self.spectrogram.set_params(window, db_range, colormap)

    def zero_crossing_near(self, t_s: float, window_ms: float = 5.0) -> float:
        """The nearest zero crossing (of the mix) to ``t_s`` within ``window_ms``, in seconds.

        Uses the samples read for the visible window, which the view holds while a
        pixel is at most ``SNAP_PIXEL_S`` wide; zoomed out further (where the window
        is below a pixel) or before they have arrived, ``t_s`` is returned as is.
        """
        raw, info = self._raw.window, self._info
        if raw is None or info is None:
            return t_s
        return nearest_zero_crossing(raw.data, raw.start, info.sample_rate, t_s, window_ms)

    def show_message(self, text: str) -> None:
        """Show a sentence over the view (errors, "Opening...")."""
        self._message.show_text(text)

    def clear_message(self) -> None:
        self._message.hide()

    def message(self) -> str:
        return self._message.shown_text()

    # -- drawing ---------------------------------------------------------------------------

    def _lanes(self) -> list[tuple[int, int | None, float]]:
        """(pyramid lane, channel or None for the mix, y offset) per drawn lane."""
        pyr = self._pyramid
        if pyr is None:
            return []
        if self._mode == "mix" or pyr.channels == 1:
            return [(pyr.lane(None), None, 0.0)]
        return [(c, c, -LANE_GAP * c) for c in range(pyr.channels)]

    def _set_lane_axis(self) -> None:
        lanes = self._lanes() or [(0, None, 0.0)]
        if len(lanes) == 1:
            major = [(1.0, "1.0"), (0.0, "0"), (-1.0, "-1.0")]
            minor = [(0.5, ""), (-0.5, "")]
        else:  # one lane per channel: name the lanes, keep their +-1 marks unlabelled
            names = ("L", "R") if len(lanes) == 2 else tuple(f"ch{c + 1}" for c in range(99))
            major = [(off, names[i]) for i, (_lane, _ch, off) in enumerate(lanes)]
            minor = [(off + d, "") for _lane, _ch, off in lanes for d in (1.0, -1.0)]
        self.detail.getAxis("left").setTicks([major, minor])
        bottom = lanes[-1][2] - 1.08
        self.pending.set_y_bounds(bottom, 1.08)
        self._detail_vb.setLimits(yMin=bottom, yMax=1.08)
        self._detail_vb.setYRange(bottom, 1.08, padding=0)

    def _range_changed(self, _vb: Any, rng: tuple[float, float]) -> None:
        a, b = float(rng[0]), float(rng[1])
        self.refresh()
        self.overview.set_window(a, b)
        self.view_range_changed.emit(a, b)
        # pyqtgraph moves the plots' contents at the start of the next paint; items whose
        # bounding rect follows the view (the lines of region items) would then change
        # geometry while painted, and Qt would paint the scene a second time that frame
        for vb in (self._detail_vb, self._spec_vb):
            vb.updateMatrix()

    def pixel_width(self) -> int:
        return max(16, int(self._detail_vb.width()))

    def refresh(self) -> None:
        """Recompute what is drawn for the visible range (cheap; called on every change)."""
        pyr, info = self._pyramid, self._info
        if pyr is None or info is None:
            return
        a, b = self.view_range()
        px = self.pixel_width()
        sr = info.sample_rate
        f0, f1 = a * sr, b * sr
        lanes = self._lanes()
        self.spectrogram.update_range(a, b, px)
        decoded = pyr.decoded_until()
        covered = pyr.is_complete() or decoded >= min(f1, pyr.frames)
        # a window decoding has not reached is read by seeking (one it is inside fills soon)
        read_ahead = self._read_ahead and f0 > decoded
        if covered:
            self.pending.clear()
        else:
            self.pending.set_span(decoded / sr, pyr.duration_s, self._decoding)
        if pyr.level_for((f1 - f0) / px) is not None:
            if not covered and self._raw.covers(f0, f1):
                self._draw_raw(f0, f1, px, lanes)
                return
            envs = []
            for lane, _ch, off in lanes:
                env = pyr.envelope(f0, f1, lane, px)
                if env is None:
                    break
                starts, mins, maxs = env
                envs.append((starts / sr, mins, maxs, off))
            self._wave.set_envelopes(envs, (a, b))
            self._drawn_mode = "peaks" if covered else "partial"
            if covered and (b - a) / px <= SNAP_PIXEL_S and not self._raw.covers(f0, f1):
                self._raw.request(f0, f1)  # for zero-crossing snaps: not drawn
            elif not covered and read_ahead:
                self._raw.request(f0, f1)
            return
        if self._raw.covers(f0, f1):
            self._draw_raw(f0, f1, px, lanes)
            return
        # not read yet: show the finest level meanwhile, and read the window in the background
        envs = []
        level = pyr.levels[0]
        i0 = max(0, int(f0 // pyr.base) - 1)
        i1 = min(pyr.available_buckets(0), int(f1 // pyr.base) + 2)
        for lane, _ch, off in lanes:
            sel = level[i0:max(i0, i1), lane]
            starts = (i0 + np.arange(len(sel))) * pyr.base / sr
            envs.append((starts, np.asarray(sel[:, 0]), np.asarray(sel[:, 1]), off))
        self._wave.set_envelopes(envs, (a, b))
        self._drawn_mode = "loading"
        if covered or read_ahead:
            self._raw.request(f0, f1)

    def _raw_arrived(self) -> None:
        """Redraw with the samples read only when the view waits for them: a window read
        ahead, or for zero-crossing snaps, changes nothing on screen."""
        if self._drawn_mode in ("loading", "partial"):
            self.refresh()

    def _draw_raw(self, f0: float, f1: float, px: int,
                  lanes: list[tuple[int, int | None, float]]) -> None:
        raw = self._raw.window
        assert raw is not None
        self.pending.clear()  # the visible samples are read, decoded or not
        mode, drawing = raw_drawing(raw, f0, f1, px, self.sample_rate, lanes)
        span = (f0 / self.sample_rate, f1 / self.sample_rate)
        if mode == "raw-envelope":
            self._wave.set_envelopes(cast(list[Envelope], drawing), span)
        else:
            self._wave.set_samples(cast(list[Samples], drawing), mode == "samples-dots", span)
        self._drawn_mode = mode
        self._raw.keep_ahead(f0, f1)

    @property
    def drawn_mode(self) -> str:
        """What the detail plot shows: "peaks", "partial" (peaks of the decoded part, the rest
        pending), "loading", "raw-envelope", "samples[-dots]"."""
        return self._drawn_mode

    # -- selection and keys ------------------------------------------------------------------

    def _region_edited(self) -> None:
        a, b = self._regions[0].getRegion()
        a, b = float(a), float(b)
        other = self._regions[1]
        other.blockSignals(True)
        other.setRegion((a, b))
        other.blockSignals(False)
        if self._selection != (a, b) and b > a:
            self._selection = (a, b)
            self.selection_changed.emit(a, b)

    def keyPressEvent(self, ev: QKeyEvent) -> None:
        """The view's keys, looked up in the window's keymap (a modified key is not plain)."""
        command = command_for(self, ev, (EDITOR,), "waveform.")
        action = navigation_keys(self).get(command or "")
        if action is None:
            super().keyPressEvent(ev)
            return
        action()
        ev.accept()

    def resizeEvent(self, ev: Any) -> None:
        super().resizeEvent(ev)
        self._message.place()
