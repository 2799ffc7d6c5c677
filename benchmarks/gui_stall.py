"""gui_stall: the longest GUI event-loop stall while the audio list pages through 10,000 files.

A 5 ms QTimer on the GUI thread records the largest gap between its ticks.
Scenarios: listing 10,000 files through the AudioListModel (scrolling to the
end so every page is fetched), the same listing through a slow server
(a fault-injecting proxy adding latency to every request), and the Jobs dock
following a training job that runs on the live server (polled through the
JobMonitor, its loss plot redrawn every epoch, the lists refreshed every 2 s).
The baseline is the same probe on an idle event loop in the same run. Target:
no stall over 50 ms.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import qt_app

TARGET_MS = 50.0


def insert_audio_rows(data_dir: Path, env: dict[str, str], dataset_id: str, count: int,
                      statuses: tuple[str, ...] = ("ready",)) -> None:
    """Insert ``count`` audio rows straight into a Relay Local database (test set-up only)."""
    from sqlalchemy import insert, select

    from relay_server.db.models import AudioFile, Dataset
    from relay_server.db.session import make_engine

    url = env.get("RELAY_DATABASE_URL") or f"sqlite:///{data_dir.resolve() / 'relay.sqlite3'}"
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            ds_id = uuid.UUID(dataset_id)
            tenant_id = conn.execute(
                select(Dataset.tenant_id).where(Dataset.id == ds_id)).scalar_one()
            start = datetime(2025, 1, 1, tzinfo=UTC)
            rows: list[dict[str, Any]] = []
            for i in range(count):
                status = statuses[i % len(statuses)]
                rows.append({
                    "id": uuid.uuid4(), "tenant_id": tenant_id, "dataset_id": ds_id,
                    "filename": f"take_{i:05d}.wav", "content_type": "audio/wav",
                    "file_size": 48_000 + 37 * i, "storage_key": f"bench/{uuid.uuid4().hex}",
                    "processing_status": status,
                    "error_message": "could not decode" if status == "failed" else None,
                    "duration_ms": 1000 + 17 * i if status == "ready" else None,
                    "sample_rate": 24000 if status == "ready" else None,
                    "channels": 1 if status == "ready" else None,
                    "created_at": start + timedelta(seconds=i),
                    "updated_at": start + timedelta(seconds=i),
                })
            for offset in range(0, count, 2000):
                conn.execute(insert(AudioFile), rows[offset:offset + 2000])
    finally:
        engine.dispose()


class StallProbe:
    """Measures the longest gap between ticks of a 5 ms timer on the GUI thread."""

    def __init__(self, interval_ms: int = 5, where: Any = None) -> None:
        from PySide6.QtCore import QTimer

        self.interval_ms = interval_ms
        self.where = where  # called when a new longest gap is seen: what was going on
        self.longest_at: Any = None
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.longest_ms = 0.0
        self.ticks = 0
        self._last = 0.0

    def _tick(self) -> None:
        now = time.perf_counter()
        gap = (now - self._last) * 1000.0 if self._last else 0.0
        if gap > self.longest_ms:
            self.longest_ms = gap
            self.longest_at = self.where() if self.where is not None else None
        self._last = now
        self.ticks += 1

    def start(self) -> None:
        self.longest_ms, self.ticks, self._last, self.longest_at = 0.0, 0, 0.0, None
        self.timer.start()

    def stop(self) -> float:
        self.timer.stop()
        return self.longest_ms


def _run_loop(seconds: float, until: Any = None, step_ms: int = 16) -> bool:
    """Run the real Qt event loop; every ``step_ms`` call ``until()`` and stop when it is true."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    done = [until is None]
    stepper = QTimer()
    stepper.setInterval(step_ms)

    def step() -> None:
        if until is not None and until():
            done[0] = True
            loop.quit()

    stepper.timeout.connect(step)
    if until is not None:
        stepper.start()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    stepper.stop()
    return done[0]


def list_everything(app: Any, base_url: str, api_key: str, dataset_id: str, expected: int,
                    timeout_s: float) -> tuple[float, int, float, Any]:
    """Scroll an AudioListView to the end like a user dragging the scroll bar (60 Hz).

    Returns (longest stall in ms, rows listed, seconds, rows loaded at the longest stall).
    The window is shown and painted once before measuring: this measures listing,
    not creating a window.
    """
    from relay_desktop.api.models import Dataset
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.ui.audio_list import AudioListView

    worker = ApiWorker(base_url, api_key)
    view = AudioListView(page_size=100)
    view.resize(900, 600)
    view.show()
    view.set_worker(worker)
    _run_loop(0.5)
    probe = StallProbe(where=lambda: view.model.rowCount())
    probe.start()
    t0 = time.perf_counter()
    view.set_dataset(Dataset(dataset_id, "bench", None, (), None, None))
    model, table = view.model, view.table

    def step() -> bool:
        if model.rowCount() >= expected:
            return True
        table.scrollToBottom()
        return False

    _run_loop(timeout_s, step)
    elapsed = time.perf_counter() - t0
    stall = probe.stop()
    rows = model.rowCount()
    view.close()
    worker.shutdown(5000)
    view.deleteLater()
    app.processEvents()
    return stall, rows, elapsed, probe.longest_at


