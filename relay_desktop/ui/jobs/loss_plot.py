"""A live plot of a training job's train and validation loss per epoch (pyqtgraph).

Each series is a line (PlotCurveItem) and its epoch markers (ScatterPlotItem).
A new epoch appends one marker per series instead of rebuilding every marker
(a PlotDataItem with symbols rebuilds all of them on every update and again on
every autorange), so a job followed live costs little per epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from relay_desktop.ui.waveform.axis import FastAxisItem

TRAIN_COLOR = "#3b6ff5"
VALIDATION_COLOR = "#e07a1f"
SYMBOL_SIZE = 5


class LossSeries:
    """One loss series: its line and markers, extended in place while only epochs are added."""

    def __init__(self, item: Any, name: str, color: str) -> None:
        self.curve = pg.PlotCurveItem([], [], pen=pg.mkPen(color, width=2), name=name)
        self.markers = pg.ScatterPlotItem(size=SYMBOL_SIZE, pen=None, brush=pg.mkBrush(color),
                                          symbol="o")
        item.addItem(self.curve)  # named: the plot puts it in its legend
        item.addItem(self.markers)
        self.values: list[float] = []

    def show(self, values: Sequence[float]) -> None:
        """Plot ``values`` (epoch 1..n); markers already drawn for an unchanged prefix stay."""
        values = [float(v) for v in values]
        if values == self.values:
            return
        n = len(self.values)
        x = list(range(1, len(values) + 1))
        if len(values) >= n and values[:n] == self.values:
            self.markers.addPoints(x=x[n:], y=values[n:])
        else:
            self.markers.setData(x=x, y=values)
        self.curve.setData(x, values)
        self.values = values


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
        item.addLegend(offset=(-10, 10))
        item.setMenuEnabled(False)
        self.train = LossSeries(item, "train", TRAIN_COLOR)
        self.validation = LossSeries(item, "validation", VALIDATION_COLOR)
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
        self.train.show(train)
        self.validation.show(validation)
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
        return _drawn(self.train.curve), _drawn(self.validation.curve)


def _drawn(curve: Any) -> list[float]:
    _x, y = curve.getData()
    return [float(v) for v in (y if y is not None else [])]
