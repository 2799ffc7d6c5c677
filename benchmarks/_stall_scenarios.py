"""gui_stall's syncing and uploading scenarios (the listing and job ones live in gui_stall).

Each drives the real services with the Qt event loop running and returns what
it measured; the caller owns the probe (a :class:`benchmarks.gui_stall.StallProbe`
passed in), so every scenario is judged by the same 5 ms heartbeat.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

EDIT_INTERVAL_MS = 8   # one edit per tick: a user drawing and dragging quickly
TYPES = [{"name": "click", "color": "#ff0000"}, {"name": "pause", "color": "#00ff00"}]


def _edit_plan(adds: int) -> list[tuple[str, int]]:
    """Draw ``adds`` regions; after each, drag the one before it; every 5th, delete one."""
    plan: list[tuple[str, int]] = []
    alive: list[int] = []
    for i in range(adds):
        plan.append(("add", i))
        alive.append(i)
        if i:
            plan.append(("move", i - 1))
        if i % 5 == 4:
            plan.append(("delete", alive.pop(0)))
    return plan


def _do_edit(session: Any, audio_id: str, kind: str, i: int) -> None:
    """One user edit of region ``r{i}`` (a drag of a deleted region does nothing)."""
    from relay_desktop.core.annotations import Region

    local_id = f"r{i}"
    if kind == "add":
        session.add([Region(local_id, audio_id, "click", i * 1000, i * 1000 + 300)])
    elif local_id not in session.document:
        return
    elif kind == "move":
        session.edit(local_id, "move", start_ms=i * 1000 + 40, end_ms=i * 1000 + 340)
    else:
        session.delete([local_id])


def sync_burst(app: Any, base_url: str, api_key: str, home: Path, adds: int,
               probe: Any, run_loop: Callable[..., bool]
               ) -> tuple[float, int, int, float, bool]:
    """A burst of edits through AnnotationSession + journal + SyncService, until saved.

    Returns (longest stall in ms, edits made, regions on the server, seconds,
    whether the server ended up with exactly the session's regions).
    """
    from PySide6.QtCore import QTimer

    from relay_desktop.api import RelayClient
    from relay_desktop.core.journal import Journal
    from relay_desktop.services.annotation_session import AnnotationSession
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.sync import SyncService

    home.mkdir(parents=True, exist_ok=True)
    with RelayClient(base_url, api_key) as client:
        ds = client.datasets.create(f"stall-sync-{uuid.uuid4().hex[:6]}", artifact_types=TYPES)
        audio = client.audio.request_upload(ds.id, "a.wav", "audio/wav", 1000).audio_id
        set_id = client.annotation_sets.create(ds.id).id
    worker = ApiWorker(base_url, api_key)
    journal = Journal(home / "journal.sqlite3")
    sync = SyncService(worker, journal)
    session = AnnotationSession(sync, ds.id, set_id)
    loaded: list[bool] = []
    session.loaded.connect(lambda: loaded.append(True))
    session.open()
    run_loop(30.0, lambda: bool(loaded))
    plan = _edit_plan(adds)
    steps = iter(plan)
    editor = QTimer()
    editor.setInterval(EDIT_INTERVAL_MS)
    finished = [False]

    def next_edit() -> None:
        step = next(steps, None)
        if step is None:
            finished[0] = True
            editor.stop()
        else:
            _do_edit(session, audio, *step)

    editor.timeout.connect(next_edit)
    run_loop(0.3)
    probe.start()
    t0 = time.perf_counter()
    editor.start()
    run_loop(120.0, lambda: finished[0] and session.state.kind == "saved")
    elapsed = time.perf_counter() - t0
    stall = probe.stop()
    expected = {(r.start_ms, r.end_ms) for r in session.document}
    with RelayClient(base_url, api_key) as client:
        on_server = client.annotation_sets.get(ds.id, set_id).annotations
    matches = {(a.start_ms, a.end_ms) for a in on_server} == expected
    session.close()
    sync.close()
    worker.shutdown(5000)
    journal.close()
    app.processEvents()
    return stall, len(plan), len(on_server), elapsed, matches


def upload_files(app: Any, base_url: str, api_key: str, root: Path, count: int, size: int,
                 probe: Any, run_loop: Callable[..., bool]) -> tuple[float, int, float]:
    """``count`` WAV files dropped on a dataset, through the real UploadManager and the
    upload dock, until every one is processed (confirmed files are polled).

    Returns (longest stall in ms, files ready, seconds).
    """
    from benchmarks._bench_context import bench_context
    from benchmarks.upload_manager import write_files
    from relay_desktop.api import RelayClient
    from relay_desktop.core.uploads.state import UploadState, UploadTarget
    from relay_desktop.services.upload_manager import UploadManager
    from relay_desktop.ui.uploads import UploadQueuePanel

    write_files(root / "drop", count, size)
    with RelayClient(base_url, api_key) as client:
        dataset_id = client.datasets.create(f"stall-upload-{uuid.uuid4().hex[:6]}",
                                            ["glitch"]).id
    context = bench_context(base_url, api_key, root / "home")
    worker = context.worker
    context.uploads = manager = UploadManager(context)
    panel = UploadQueuePanel()
    panel.resize(900, 500)
    panel.show()
    panel.set_context(context)
    run_loop(0.3)
    probe.start()
    t0 = time.perf_counter()
    manager.add_paths([root / "drop"], UploadTarget("dataset", dataset_id, "stall"))

    def processed() -> bool:
        rows = manager.rows()
        return len(rows) == count and all(r.state.is_terminal for r in rows)

    run_loop(120.0, processed, step_ms=20)
    elapsed = time.perf_counter() - t0
    stall = probe.stop()
    ready = sum(1 for r in manager.rows() if r.state is UploadState.READY)
    panel.set_context(None)
    manager.shutdown(5000)
    worker.shutdown(5000)
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return stall, ready, elapsed