def poll_jobs(app: Any, base_url: str, api_key: str, home: Path,
              seconds: float) -> tuple[float, float, int, int, Any]:
    """The Jobs dock following a running training job (selected, so its loss plot redraws).

    Returns (longest stall in ms, the same probe while the job trains and no dock is
    open, job updates received, epochs seen, epoch at the stall). The second figure
    is this scenario's own baseline: training takes the machine's cores.
    """
    from PySide6.QtCore import QThreadPool, QTimer

    from relay_desktop.api import RelayClient
    from relay_desktop.core.paths import AppPaths
    from relay_desktop.core.settings import Settings
    from relay_desktop.services.activity import ActivityTracker
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.context import AppContext, ConnectionInfo
    from relay_desktop.services.job_monitor import JobMonitor
    from relay_desktop.ui.jobs import JobsPanel
    from tests.support.trainable import DEMO_TYPES, build_trainable

    demo = build_trainable(base_url, api_key, f"gui-stall jobs {uuid.uuid4().hex[:6]}")
    with RelayClient(base_url, api_key) as client:
        job = client.training_jobs.create(demo.dataset_id, demo.annotation_set_id, {
            "artifact_types": list(DEMO_TYPES), "epochs": 100, "stride_ms": 20})
    with RelayClient(base_url, api_key) as client:
        _run_loop(60.0, lambda: client.training_jobs.get(job.id).status != "queued")
    idle = StallProbe()
    idle.start()
    _run_loop(seconds / 2)
    training_only = idle.stop()
    worker = ApiWorker(base_url, api_key)
    paths = AppPaths(home / "data", home / "cache", home / "config").ensure()
    pool = QThreadPool()
    context = AppContext(worker=worker, connection=ConnectionInfo("bench", base_url),
                         settings=Settings(paths.config / "settings.json"), paths=paths,
                         thread_pool=pool, activity=ActivityTracker())
    context.monitor = JobMonitor(worker)
    panel = JobsPanel()
    panel.resize(900, 600)
    panel.show()
    panel.set_context(context)
    jobs = panel.jobs
    assert jobs is not None
    _run_loop(10.0, lambda: panel.model.row_of("training", job.id) >= 0)
    panel.select_job("training", job.id)
    updates = [0]
    jobs.job_updated.connect(lambda _kind, _job: updates.__setitem__(0, updates[0] + 1))

    def epoch() -> int:
        latest = jobs.job("training", job.id)
        return latest.progress.epoch if latest is not None and latest.progress else 0

    refresher = QTimer()
    refresher.setInterval(2000)
    refresher.timeout.connect(panel.refresh)
    _run_loop(0.5)
    probe = StallProbe(where=epoch)
    probe.start()
    refresher.start()
    _run_loop(seconds)
    refresher.stop()
    stall = probe.stop()
    seen = epoch()
    with RelayClient(base_url, api_key) as client:
        client.training_jobs.cancel(job.id)
    panel.shutdown()
    context.monitor.stop()
    panel.close()
    worker.shutdown(5000)
    panel.deleteLater()
    app.processEvents()
    return stall, training_only, updates[0], seen, probe.longest_at


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()

    import benchmarks
    from relay_desktop.api import RelayClient
    from tests.support.fault_server import FaultServer, Reply
    from tests.support.live_server import LiveServer

    count = 2_000 if quick else 10_000
    delay = 0.05 if quick else 0.1
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp:
        os.environ.setdefault("RELAY_DESKTOP_HOME", str(Path(tmp) / "home"))
        with LiveServer(Path(tmp) / "server") as server:
            with RelayClient(server.base_url, server.api_key) as client:
                dataset = client.datasets.create("gui-stall", artifact_types=[{"name": "click"}])
            insert_audio_rows(server.data_dir, server.env, dataset.id, count)

            probe = StallProbe()
            probe.start()
            _run_loop(2.0)
            baseline = probe.stop()

            fast_stall, fast_rows, fast_s, fast_at = list_everything(
                app, server.base_url, server.api_key, dataset.id, count, 90)
            with FaultServer() as slow:
                slow.script("*", "*", Reply(proxy=server.base_url, delay=delay))
                slow_count = min(count, 2_000)
                slow_stall, slow_rows, slow_s, slow_at = list_everything(
                    app, slow.url, server.api_key, dataset.id, slow_count, 60)
            jobs_s = 8.0 if quick else 20.0
            jobs_stall, jobs_baseline, jobs_updates, jobs_epochs, jobs_at = poll_jobs(
                app, server.base_url, server.api_key, Path(tmp) / "jobs-home", jobs_s)
    value = max(fast_stall, slow_stall, jobs_stall)
    met = (value <= TARGET_MS and fast_rows >= count and slow_rows >= slow_count
           and jobs_updates > 0)
    return benchmarks.result(
        "gui_stall", value, baseline, "ms", f"longest stall <= {TARGET_MS:.0f} ms", met,
        files=count, listing_stall_ms=round(fast_stall, 2), listing_rows=fast_rows,
        listing_seconds=round(fast_s, 2), listing_stall_at_rows=fast_at,
        slow_server_stall_ms=round(slow_stall, 2), slow_server_stall_at_rows=slow_at,
        slow_server_rows=slow_rows, slow_server_delay_s=delay,
        slow_server_seconds=round(slow_s, 2), jobs_polled_stall_ms=round(jobs_stall, 2),
        jobs_polled_training_only_stall_ms=round(jobs_baseline, 2),
        jobs_polled_seconds=jobs_s, jobs_polled_updates=jobs_updates,
        jobs_polled_epochs_seen=jobs_epochs, jobs_polled_stall_at_epoch=jobs_at)


if __name__ == "__main__":
    print(run("--quick" in sys.argv))
