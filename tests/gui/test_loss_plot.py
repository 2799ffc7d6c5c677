"""The loss plot follows a training job epoch by epoch: one point per epoch, drawn."""

from __future__ import annotations

from typing import Any

from relay_desktop.api.models import TrainingJob, TrainingProgress
from relay_desktop.ui.jobs.loss_plot import LossPlot


def job(job_id: str, train: list[float], validation: list[float],
        status: str = "running") -> TrainingJob:
    return TrainingJob(job_id, status, progress=TrainingProgress(
        len(train), 10, tuple(train), tuple(validation)))


def markers(plot: LossPlot) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    return plot.train.points(), plot.validation.points()


def test_epochs_are_appended_and_another_job_replaces_the_curves(qtbot: Any) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show_job(job("a", [1.0, 0.8], [1.1]))
    plot.show_job(job("a", [1.0, 0.8, 0.6], [1.1, 0.9]))
    assert plot.points() == ([1.0, 0.8, 0.6], [1.1, 0.9])
    assert markers(plot) == ([(1, 1.0), (2, 0.8), (3, 0.6)], [(1, 1.1), (2, 0.9)])
    assert "3 of 10 epochs" in plot.title.text()

    plot.show_job(job("b", [2.0], []))                     # not a continuation: replaced
    assert plot.points() == ([2.0], [])
    assert markers(plot) == ([(1, 2.0)], [])
    plot.show_job(None)
    assert plot.points() == ([], []) and markers(plot) == ([], [])


def test_the_legend_names_each_series_once(qtbot: Any) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show_job(job("a", [1.0, 0.8], [1.1, 0.9]))
    legend = plot.plot.getPlotItem().legend
    assert [label.text for _sample, label in legend.items] == ["train", "validation"]


def shown_plot(qtbot: Any, width: int, height: int) -> LossPlot:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.resize(width, height)
    plot.show()
    qtbot.waitExposed(plot)
    return plot


def test_the_plot_draws_each_series_in_its_colour_and_fits_the_view(qtbot: Any) -> None:
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QColor

    from relay_desktop.ui.jobs.loss_plot import TRAIN_COLOR, VALIDATION_COLOR

    plot = shown_plot(qtbot, 500, 320)
    plot.show_job(job("a", [3.0, 2.0, 1.0, 0.5], [3.2, 2.5, 1.8, 1.6]))
    item = plot.plot.getPlotItem()
    qtbot.waitUntil(lambda: item.getViewBox().viewRange()[1][1] >= 3.2, timeout=3000)
    (x0, x1), (y0, y1) = item.getViewBox().viewRange()
    assert x0 <= 1.0 and x1 >= 4.0 and y0 <= 0.5 and y1 >= 3.2   # every point in view
    image = plot.plot.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(image.width())
               for y in range(0, image.height(), 2)}

    def near(colour: str) -> bool:
        want = QColor(colour)
        return any(abs(QColor(c).red() - want.red()) + abs(QColor(c).green() - want.green())
                   + abs(QColor(c).blue() - want.blue()) < 12 for c in colours)

    assert near(TRAIN_COLOR) and near(VALIDATION_COLOR)
    # a click on the legend's entry hides a whole series, its line and its markers together
    sample, _label = item.legend.items[0]
    assert sample.item is plot.train
    view = plot.plot
    at = view.mapFromScene(sample.mapToScene(QPointF(10, 10)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: not plot.train.isVisible(), timeout=3000)
    assert plot.validation.isVisible()


def test_an_epoch_without_a_finite_loss_gets_no_point(qtbot: Any) -> None:
    plot = shown_plot(qtbot, 400, 260)
    plot.show_job(job("d", [1.0, float("nan"), 0.5, float("inf")], [0.9]))
    assert markers(plot) == ([(1, 1.0), (3, 0.5)], [(1, 0.9)])
    assert plot.train.dataBounds(0) == (1.0, 3.0) and plot.train.dataBounds(1) == (0.5, 1.0)
    vb = plot.plot.getPlotItem().getViewBox()
    qtbot.waitUntil(lambda: vb.viewRange()[1][0] <= 0.5 <= 1.0 <= vb.viewRange()[1][1],
                    timeout=3000)
    plot.plot.grab()   # paints without error
