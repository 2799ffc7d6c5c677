"""Precision, recall and F1 against the confidence threshold, with the best F1 marked."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from relay_desktop.core.evaluation import SweepPoint

CURVES = (("precision", "Precision", "#42a5f5"), ("recall", "Recall", "#ffa726"),
          ("f1", "F1", "#66bb6a"))


class ThresholdPlot(QWidget):
    """A pyqtgraph plot of a threshold sweep; ``best_line`` marks the best-F1 threshold."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget(self)
        self.plot_widget.setObjectName("evaluationThresholdPlot")
        self.plot_widget.setMinimumHeight(140)
        plot = self.plot = self.plot_widget.getPlotItem()
        plot.setLabel("bottom", "Confidence threshold")
        plot.setLabel("left", "Score")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setXRange(0.0, 1.0, padding=0.02)
        plot.setYRange(0.0, 1.0, padding=0.05)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        self.legend = plot.addLegend(offset=(-10, 10))
        self.curves = {key: plot.plot([], [], name=title, pen=pg.mkPen(color, width=2))
                       for key, title, color in CURVES}
        self.best_line = pg.InfiniteLine(angle=90, movable=False,
                                         pen=pg.mkPen("#e0e0e0", width=1,
                                                      style=pg.QtCore.Qt.PenStyle.DashLine),
                                         label="", labelOpts={"position": 0.08,
                                                              "color": "#e0e0e0",
                                                              "fill": (30, 30, 30, 180)})
        self.best_point = pg.ScatterPlotItem(size=9, brush=pg.mkBrush("#66bb6a"),
                                             pen=pg.mkPen("#ffffff"))
        plot.addItem(self.best_line, ignoreBounds=True)
        plot.addItem(self.best_point)
        self.best_line.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot_widget)

    def set_points(self, points: Sequence[SweepPoint], best: SweepPoint | None) -> None:
        xs = [p.threshold for p in points]
        for key, curve in self.curves.items():
            curve.setData(xs, [getattr(p, key) for p in points])
        if best is None:
            self.best_line.hide()
            self.best_point.setData([], [])
            return
        self.best_line.setValue(best.threshold)
        self.best_line.label.setFormat(self.best_label(best))
        self.best_line.show()
        self.best_point.setData([best.threshold], [best.f1])

    @staticmethod
    def best_label(best: SweepPoint) -> str:
        return (f"best F1 {best.f1:.3f} at {best.threshold:.2f}\n"
                f"P {best.precision:.3f} · R {best.recall:.3f}")

    def best_text(self) -> str:
        """The best-F1 label as shown ("" when there is none)."""
        return self.best_line.label.format if self.best_line.isVisible() else ""
