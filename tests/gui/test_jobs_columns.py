"""The jobs table's columns fit its jobs when the list changes, and stay put while jobs run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from relay_desktop.api.models import TrainingJob, TrainingProgress
from relay_desktop.ui.jobs import JobsPanel
from relay_desktop.ui.jobs.model import COLUMNS, ERROR, JOB_ROLE, STATUS


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


def test_row_texts_are_kept_until_their_job_changes_ticks_or_is_renamed(qtbot: Any) -> None:
    from dataclasses import replace

    from relay_desktop.ui.jobs.model import ELAPSED, STATUS, WHAT, JobsTableModel

    names = {"job-0": "Demo v1"}
    model = JobsTableModel(lambda _kind, job: names.get(job.id, "?"))
    listed = jobs(3, running=1)
    model.set_jobs(listed, [])

    def text(row: int, column: int) -> str:
        return str(model.index(row, column).data())

    assert (text(0, WHAT), text(0, STATUS), text(1, STATUS)) == ("Demo v1", "running",
                                                                 "completed")
    started = listed[0].started_at
    assert started is not None
    # the job moves on: a changed job's row is made again, its neighbours are kept
    moved = [replace(listed[0], status="completed", completed_at=started + timedelta(
        minutes=2)), *listed[1:]]
    model.set_jobs(moved, [])
    assert (text(0, STATUS), text(0, ELAPSED)) == ("completed", "2:00")
    names["job-0"] = "Renamed v2"   # the dataset's name arrived later
    assert text(0, WHAT) == "Demo v1"
    model.refresh_descriptions()
    assert text(0, WHAT) == "Renamed v2"
    # a running job's elapsed time is made again on every tick
    running = [replace(moved[0], status="running", completed_at=None,
                       started_at=datetime.now(UTC) - timedelta(seconds=30)), *moved[1:]]
    model.set_jobs(running, [])
    assert text(0, ELAPSED) in ("0:30", "0:31")
    five = [replace(running[0], started_at=datetime.now(UTC) - timedelta(minutes=5)),
            *running[1:]]
    model.set_jobs(five, [])
    assert text(0, ELAPSED) == "5:00"
    # only the clock moves (the same job object): the kept text stays until the tick
    object.__setattr__(five[0], "started_at", datetime.now(UTC) - timedelta(minutes=9))
    assert text(0, ELAPSED) == "5:00"
    model.tick()
    assert text(0, ELAPSED) == "9:00"


def test_a_new_job_is_inserted_at_the_top_keeping_the_rows_and_the_selection(
        qtbot: Any) -> None:
    panel = JobsPanel()
    qtbot.addWidget(panel)
    listed = jobs(30, running=2)
    panel.model.set_jobs(listed, [])
    assert panel.select_job("training", "job-4")
    resets: list[int] = []
    panel.model.modelReset.connect(lambda: resets.append(1))
    newest = TrainingJob("job-new", "queued", dataset_id="d", annotation_set_id="s",
                         created_at=datetime.now(UTC) + timedelta(seconds=5))
    panel.model.set_jobs([newest, *listed], [])
    assert not resets                                   # inserted, not rebuilt
    assert panel.model.rowCount() == 31
    assert panel.model.index(0, STATUS).data() == "queued"
    assert panel.model.job_at(0) == ("training", newest)
    assert [panel.model.index(r, 0).data(JOB_ROLE).id for r in (0, 1, 30)] == [
        "job-new", "job-0", "job-29"]
    selected = panel.selected_job()
    assert selected is not None and selected[1].id == "job-4"
    # a list that is not the old one under new jobs is rebuilt
    panel.model.set_jobs(listed[5:], [])
    assert resets and panel.model.rowCount() == 25
    assert panel.model.index(0, 0).data(JOB_ROLE).id == "job-5"
