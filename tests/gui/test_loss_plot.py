"""The loss plot follows a training job epoch by epoch, extending its markers in place."""

from __future__ import annotations

from typing import Any

from relay_desktop.api.models import TrainingJob, TrainingProgress
from relay_desktop.ui.jobs.loss_plot import LossPlot


def job(job_id: str, train: list[float], validation: list[float],
        status: str = "running") -> TrainingJob:
    return TrainingJob(job_id, status, progress=TrainingProgress(
        len(train), 10, tuple(train), tuple(validation)))


def markers(plot: LossPlot) -> tuple[list[float], list[float]]:
    def ys(series: Any) -> list[float]:
        return [float(p.pos().y()) for p in series.markers.points()]
    return ys(plot.train), ys(plot.validation)


def test_epochs_are_appended_and_another_job_replaces_the_curves(qtbot: Any) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show_job(job("a", [1.0, 0.8], [1.1]))
    plot.show_job(job("a", [1.0, 0.8, 0.6], [1.1, 0.9]))
    assert plot.points() == ([1.0, 0.8, 0.6], [1.1, 0.9])
    assert markers(plot) == ([1.0, 0.8, 0.6], [1.1, 0.9])   # one marker per epoch, once
    assert "3 of 10 epochs" in plot.title.text()

    plot.show_job(job("b", [2.0], []))                     # not a continuation: replaced
    assert plot.points() == ([2.0], [])
    assert markers(plot) == ([2.0], [])
    plot.show_job(None)
    assert plot.points() == ([], []) and markers(plot) == ([], [])


def test_the_legend_names_each_series_once(qtbot: Any) -> None:
    plot = LossPlot()
    qtbot.addWidget(plot)
    plot.show_job(job("a", [1.0, 0.8], [1.1, 0.9]))
    legend = plot.plot.getPlotItem().legend
    assert [label.text for _sample, label in legend.items] == ["train", "validation"]
