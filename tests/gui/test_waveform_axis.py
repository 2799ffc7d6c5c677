"""Fast axes: pixel for pixel what pyqtgraph's own AxisItem draws with the same labels.

Each case renders two identical plots, one with our axis and one with a plain
:class:`pyqtgraph.AxisItem` that formats labels the same way, through the same
sequence of ranges (so stale caches show up too), and compares the whole widget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QApplication

from relay_desktop.ui.waveform.axis import (
    FrequencyAxisItem,
    TimeAxisItem,
    clear_of_top,
    label,
)

HOURS_10 = 36_000.0


class RefTimeAxis(pg.AxisItem):
    """pyqtgraph's AxisItem with TimeAxisItem's labels: the reference picture."""

    _labels: dict[tuple[float, int], str] = {}
    tickStrings = TimeAxisItem.tickStrings

    def __init__(self, orientation: str = "top") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)


class RefFrequencyAxis(pg.AxisItem):
    """pyqtgraph's AxisItem with FrequencyAxisItem's labels."""

    tickStrings = FrequencyAxisItem.tickStrings

    def __init__(self, orientation: str = "left") -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:
        # the same rule as FrequencyAxisItem: no label at the very top
        return clear_of_top(super().tickValues(minVal, maxVal, size), minVal, maxVal, size,
                            FrequencyAxisItem.TOP_CLEARANCE_PX)


class Rig:
    """A plot laid out like WaveformView's detail plot, rendered to arrays."""

    def __init__(self, qtbot: Any, side: str, axis: pg.AxisItem, width: int) -> None:
        self.widget = pg.GraphicsLayoutWidget()
        qtbot.addWidget(self.widget)
        self.widget.setBackground("k")
        self.widget.ci.setSpacing(0)
        self.widget.ci.layout.setContentsMargins(0, 0, 6, 0)
        self.plot = pg.PlotItem(axisItems={side: axis})
        self.plot.hideButtons()
        self.axis = axis
        if side == "top":
            self.plot.showAxis("top")
            self.plot.hideAxis("bottom")
            self.plot.getAxis("left").setWidth(52)
            axis.setHeight(24)
        else:
            self.plot.hideAxis("bottom")
            axis.setWidth(52)
        self.widget.addItem(self.plot)
        self.widget.resize(width, 240)
        self.widget.show()
        QApplication.processEvents()

    def render(self, lo: float, hi: float, vertical: bool = False) -> np.ndarray:
        if vertical:
            self.plot.setYRange(lo, hi, padding=0)
        else:
            self.plot.setXRange(lo, hi, padding=0)
        QApplication.processEvents()
        return image_array(self.widget.grab().toImage())


def image_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(),
                                                             image.bytesPerLine())
    return rows[:, :image.width() * 4].copy()


def zoom_and_pan(duration: float) -> list[tuple[float, float]]:
    """Whole file down to a few ms, pans at fixed spans, odd offsets and hour edges."""
    out = [(0.0, duration), (0.0, duration * 0.8), (duration * 0.1, duration)]
    span, centre = duration, duration * 0.37
    while span > 0.004:
        out.append((centre - span / 2, centre + span / 2))
        span *= 0.45
    for span in (3600.0, 125.0, 7.3, 0.61):
        out += [(c, c + span) for c in np.arange(6) * span * 0.137 + 1234.5678]
    out += [(3599.5, 3600.7), (35999.0, 36000.0), (59.99, 60.02), (0.0, 0.004),
            (-3.0, 12.0), (1e-3, 1e-3 + 2.5e-4)]
    return [(float(a), float(b)) for a, b in out]


@pytest.fixture
def pair(qtbot: Any) -> Iterator[Callable[..., tuple[Rig, Rig]]]:
    def build(side: str, fast: pg.AxisItem, ref: pg.AxisItem,
              width: int = 1000) -> tuple[Rig, Rig]:
        return Rig(qtbot, side, fast, width), Rig(qtbot, side, ref, width)
    yield build


def assert_same(fast: Rig, ref: Rig, ranges: list[tuple[float, float]],
                vertical: bool = False) -> None:
    drawn = 0
    for lo, hi in ranges:
        got, want = fast.render(lo, hi, vertical), ref.render(lo, hi, vertical)
        bad = np.argwhere(got != want)
        assert not len(bad), (f"range {lo!r}..{hi!r}: {len(bad)} bytes differ, rows "
                              f"{bad[:, 0].min()}-{bad[:, 0].max()}, "
                              f"x {bad[:, 1].min() // 4}-{bad[:, 1].max() // 4}")
        drawn += int(got.any())
    assert drawn == len(ranges), "some frames came out blank"


@pytest.mark.parametrize("width", [1000, 1600, 433])
def test_time_axis_matches_pyqtgraph(pair: Callable[..., tuple[Rig, Rig]], width: int) -> None:
    fast, ref = pair("top", TimeAxisItem("top"), RefTimeAxis("top"), width)
    assert_same(fast, ref, zoom_and_pan(HOURS_10))


def test_time_axis_draws_labels_and_ticks(pair: Callable[..., tuple[Rig, Rig]]) -> None:
    """The comparison is not vacuous: the axis strip has labels and they move with a pan."""
    fast, _ref = pair("top", TimeAxisItem("top"), RefTimeAxis("top"))
    top = fast.axis.mapRectToScene(fast.axis.boundingRect()).toAlignedRect()
    strip = slice(top.top(), top.bottom() - 6)
    a = fast.render(100.0, 160.0)[strip]
    b = fast.render(101.0, 161.0)[strip]
    assert a.any() and b.any()
    assert (a != b).any()


