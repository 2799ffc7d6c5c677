"""Job leases on a real database: one claimer wins, a dead holder's lease lapses, a lost
lease stops the work, attempts are counted and given back on a clean shutdown."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete

from relay_server.config import ServerSettings
from relay_server.db.models import InferenceFile, TrainingJob
from relay_server.jobs.context import JobContext
from relay_server.jobs.leases import (
    LEASE_TTL_S,
    MAX_ATTEMPTS,
    QUEUED_MARK,
    JobLease,
    hold_lease,
)
from tests.support.job_rows import (
    add_inference_files,
    add_training_job,
    database_url,
    job_context,
    load,
    set_lease,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[JobContext, Engine, str]]:
    url = database_url(tmp_path)
    ctx, engine = job_context(tmp_path / "data", url, lease_ttl_s=0.6)
    yield ctx, engine, url
    ctx.stop.set()
    engine.dispose()


def test_of_many_concurrent_claimers_exactly_one_wins(db: tuple[JobContext, Engine, str]) -> None:
    ctx, _, _ = db
    job_id = add_training_job(ctx.session_factory)
    start = threading.Barrier(6)
    leases = [JobLease(ctx, TrainingJob, job_id) for _ in range(6)]

    def claim(lease: JobLease) -> None:
        start.wait()
        lease.__enter__()

    threads = [threading.Thread(target=claim, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [lease for lease in leases if lease.acquired]
    try:
        assert len(winners) == 1
        row = load(ctx.session_factory, TrainingJob, job_id)
        assert row["lease_owner"] == winners[0].owner and row["attempts"] == 1
    finally:
        for lease in leases:
            lease.__exit__(None, None, None)
    row = load(ctx.session_factory, TrainingJob, job_id)
    assert row["lease_owner"] is None and row["lease_expires_at"] is None
    assert row["attempts"] == 1  # the winner's attempt; the losers claimed nothing


def test_a_live_lease_is_renewed_and_blocks_others_until_released(
        db: tuple[JobContext, Engine, str]) -> None:
    ctx, _, _ = db
    job_id = add_training_job(ctx.session_factory, status="training")
    with hold_lease(ctx, TrainingJob, job_id) as first:
        assert first.acquired
        before = load(ctx.session_factory, TrainingJob, job_id)["lease_expires_at"]
        time.sleep(1.5)  # 2.5 lifetimes: only the heartbeat keeps it
        with hold_lease(ctx, TrainingJob, job_id) as second:
            assert not second.acquired and not second.should_stop()
        after = load(ctx.session_factory, TrainingJob, job_id)["lease_expires_at"]
        assert after > before  # type: ignore[operator]
        assert not first.should_stop()
    with hold_lease(ctx, TrainingJob, job_id) as third:
        assert third.acquired
    assert load(ctx.session_factory, TrainingJob, job_id)["attempts"] == 2


def test_a_killed_holder_s_lease_lapses_and_another_process_takes_it(
        db: tuple[JobContext, Engine, str], tmp_path: Path) -> None:
    ctx, _, url = db
    job_id = add_training_job(ctx.session_factory, status="training")
    holder = textwrap.dedent(f"""
        import sys, time, uuid
        from pathlib import Path
        from tests.support.job_rows import job_context
        from relay_server.db.models import TrainingJob
        from relay_server.jobs.leases import hold_lease
        ctx, _ = job_context(Path({str(tmp_path / 'holder')!r}), {url!r}, lease_ttl_s=1.0)
        with hold_lease(ctx, TrainingJob, uuid.UUID({str(job_id)!r})) as lease:
            print("held" if lease.acquired else "refused", flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", holder], stdout=subprocess.PIPE, text=True,
                            cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        time.sleep(1.2)  # its heartbeat keeps the lease alive past one lifetime
        with hold_lease(ctx, TrainingJob, job_id) as early:
            assert not early.acquired
        proc.kill()
        proc.wait(10)
        killed_at = time.monotonic()
        while True:
            with hold_lease(ctx, TrainingJob, job_id) as late:
                if late.acquired:
                    break
            assert time.monotonic() - killed_at < 5, "the dead holder's lease never lapsed"
            time.sleep(0.1)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    row = load(ctx.session_factory, TrainingJob, job_id)
    assert row["attempts"] == 2 and row["lease_owner"] is None


def test_a_lease_taken_over_or_a_deleted_row_makes_should_stop_true(
        db: tuple[JobContext, Engine, str]) -> None:
    ctx, _, _ = db
    job_id = add_training_job(ctx.session_factory, status="training")
    with hold_lease(ctx, TrainingJob, job_id) as lease:
        assert lease.acquired and not lease.should_stop()
        set_lease(ctx.session_factory, TrainingJob, job_id, "elsewhere:1:abc", 30)
        deadline = time.monotonic() + 3
        while not lease.should_stop() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.should_stop() and lease.lost
    # the release leaves the new holder's lease alone
    assert load(ctx.session_factory, TrainingJob, job_id)["lease_owner"] == "elsewhere:1:abc"

    _, (file_id,) = add_inference_files(ctx.session_factory, 1)
    with hold_lease(ctx, InferenceFile, file_id) as lease:
        assert lease.acquired
        with ctx.session_factory.begin() as session:
            session.execute(delete(InferenceFile).where(InferenceFile.id == file_id))
        deadline = time.monotonic() + 3
        while not lease.should_stop() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lease.should_stop()


def test_finished_rows_spent_rows_and_the_process_stop_flag(
        db: tuple[JobContext, Engine, str]) -> None:
    ctx, _, _ = db
    for status in ("completed", "failed", "cancelled"):
        done = add_training_job(ctx.session_factory, status=status)
        with hold_lease(ctx, TrainingJob, done) as lease:
            assert not lease.acquired
        assert load(ctx.session_factory, TrainingJob, done)["attempts"] == 0

    spent = add_training_job(ctx.session_factory, status="training", attempts=MAX_ATTEMPTS)
    with hold_lease(ctx, TrainingJob, spent) as lease:
        assert not lease.acquired

    marked = add_training_job(ctx.session_factory, status="queued")
    set_lease(ctx.session_factory, TrainingJob, marked, QUEUED_MARK, 60)
    with hold_lease(ctx, TrainingJob, marked) as lease:  # a re-queued row is claimable at once
        assert lease.acquired
        ctx.stop.set()  # the process is shutting down: the work stops, the attempt is given back
        assert lease.should_stop()
    row = load(ctx.session_factory, TrainingJob, marked)
    assert row["attempts"] == 0 and row["lease_owner"] is None and row["status"] == "queued"


def test_lease_and_reaper_timing_come_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELAY_LEASE_TTL_S", "2.5")
    monkeypatch.setenv("RELAY_REAPER_INTERVAL_S", "0.5")
    monkeypatch.setenv("RELAY_QUEUE_URL", "redis://queue.example:6379/2")
    settings = ServerSettings.from_env(tmp_path)
    assert (settings.lease_ttl_s, settings.reaper_interval_s) == (2.5, 0.5)
    assert settings.queue_url == "redis://queue.example:6379/2"
    monkeypatch.delenv("RELAY_QUEUE_URL")
    monkeypatch.delenv("RELAY_REAPER_INTERVAL_S")
    monkeypatch.setenv("RELAY_LEASE_TTL_S", "soon")
    with pytest.raises(ValueError, match="RELAY_LEASE_TTL_S must be a number of seconds"):
        ServerSettings.from_env(tmp_path)
    monkeypatch.setenv("RELAY_LEASE_TTL_S", "0")
    with pytest.raises(ValueError, match="more than 0"):
        ServerSettings.from_env(tmp_path)
    monkeypatch.delenv("RELAY_LEASE_TTL_S")
    defaults = ServerSettings.from_env(tmp_path, queue_url="")
    assert (defaults.lease_ttl_s, defaults.reaper_interval_s, defaults.queue_url) == (
        LEASE_TTL_S, 5.0, "")


def test_the_cli_names_a_bad_queue_url_or_lease_ttl(tmp_path: Path) -> None:
    for extra, env, message in (
            (["--queue-url", "http://queue.example"], {}, "the queue URL must be redis://"),
            ([], {"RELAY_LEASE_TTL_S": "soon"}, "RELAY_LEASE_TTL_S must be a number")):
        out = subprocess.run(
            [sys.executable, "-m", "relay_server", "worker", "--data-dir", str(tmp_path),
             *extra], capture_output=True, text=True, timeout=60,
            env={**os.environ, "RELAY_QUEUE_URL": "", **env})
        assert out.returncode != 0
        assert f"relay-server: {message}" in out.stderr and "Traceback" not in out.stderr
