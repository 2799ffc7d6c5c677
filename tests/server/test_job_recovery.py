"""The reaper: leased work whose process died is queued again exactly once (SQLite and Redis
queues), live work is left alone, and work that used up its attempts fails with a reason."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from relay_server.db.base import utcnow
from relay_server.db.models import InferenceFile, InferenceJob, TrainingJob
from relay_server.inference_state import finish_file
from relay_server.jobs.context import JobContext
from relay_server.jobs.leases import MAX_ATTEMPTS, QUEUED_MARK, new_owner
from relay_server.jobs.queue import TaskQueue
from relay_server.jobs.recovery import GAVE_UP, Reaper, reap_leased
from tests.support.job_rows import (
    add_inference_files,
    add_training_job,
    database_url,
    job_context,
    load,
    set_lease,
)
from tests.support.redis_server import redis_url

pytestmark = pytest.mark.postgres


@pytest.fixture(params=["sqlite-queue", "redis-queue"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TaskQueue]:
    """A TaskQueue (nobody consuming it) on a real database, on SQLite or on Redis."""
    url = database_url(tmp_path)
    if request.param == "redis-queue":
        with redis_url(tmp_path / "redis") as queue_url:
            ctx, engine = job_context(tmp_path / "data", url, queue_url=queue_url,
                                      lease_ttl_s=5.0)
            yield from _queue(ctx, engine)
    else:
        ctx, engine = job_context(tmp_path / "data", url, lease_ttl_s=5.0)
        yield from _queue(ctx, engine)


def _queue(ctx: JobContext, engine: Engine) -> Iterator[TaskQueue]:
    queue = TaskQueue(ctx)
    try:
        yield queue
    finally:
        queue.close()
        engine.dispose()


def _queued(queue: TaskQueue, name: str, key: str) -> list[str]:
    return sorted(str(kw[key]) for kw in queue.pending_kwargs(name))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(30)
    return proc.pid


def test_lapsed_free_and_dead_holders_are_queued_once_live_ones_are_left(
        queue: TaskQueue) -> None:
    factory = queue.ctx.session_factory
    lapsed = add_training_job(factory, status="training", attempts=1)
    set_lease(factory, TrainingJob, lapsed, "far-away:123:abc", -1)
    free = add_training_job(factory, status="queued")
    live = add_training_job(factory, status="training", attempts=1)
    set_lease(factory, TrainingJob, live, "far-away:456:def", 60)
    dead = add_training_job(factory, status="training", attempts=1)
    host = new_owner().rsplit(":", 2)[0]
    set_lease(factory, TrainingJob, dead, f"{host}:{_dead_pid()}:0123", 60)
    finished = add_training_job(factory, status="completed")
    fresh = add_training_job(factory, status="queued")  # its creator queues it in a moment
    set_lease(factory, TrainingJob, fresh, None, None, created_at=utcnow())

    assert reap_leased(queue) == 3
    assert _queued(queue, "train_model", "job_id") == sorted(str(i) for i in (lapsed, free, dead))
    for job_id in (lapsed, free, dead):
        assert load(factory, TrainingJob, job_id)["lease_owner"] == QUEUED_MARK
    assert load(factory, TrainingJob, live)["lease_owner"] == "far-away:456:def"
    assert load(factory, TrainingJob, finished)["lease_owner"] is None

    assert reap_leased(queue) == 0  # marked and still queued: no duplicates
    set_lease(factory, TrainingJob, free, QUEUED_MARK, -1)  # the mark lapsed, the task still waits
    assert reap_leased(queue) == 0
    assert len(queue.pending_kwargs("train_model")) == 3


def test_a_task_lost_from_the_queue_is_queued_again(queue: TaskQueue) -> None:
    factory = queue.ctx.session_factory
    _, files = add_inference_files(factory, 2)
    assert reap_leased(queue) == 2
    queue.huey.flush()  # the queue lost its tasks (a wiped Redis, a deleted queue file)
    assert reap_leased(queue) == 0  # the marks hold for a while...
    for file_id in files:
        set_lease(factory, InferenceFile, file_id, QUEUED_MARK, -1)
    assert reap_leased(queue) == 2  # ...then the rows are queued again
    assert _queued(queue, "infer_file", "file_id") == sorted(str(f) for f in files)


def test_work_that_used_up_its_attempts_fails_with_a_reason(queue: TaskQueue) -> None:
    factory = queue.ctx.session_factory
    job_id = add_training_job(factory, status="training", attempts=MAX_ATTEMPTS)
    set_lease(factory, TrainingJob, job_id, "far-away:1:x", -1)
    inference_job, (bad, good) = add_inference_files(factory, 2)
    set_lease(factory, InferenceFile, bad, QUEUED_MARK, 30, attempts=MAX_ATTEMPTS)
    with factory.begin() as session:
        assert finish_file(session, good, "completed", detections=[], detection_count=0)

    assert reap_leased(queue) == 2
    assert queue.pending_kwargs("train_model") == [] and queue.pending_kwargs("infer_file") == []
    job = load(factory, TrainingJob, job_id)
    assert job["status"] == "failed" and job["completed_at"] is not None
    assert job["error_message"] == GAVE_UP and GAVE_UP.startswith(
        f"stopped after {MAX_ATTEMPTS} attempts: ")
    assert job["lease_owner"] is None
    failed = load(factory, InferenceFile, bad)
    assert failed["status"] == "failed" and failed["error_message"] == GAVE_UP
    counters = load(factory, InferenceJob, inference_job)
    assert (counters["status"], counters["total_files"], counters["processed_files"],
            counters["failed_files"]) == ("completed", 2, 2, 1)


def test_the_reaper_thread_runs_at_start_and_stops(queue: TaskQueue) -> None:
    factory = queue.ctx.session_factory
    job_id = add_training_job(factory, status="queued")
    reaper = Reaper(queue, interval_s=30).start()
    try:
        deadline = time.monotonic() + 10
        while not queue.pending_kwargs("train_model") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _queued(queue, "train_model", "job_id") == [str(job_id)]
    finally:
        started = time.monotonic()
        reaper.stop()
    assert time.monotonic() - started < 5  # it does not sleep out its interval