def test_time_axis_after_style_and_size_changes(pair: Callable[..., tuple[Rig, Rig]]) -> None:
    """Cached pens, fonts and layout follow setTextPen/setTickPen/setTickFont and resizes."""
    fast, ref = pair("top", TimeAxisItem("top"), RefTimeAxis("top"))
    ranges = [(0.0, HOURS_10), (1234.5, 1300.25), (12.0, 12.5)]
    assert_same(fast, ref, ranges)
    for rig in (fast, ref):
        rig.axis.setTextPen("y")
        rig.axis.setTickPen(pg.mkPen("c", width=1))
    assert_same(fast, ref, ranges)
    font = QFont()
    font.setPointSize(7)
    for rig in (fast, ref):
        rig.axis.setTickFont(font)
        rig.axis.setStyle(tickLength=6, maxTickLevel=1)
    assert_same(fast, ref, ranges)
    for rig in (fast, ref):
        rig.widget.resize(777, 200)
    assert_same(fast, ref, ranges)


def test_time_axis_grid_stops_and_hidden_values(pair: Callable[..., tuple[Rig, Rig]]) -> None:
    """Grid on and off again, axis line stopped at the outer ticks, values hidden."""
    fast, ref = pair("top", TimeAxisItem("top"), RefTimeAxis("top"))
    ranges = [(0.0, HOURS_10), (1234.5, 1300.25)]
    assert_same(fast, ref, ranges)
    for style in ({"grid": 100}, {"grid": False}, {"stopAxisAtTick": (True, True)},
                  {"showValues": False}):
        for rig in (fast, ref):
            if "grid" in style:
                rig.axis.setGrid(style["grid"])
            else:
                rig.axis.setStyle(**style)
        assert_same(fast, ref, ranges)


def test_time_axis_repaint_without_range_change(pair: Callable[..., tuple[Rig, Rig]]) -> None:
    fast, ref = pair("top", TimeAxisItem("top"), RefTimeAxis("top"))
    first = fast.render(500.0, 620.0)
    fast.widget.viewport().repaint()
    assert (fast.render(500.0, 620.0) == first).all()
    assert (ref.render(500.0, 620.0) == first).all()


def test_time_tick_values_match_pyqtgraph() -> None:
    fast, ref = TimeAxisItem("top"), RefTimeAxis("top")
    for lo, hi in zoom_and_pan(HOURS_10):
        for size in (300.0, 947.0, 1549.0):
            assert fast.tickValues(lo, hi, size) == ref.tickValues(lo, hi, size), (lo, hi)
            assert fast.tickValues(hi, lo, size) == ref.tickValues(hi, lo, size), (lo, hi)


@pytest.mark.parametrize("scale", [1.0, 1e-3, 7.0, -2.0])
def test_tick_values_match_pyqtgraph_random(scale: float) -> None:
    """The same floats as pyqtgraph's numpy version, far from zero and at any scale too."""
    rng = np.random.default_rng(7)
    fast, ref = pg.AxisItem("bottom"), pg.AxisItem("bottom")
    fast.tickValues = TimeAxisItem.tickValues.__get__(fast)  # type: ignore[method-assign]
    for axis in (fast, ref):
        axis.setScale(scale)
    for _ in range(600):
        centre = rng.choice([0.0, 1.0, 1e6, 1e13, 1e16]) * rng.uniform(-1, 1)
        span = 10.0 ** rng.uniform(-6, 9)
        lo = centre - span * rng.uniform(0, 1)
        size = rng.uniform(50, 3000)
        for level in (0, 1, 2):
            for axis in (fast, ref):
                axis.setStyle(maxTickLevel=level)
            assert fast.tickValues(lo, lo + span, size) == ref.tickValues(lo, lo + span, size), (
                lo, span, size, level)


def test_tick_values_with_offsets_match_pyqtgraph() -> None:
    fast, ref = TimeAxisItem("top"), RefTimeAxis("top")
    for axis in (fast, ref):
        axis.setTickSpacing(levels=[(10.0, 3.0), (2.5, 0.5), (0.5, 0.0)])
    for lo, hi in [(0.0, 100.0), (-17.3, 42.1), (999.9, 1001.7)]:
        assert fast.tickValues(lo, hi, 800.0) == ref.tickValues(lo, hi, 800.0)


def test_time_labels() -> None:
    axis = TimeAxisItem("top")
    assert axis.tickStrings([0.0, 90.0, 3725.5], 1.0, 0.5) == ["00:00.0", "01:30.0",
                                                               "1:02:05.5"]
    assert label(-61.0, 0) == "-01:01"


@pytest.mark.parametrize("top", [22_050.0, 8_000.0, 950.0])
def test_frequency_axis_matches_pyqtgraph(pair: Callable[..., tuple[Rig, Rig]],
                                          top: float) -> None:
    fast, ref = pair("left", FrequencyAxisItem("left"), RefFrequencyAxis("left"))
    ranges = [(0.0, top), (top * 0.25, top * 0.5), (top * 0.1, top * 0.1 + 37.0)]
    assert_same(fast, ref, ranges, vertical=True)
