"""A live plot of a training job's train and validation loss per epoch (pyqtgraph)."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from relay_desktop.ui.waveform.axis import FastAxisItem

TRAIN_COLOR = "#3b6ff5"
VALIDATION_COLOR = "#e07a1f"


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
        self.train_curve = item.plot([], [], name="train", symbol="o", symbolSize=5,
                                     pen=pg.mkPen(TRAIN_COLOR, width=2),
                                     symbolBrush=TRAIN_COLOR, symbolPen=None)
        self.validation_curve = item.plot([], [], name="validation", symbol="o",
                                          symbolSize=5,
                                          pen=pg.mkPen(VALIDATION_COLOR, width=2),
                                          symbolBrush=VALIDATION_COLOR, symbolPen=None)
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
        self.train_curve.setData(list(range(1, len(train) + 1)), train)
        self.validation_curve.setData(list(range(1, len(validation) + 1)), validation)
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
        _x1, y1 = self.train_curve.getData()
        _x2, y2 = self.validation_curve.getData()
        return ([float(v) for v in (y1 if y1 is not None else [])],
                [float(v) for v in (y2 if y2 is not None else [])])
