"""A live plot of a training job's train and validation loss per epoch (pyqtgraph).

Each series is one :class:`LossSeries` item drawing its line and its epoch
markers with two calls into Qt. A PlotCurveItem and a ScatterPlotItem per
series cost four Python items per repaint, each mapping its bounds to pixels
several times, and made this plot the largest part of the Jobs dock's repaint
while a job was followed (one repaint per epoch). The legend's entry of a
series shows its line and marker, and a click on it hides both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from relay_desktop.ui.waveform.axis import FastAxisItem

TRAIN_COLOR = "#3b6ff5"
VALIDATION_COLOR = "#e07a1f"
LINE_WIDTH = 2
SYMBOL_SIZE = 5


def _dot_pixmap(color: QColor) -> QPixmap:
    """An antialiased round marker SYMBOL_SIZE logical pixels across (sharp at any ratio)."""
    ratio = 2.0   # drawn at twice the size: crisp on HiDPI screens, scaled down elsewhere
    side = round(SYMBOL_SIZE * ratio)
    pixmap = QPixmap(side, side)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    painter.drawEllipse(QRectF(0, 0, SYMBOL_SIZE, SYMBOL_SIZE))
    painter.end()
    return pixmap


class LossSeries(pg.GraphicsObject):
    """One loss series (x: epoch 1..n): a line through round markers, in data coordinates."""

    def __init__(self, name: str, color: str) -> None:
        super().__init__()
        self._name = name
        # read by the legend's sample (pyqtgraph's ItemSample): a line and a round marker
        self.opts: dict[str, Any] = {"pen": pg.mkPen(color, width=LINE_WIDTH), "symbol": "o",
                                     "size": SYMBOL_SIZE, "brush": pg.mkBrush(color),
                                     "antialias": True}
        self._line = QPen(QColor(color), LINE_WIDTH)
        self._line.setCosmetic(True)
        self._dot = _dot_pixmap(QColor(color))
        self.values: list[float] = []
        self._xy: list[tuple[float, float]] = []
        self._points = QPolygonF()
        self._bounds = QRectF()
        self._pad: tuple[float, float] | None = None   # markers' reach, in data units

    def name(self) -> str:
        return self._name

    def set_values(self, values: Sequence[float]) -> None:
        """Plot ``values`` (epoch 1..n); unchanged values are not redrawn. An epoch whose
        loss is not finite (a diverging job) gets no point: the line joins its neighbours."""
        values = [float(v) for v in values]
        if values == self.values:
            return
        self.prepareGeometryChange()
        self.values = values
        self._xy = [(float(i + 1), v) for i, v in enumerate(values) if math.isfinite(v)]
        self._points = QPolygonF([QPointF(x, y) for x, y in self._xy])
        self._bounds = QRectF()
        if self._xy:
            xs, ys = [x for x, _y in self._xy], [y for _x, y in self._xy]
            self._bounds = QRectF(xs[0], min(ys), xs[-1] - xs[0], max(ys) - min(ys))
        self.informViewBoundsChanged()
        self.update()

    def points(self) -> list[tuple[float, float]]:
        """The (epoch, loss) points as drawn."""
        return list(self._xy)

    # -- what the view box asks -------------------------------------------------------------
    def dataBounds(self, axis: int, frac: float = 1.0,
                   orthoRange: Any = None) -> tuple[float, float] | None:
        if not self._xy:
            return None
        b = self._bounds
        return (b.left(), b.right()) if axis == 0 else (b.top(), b.bottom())

    def pixelPadding(self) -> float:
        return SYMBOL_SIZE / 2 + 1   # markers reach past the data by half their size

    def viewTransformChanged(self) -> None:
        self._pad = None   # a pixel is another length in data units now
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        if not self._xy:
            return QRectF()
        if self._pad is None:
            px, py = self.pixelLength(pg.Point(1, 0)), self.pixelLength(pg.Point(0, 1))
            self._pad = ((px or 0.0) * SYMBOL_SIZE, (py or 0.0) * SYMBOL_SIZE)
        pad_x, pad_y = self._pad
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def paint(self, p: QPainter, *args: Any) -> None:
        """The line (not antialiased, as pyqtgraph's curves), then a smooth dot per epoch,
        blitted from one pixmap: stroking round points antialiased costs a millisecond a
        series, which a repaint per epoch cannot spare."""
        if not self._xy:
            return
        p.setPen(self._line)
        p.drawPolyline(self._points)
        centres = p.transform().map(self._points)
        p.save()
        p.resetTransform()
        half = SYMBOL_SIZE / 2
        dot = self._dot
        for i in range(centres.size()):
            c = centres.at(i)
            p.drawPixmap(QPointF(c.x() - half, c.y() - half), dot)
        p.restore()


class LossPlot(QWidget):
    """Shows ``job.progress`` losses; :meth:`show_job` with None clears it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lossPlot")
        self.job_id: str | None = None
        self._shown: tuple[Any, ...] | None = None
        self.title = QLabel("Select a training job to see its loss per epoch.")
        self.title.setWordWrap(True)
        # the waveform's cheaper axes: pyqtgraph's own replay a QPicture on every repaint
        self.plot = pg.PlotWidget(axisItems={"bottom": FastAxisItem("bottom"),
                                             "left": FastAxisItem("left")})
        self.plot.setMinimumHeight(140)
        self.plot.setBackground(None)   # the panel's own background, light or dark
        item = self.plot.getPlotItem()
        for axis in ("bottom", "left"):
            item.getAxis(axis).enableAutoSIPrefix(False)
        item.setLabel("bottom", "epoch")
        item.setLabel("left", "loss")
        legend = item.addLegend(offset=(-10, 10))
        item.setMenuEnabled(False)
        self.train = LossSeries("train", TRAIN_COLOR)
        self.validation = LossSeries("validation", VALIDATION_COLOR)
        for series in (self.train, self.validation):
            item.addItem(series)
            legend.addItem(series, series.name())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.plot, 1)

    def show_job(self, job: Any) -> None:
        """Plot this training job's losses (None: nothing); unchanged data is not redrawn."""
        self.job_id = job.id if job is not None else None
        progress = getattr(job, "progress", None)
        train = list(progress.train_loss) if progress is not None else []
        validation = list(progress.validation_loss) if progress is not None else []
        shown = (self.job_id, getattr(job, "status", None), tuple(train), tuple(validation))
        if shown == self._shown:
            return
        self._shown = shown
        self.train.set_values(train)
        self.validation.set_values(validation)
        if job is None:
            self.title.setText("Select a training job to see its loss per epoch.")
        elif not train:
            self.title.setText(f"Training job {job.status}: no epoch finished yet.")
        else:
            epochs = progress.epochs if progress is not None else len(train)
            self.title.setText(f"Loss per epoch ({len(train)} of {epochs} epochs, "
                               f"{job.status}); last train {train[-1]:.4g}"
                               + (f", validation {validation[-1]:.4g}" if validation else ""))

    def points(self) -> tuple[list[float], list[float]]:
        """The plotted (train, validation) losses, as drawn."""
        return ([y for _x, y in self.train.points()],
                [y for _x, y in self.validation.points()])
