"""A live plot of a training job's train and validation loss per epoch (pyqtgraph).

Each series is one :class:`LossSeries` item drawing its line and its epoch
markers with two calls into Qt. A PlotCurveItem and a ScatterPlotItem per
series cost four Python items per repaint, each mapping its bounds to pixels
several times, and made this plot the largest part of the Jobs dock's repaint
while a job was followed (one repaint per epoch). The legend's entry of a
series shows its line and marker, and a click on it hides both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from relay_desktop.ui.waveform.axis import FastAxisItem

TRAIN_COLOR = "#3b6ff5"
VALIDATION_COLOR = "#e07a1f"
LINE_WIDTH = 2
SYMBOL_SIZE = 5


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
        self._dots = QPen(QColor(color), SYMBOL_SIZE)
        self._dots.setCapStyle(Qt.PenCapStyle.RoundCap)
        for pen in (self._line, self._dots):
            pen.setCosmetic(True)
        self.values: list[float] = []
        self._xy: list[tuple[float, float]] = []
        self._points = QPolygonF()
        self._bounds = QRectF()
        self._pad: tuple[float, float] | None = None   # markers' reach, in data units

    def name(self) -> str:
        return self._name

    def set_values(self, values: Sequence[float]) -> None:
        """Plot ``values`` (epoch 1..n); unchanged values are not redrawn."""
        values = [float(v) for v in values]
        if values == self.values:
            return
        self.prepareGeometryChange()
        self.values = values
        self._xy = [(float(i + 1), v) for i, v in enumerate(values)]
        self._points = QPolygonF([QPointF(x, y) for x, y in self._xy])
        self._bounds = (QRectF(1.0, min(values), max(len(values) - 1, 0), max(values)
                               - min(values)) if values else QRectF())
        self.informViewBoundsChanged()
        self.update()

    def points(self) -> list[tuple[float, float]]:
        """The (epoch, loss) points as drawn."""
        return list(self._xy)

    # -- what the view box asks -------------------------------------------------------------
    def dataBounds(self, axis: int, frac: float = 1.0,
                   orthoRange: Any = None) -> tuple[float, float] | None:
        if not self.values:
            return None
        if axis == 0:
            return 1.0, float(len(self.values))
        return min(self.values), max(self.values)

    def pixelPadding(self) -> float:
        return SYMBOL_SIZE / 2 + 1   # markers reach past the data by half their size

    def viewTransformChanged(self) -> None:
        self._pad = None   # a pixel is another length in data units now
        super().viewTransformChanged()

    def boundingRect(self) -> QRectF:
        if not self.values:
            return QRectF()
        if self._pad is None:
            px, py = self.pixelLength(pg.Point(1, 0)), self.pixelLength(pg.Point(0, 1))
            self._pad = ((px or 0.0) * SYMBOL_SIZE, (py or 0.0) * SYMBOL_SIZE)
        pad_x, pad_y = self._pad
        return self._bounds.adjusted(-pad_x, -pad_y, pad_x, pad_y)

    def paint(self, p: QPainter, *args: Any) -> None:
        if not self.values:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setPen(self._line)
        p.drawPolyline(self._points)
        p.setPen(self._dots)
        p.drawPoints(self._points)


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
