"""Bars painted as one blended row (span_paint), at device pixel ratios 1 and 2.

The row must give the pixels Qt's own fills give (each span over whole device
columns, colours blended source-over in draw order), land on device pixels at
a ratio of 2 (sharp, not a scaled-up logical row), and the region painter and
detection lane built on it must put their spans where they are; an editable
region item fills its own span on whole device pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QRect, QRectF
from PySide6.QtGui import QColor, QImage, QPainter, QTransform
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from relay_desktop.core.annotations import Region
from relay_desktop.ui.annotations.region_painter import region_arrays
from relay_desktop.ui.review.detection_lane import DetectionLane, LaneDetection
from relay_desktop.ui.span_paint import RowCache, paint_bars

# a WaveformView may load Qt Multimedia first in this process (it looks for PipeWire)
pytestmark = pytest.mark.qt_log_ignore(r"pipewire")
BACKGROUND = QColor("#1b1e23")
RED = QColor(229, 57, 53, 110)
GREEN = QColor(67, 160, 71, 200)


def canvas(width: int, height: int, dpr: float) -> QImage:
    """A ``width`` x ``height`` logical-pixel image at ``dpr``, filled with the background."""
    img = QImage(round(width * dpr), round(height * dpr), QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(BACKGROUND)
    return img


def pixels(img: QImage) -> np.ndarray:
    """The image's pixels as (rows, columns, ARGB bytes in memory order)."""
    ptr = img.constBits()
    arr = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes())
    return arr.reshape(img.height(), img.bytesPerLine() // 4, 4)[:, :img.width()].copy()


def bars(img: QImage, starts: list[float], ends: list[float], colors: list[int],
         edges: list[QColor] | None = None) -> None:
    """Paint spans (seconds) with 10 logical pixels a second over the image's height."""
    p = QPainter(img)
    p.setTransform(QTransform.fromScale(10.0, 1.0))
    band = QRectF(0, 0, img.width() / img.devicePixelRatio() / 10.0,
                  img.height() / img.devicePixelRatio())
    paint_bars(p, band, np.array(starts), np.array(ends), np.array(colors, dtype=np.int32),
               [RED, GREEN], edges, 1.0 if edges else 0.0)
    p.end()


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_bars_give_qts_own_pixels_on_device_columns(qtbot: QtBot, dpr: float) -> None:
    ours = canvas(100, 8, dpr)
    bars(ours, [1.0, 1.5, 5.0], [2.05, 3.0, 5.01], [0, 1, 0])
    qt = canvas(100, 8, dpr)
    p = QPainter(qt)
    p.resetTransform()  # device pixels of the same spans: [floor(start), ceil(end))
    p.setWorldTransform(QTransform.fromScale(1 / dpr, 1 / dpr))
    for (a, b), color in (((10, 20.5), RED), ((50, 50.1), RED), ((15, 30), GREEN)):
        x0, x1 = int(np.floor(a * dpr)), int(np.ceil(b * dpr))
        p.fillRect(QRect(x0, 0, max(x1 - x0, 1), qt.height()), color)
    p.end()
    diff = np.abs(pixels(ours).astype(int) - pixels(qt).astype(int))
    assert diff.max() <= 2          # the same blend, to rounding
    row = pixels(ours)[0]
    coloured = np.flatnonzero(np.any(row != pixels(canvas(100, 8, dpr))[0], axis=1))
    # at a ratio of 2 the 1.05 s span covers 21 device columns, not 11 doubled ones
    assert coloured[0] == round(10 * dpr) and (int(np.ceil(20.5 * dpr)) - 1) in coloured


def test_edges_are_opaque_and_a_row_is_reused_for_the_same_key(qtbot: QtBot) -> None:
    img = canvas(100, 4, 2.0)
    edge = QColor(229, 57, 53)
    bars(img, [2.0], [4.0], [0], [edge, edge])
    row = pixels(img)[1]
    left, inside = row[40], row[50]
    assert tuple(left[:3]) == (edge.blue(), edge.green(), edge.red())   # BGRA in memory
    assert tuple(inside[:3]) != tuple(left[:3])
    cache = RowCache()
    target = canvas(100, 4, 1.0)
    for _ in range(2):
        p = QPainter(target)
        p.setTransform(QTransform.fromScale(10.0, 1.0))
        paint_bars(p, QRectF(0, 0, 10, 4), np.array([1.0]), np.array([2.0]),
                   np.zeros(1, dtype=np.int32), [RED], cache=cache, key="k")
        p.end()
        first = cache.row
    assert first is not None and cache.row is first


def test_painted_regions_show_where_they_are_and_only_there(qtbot: QtBot) -> None:
    from relay_desktop.ui.waveform.view import WaveformView

    regions = [Region(f"r{i}", "a", "click", i * 2000, i * 2000 + 500) for i in range(30)]
    arrays = region_arrays(regions, lambda _t: "#e53935")
    assert arrays.index["r3"] == 3 and arrays.max_len == 0.5
    view = WaveformView()
    qtbot.addWidget(view)
    from relay_desktop.ui.annotations.region_painter import RegionPainter

    painter = RegionPainter()
    view.plots()[0].addItem(painter, ignoreBounds=True)
    painter.set_regions(arrays)
    view.resize(600, 300)
    view.show()
    vb = view.plots()[0].getViewBox()
    vb.setRange(xRange=(11.0, 19.0), padding=0)
    assert painter.painted_in(11.0, 19.0) == 4   # r6 to r9
    painter.set_live(["r6"])
    assert painter.painted_in(11.0, 19.0) == 3

    def colour_at(t_s: float) -> QColor:
        img = view.grab().toImage()
        gv = view.plots()[0].scene().views()[0]
        y0, y1 = vb.viewRange()[1]
        point = gv.mapFromScene(vb.mapViewToScene(QRectF(t_s, y1 - (y1 - y0) * 0.2, 0, 0)
                                                  .topLeft()))
        return img.pixelColor(gv.mapTo(view, point))

    inside, gap, live = colour_at(14.25), colour_at(15.0), colour_at(12.25)
    assert inside.red() > gap.red() + 10       # r7's red tint over the background
    assert live.red() <= gap.red() + 2         # r6 is left to its own item: not painted
    vb.setRange(xRange=(100.0, 110.0), padding=0)
    assert painter.painted_in(100.0, 110.0) == 0


def test_the_detection_lane_draws_on_device_pixels_at_dpr_2(qtbot: QtBot) -> None:
    from relay_desktop.ui.waveform.view import WaveformView

    view = WaveformView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.show()
    lane = DetectionLane(view.plots())
    lane.set_detections([LaneDetection(i, "click", i * 1000, i * 1000 + 250, 1.0)
                         for i in range(10)], {"click": "#00ff00"})
    vb = view.plots()[0].getViewBox()
    qtbot.waitUntil(lambda: vb.width() > 400)     # laid out
    vb.setRange(xRange=(0.0, 10.0), padding=0)
    view.grab()                                      # the view box maps the new range
    item = lane.lane.items[0]
    scene = item.scene()
    band = item.mapRectToScene(item.band())
    counts = {}
    for dpr in (1.0, 2.0):
        img = QImage(round(band.width() * dpr), round(band.height() * dpr),
                     QImage.Format.Format_ARGB32_Premultiplied)
        img.setDevicePixelRatio(dpr)
        img.fill(0)
        p = QPainter(img)
        scene.render(p, QRectF(0, 0, band.width(), band.height()), band)
        p.end()
        row = pixels(img)[img.height() // 2]
        counts[dpr] = int(np.count_nonzero(row[:, 1] > 200))   # green, opaque
    assert counts[1.0] > 0
    assert abs(counts[2.0] - 2 * counts[1.0]) <= 2 * 10   # each span twice as many columns


@pytest.mark.parametrize("dpr", [1.0, 2.0])
def test_an_editable_region_fills_its_span_on_whole_device_pixels(qtbot: QtBot,
                                                                   dpr: float) -> None:
    import pyqtgraph as pg

    from relay_desktop.ui.annotations.region_item import RegionItem, RegionSignals

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.setBackground(BACKGROUND)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    plot.resize(400, 120)
    item = RegionItem(RegionSignals())
    plot.addItem(item)
    item.show_region(Region("r1", "a", "", 2000, 5000), "#e53935", False, True)
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(0, 1, padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    vp = plot.viewport()
    img = QImage(round(vp.width() * dpr), round(vp.height() * dpr),
                 QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(BACKGROUND)
    vp.render(img)
    row = pixels(img)[img.height() // 3]          # away from the edge lines' ends
    differs = np.any(row != row[5], axis=1)       # column 5 is background
    columns = np.flatnonzero(differs)
    px_per_s = img.width() / 10.0
    # the body (and its two edge lines) cover 2 s .. 5 s, nothing else
    assert abs(columns[0] - 2 * px_per_s) <= 2 * dpr and abs(columns[-1] - 5 * px_per_s) <= 2 * dpr
    inside = row[round(3.5 * px_per_s)]
    assert differs[round(2.5 * px_per_s):round(4.5 * px_per_s)].all()
    assert inside[2] > row[5][2] + 20              # tinted red (BGRA in memory order)
    assert not differs[round(0.5 * px_per_s):round(1.8 * px_per_s)].any()
    assert not differs[round(5.3 * px_per_s):round(9.5 * px_per_s)].any()


def test_a_lanes_band_follows_the_view_as_it_zooms_and_resizes(qtbot: QtBot) -> None:
    import pyqtgraph as pg
    from PySide6.QtGui import QColor as Colour

    from relay_desktop.ui.review.lanes import BAND_PX, GAP_PX, LaneSpan, SpanLane

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(400, 200)
    lane = SpanLane([plot.getPlotItem()], name="test", row=1, rows=2)
    lane.set_spans([LaneSpan(2.0, 3.0, Colour("#e53935")), LaneSpan(6.0, 8.5, Colour("#43a047"))])
    plot.setXRange(0, 10, padding=0)
    plot.setYRange(-1, 1, padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    item = lane.items[0]
    vb = plot.getPlotItem().getViewBox()

    def expected_band() -> tuple[float, float, float]:
        (x0, _x1), (_y0, y1) = vb.viewRange()
        per_px = (y1 - _y0) / vb.height()
        top = y1 - (GAP_PX + BAND_PX + GAP_PX) * per_px   # row 1, under row 0
        return x0, top - BAND_PX * per_px, BAND_PX * per_px

    for step in ("shown", "zoomed", "resized"):
        if step == "zoomed":
            plot.setXRange(5, 9, padding=0)
            plot.setYRange(-4, 4, padding=0)
        elif step == "resized":
            plot.resize(600, 320)
            qtbot.waitUntil(lambda: vb.height() > 250, timeout=3000)
        QApplication.processEvents()
        band = item.band()
        x0, bottom, height = expected_band()
        assert band.left() == pytest.approx(x0, abs=1e-6), step
        assert band.top() == pytest.approx(bottom, rel=1e-3, abs=1e-6), step
        assert band.height() == pytest.approx(height, rel=1e-3), step
    assert lane.extent() == (2.0, 8.5)
    bounds = item.boundingRect()
    assert bounds.left() == pytest.approx(5.0) and bounds.right() == pytest.approx(8.5)
