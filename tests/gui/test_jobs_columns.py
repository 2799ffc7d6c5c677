"""The jobs table's columns fit its jobs when the list changes, and stay put while jobs run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from relay_desktop.api.models import TrainingJob, TrainingProgress
from relay_desktop.ui.jobs import JobsPanel
from relay_desktop.ui.jobs.model import COLUMNS, ERROR


def jobs(count: int, running: int) -> list[TrainingJob]:
    now = datetime.now(UTC)
    return [TrainingJob(f"job-{i}", "running" if i < running else "completed",
                        dataset_id="d", annotation_set_id="s",
                        created_at=now - timedelta(minutes=i),
                        started_at=now - timedelta(minutes=i, seconds=5),
                        progress=TrainingProgress(i % 10, 10, (1.0,) * (i % 10), ()))
            for i in range(count)]


def test_columns_fit_the_listed_jobs_and_ticks_do_not_move_them(qtbot: Any) -> None:
    panel = JobsPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.model.set_jobs(jobs(40, running=3), [])
    header = panel.table.horizontalHeader()
    metrics = panel.table.fontMetrics()

    def fits() -> bool:
        return all(header.sectionSize(col) >= metrics.horizontalAdvance(
            str(panel.proxy.index(row, col).data())) for row in range(5)
            for col in range(len(COLUMNS)) if col != ERROR)

    qtbot.waitUntil(fits, timeout=2000)
    widths = [header.sectionSize(c) for c in range(len(COLUMNS))]
    for _ in range(3):
        panel.model.tick()
    panel.model.set_jobs(jobs(40, running=2), [])   # a job finished: same rows, new status
    qtbot.wait(50)
    assert [header.sectionSize(c) for c in range(len(COLUMNS))] == widths
    assert fits()
