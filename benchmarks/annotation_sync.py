"""annotation_sync: 1,000 annotation edits journaled and synced vs one bulk create.

Scenario A (a labelling burst): 600 regions drawn, 300 of them dragged, 100
deleted, all through the real AnnotationSession (undo stack, journal with
fsync, SyncService on the ApiWorker) against a live Relay Local. The
coalescing sync must send the 500 surviving regions in as few requests as a
hand-written bulk create. Baseline: one ``bulk_create`` of the same 500
annotations in the same run. Scenario B (editing synced regions): 200 synced
regions each nudged 5 times (1,000 edits) must cost one PATCH per region.

Value: wall time from the first edit until the server has everything (ms).
Target: scenario A in at most 2 requests and scenario B in at most 200.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks import qt_app

TYPES = [{"name": "click", "color": "#ff0000"}, {"name": "pause", "color": "#00ff00"}]


def _wait(app: Any, predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the sync did not finish in time")
        app.processEvents()
        time.sleep(0.001)


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()

    import benchmarks
    from relay_desktop.api import RelayClient
    from relay_desktop.core.annotations import Region
    from relay_desktop.core.journal import Journal
    from relay_desktop.services.annotation_session import AnnotationSession
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.sync import SyncService
    from tests.support.live_server import LiveServer

    scale = 5 if quick else 1
    n_new, n_moves, n_deletes = 600 // scale, 300 // scale, 100 // scale
    n_synced, nudges = 200 // scale, 5
    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp, \
            LiveServer(Path(tmp) / "server") as server:
        client = RelayClient(server.base_url, server.api_key)
        ds = client.datasets.create(f"sync-{uuid.uuid4().hex[:6]}", artifact_types=TYPES)
        audio = client.audio.request_upload(ds.id, "a.wav", "audio/wav", 1000).audio_id
        sets = [client.annotation_sets.create(ds.id).id for _ in range(3)]
        worker = ApiWorker(server.base_url, server.api_key)
        journal = Journal(Path(tmp) / "journal.sqlite3")
        sync = SyncService(worker, journal, coalesce_ms=400)
        requests = {s: 0 for s in sets}
        sync.pushed.connect(lambda s, r: requests.__setitem__(s, requests[s] + r.requests))

        def open_session(set_id: str) -> AnnotationSession:
            session = AnnotationSession(sync, ds.id, set_id)
            done: list[bool] = []
            session.loaded.connect(lambda: done.append(True))
            session.open()
            _wait(app, lambda: bool(done))
            return session

        # -- scenario A: a burst of drawing, dragging and deleting
        a = open_session(sets[0])
        t0 = time.perf_counter()
        for i in range(n_new):
            a.add([Region(f"n{i}", audio, "click", i * 1000, i * 1000 + 300)])
        for i in range(n_moves):
            a.edit(f"n{i}", "move", start_ms=i * 1000 + 50, end_ms=i * 1000 + 350)
        a.delete([f"n{i}" for i in range(n_new - n_deletes, n_new)])
        edits_a = n_new + n_moves + n_deletes
        _wait(app, lambda: a.state.kind == "saved")
        sync_ms = (time.perf_counter() - t0) * 1000
        final = [{"audio_file_id": r.audio_file_id, "artifact_type": r.artifact_type,
                  "start_ms": r.start_ms, "end_ms": r.end_ms} for r in a.document]
        on_server = len(client.annotation_sets.get(ds.id, sets[0]).annotations)
        # -- baseline: the same annotations in one hand-written bulk create
        t0 = time.perf_counter()
        client.annotations.bulk_create(ds.id, sets[1], final)
        bulk_ms = (time.perf_counter() - t0) * 1000

        # -- scenario B: nudging already synced regions
        b = open_session(sets[2])
        b.add([Region(f"s{i}", audio, "pause", i * 1000, i * 1000 + 300)
               for i in range(n_synced)])
        _wait(app, lambda: b.state.kind == "saved")
        before_b = requests[sets[2]]
        t0 = time.perf_counter()
        for step in range(1, nudges + 1):
            for i in range(n_synced):
                b.edit(f"s{i}", "nudge", end_ms=i * 1000 + 300 + step)
        _wait(app, lambda: b.state.kind == "saved")
        nudge_ms = (time.perf_counter() - t0) * 1000
        requests_b = requests[sets[2]] - before_b
        ends = {x.end_ms for x in client.annotation_sets.get(ds.id, sets[2]).annotations}
        for s in (a, b):
            s.close()
        sync.close()
        worker.shutdown(5000)
        journal.close()
        client.close()
    correct = on_server == len(final) and ends == {i * 1000 + 300 + nudges
                                                   for i in range(n_synced)}
    met = correct and requests[sets[0]] <= 2 and requests_b <= n_synced
    return benchmarks.result(
        "annotation_sync", sync_ms, bulk_ms, "ms",
        "burst of edits in <= 2 requests; nudges: <= 1 PATCH per region", met,
        edits=edits_a, annotations=len(final), requests=requests[sets[0]],
        baseline_requests=1, naive_requests=edits_a,
        edits_per_request=round(edits_a / max(1, requests[sets[0]]), 1),
        nudge_edits=n_synced * nudges, nudge_requests=requests_b, nudge_ms=round(nudge_ms, 1),
        server_matches=correct)
