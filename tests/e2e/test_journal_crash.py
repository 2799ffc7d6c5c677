"""Kill the app mid-edit: the journal keeps every acknowledged edit and a new process syncs it.

The "app" is a subprocess that journals real edits and is SIGKILLed; the test
process then plays the restarted app: it replays the journal and syncs.
The server must end with each annotation exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections import Counter
from pathlib import Path

from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.core.annotations.push import push_set
from relay_desktop.core.journal import Journal
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.sync import SyncService
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]
TYPES = [{"name": "click", "color": "#ff0000"}, {"name": "pause", "color": "#00ff00"}]

APP = textwrap.dedent("""
    import sys, time
    from PySide6.QtCore import QCoreApplication
    from relay_desktop.services.qt_compat import pin_bool_singletons
    from relay_desktop.core.annotations import Region
    from relay_desktop.core.journal import Journal
    from relay_desktop.services.annotation_session import AnnotationSession
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.sync import SyncService
    from relay_desktop.core.annotations.sets import LoadedSet
    from relay_desktop.core.prepublish import FileInfo
    from relay_desktop.core.annotations.document import ArtifactTypeInfo

    base_url, key, journal_path, dataset_id, set_id, audio_id = sys.argv[1:7]
    pin_bool_singletons()  # as the app does at start-up (see qt_compat)
    app = QCoreApplication([])
    worker = ApiWorker(base_url, key)
    # a long coalescing delay: the process dies before it ever syncs
    sync = SyncService(worker, Journal(journal_path), coalesce_ms=600_000)
    session = AnnotationSession(sync, dataset_id, set_id)
    session.load(LoadedSet(dataset_id, set_id, 1, "draft",
                           [ArtifactTypeInfo("click"), ArtifactTypeInfo("pause")],
                           [FileInfo(audio_id, "a.wav", None)], []))
    for i in range(30):
        session.add([Region(f"c{i:02d}", audio_id, "click", i * 100, i * 100 + 50)])
    for i in range(0, 30, 3):
        session.edit(f"c{i:02d}", "resize", end_ms=i * 100 + 80)
    for i in range(1, 30, 10):
        session.delete([f"c{i:02d}"])
    session.undo_stack.undo()          # the last delete comes back
    while sync.writes_pending(set_id) or sync.state(set_id).kind == "saving":
        app.processEvents()
        time.sleep(0.005)
    print("SAVED", sync.state(set_id).pending, flush=True)  # the UI says "N unsynced"
    while True:
        time.sleep(1)
""")

LOST_RESPONSE = textwrap.dedent("""
    import sys, time
    from relay_desktop.api import RelayClient
    from relay_desktop.core.annotations import Region
    from relay_desktop.core.journal import Journal

    base_url, key, journal_path, dataset_id, set_id, audio_id = sys.argv[1:7]
    journal = Journal(journal_path)
    journal.ensure_set(set_id, dataset_id, base_url)
    journal.record(set_id, [(f"x{i:02d}", Region(f"x{i:02d}", audio_id, "pause", i * 10,
                                                 i * 10 + 5)) for i in range(20)])
    print("SAVED", flush=True)
    plan = journal.plan(set_id)
    first = plan.creates[:12]
    journal.mark_inflight(set_id, [(op.local_id, op.rev) for op in first])
    with RelayClient(base_url, key) as client:
        client.annotations.bulk_create(dataset_id, set_id, [op.payload for op in first])
    # the server has created them; the process dies before the journal hears of it
    print("SENT", flush=True)
    while True:
        time.sleep(1)
""")


def workspace(server: LiveServer) -> tuple[RelayClient, str, str, str]:
    client = RelayClient(server.base_url, server.api_key)
    ds = client.datasets.create(f"crash-{uuid.uuid4().hex[:8]}", artifact_types=TYPES)
    audio = client.audio.request_upload(ds.id, "a.wav", "audio/wav", 1000).audio_id
    draft = client.annotation_sets.create(ds.id)
    return client, ds.id, draft.id, audio


def run_and_kill(script: str, args: list[str], wait_for: str, tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(script)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(path), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        while True:
            line = proc.stdout.readline()
            if not line:
                err = proc.stderr.read() if proc.stderr else ""
                raise AssertionError(f"the app died early: {err}")
            if line.startswith(wait_for):
                break
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def test_killed_app_edits_are_replayed_and_synced_once(relay_server: LiveServer, tmp_path: Path,
                                                       qtbot: QtBot) -> None:
    client, ds, set_id, audio = workspace(relay_server)
    journal_path = tmp_path / "journal.sqlite3"
    run_and_kill(APP, [relay_server.base_url, relay_server.api_key, str(journal_path), ds,
                       set_id, audio], "SAVED", tmp_path)
    assert client.annotation_sets.get(ds, set_id).annotations == ()   # nothing synced yet
    # restart: a new process opens the journal and replays it
    worker = ApiWorker(relay_server.base_url, relay_server.api_key)
    journal = Journal(journal_path)
    sync = SyncService(worker, journal, base_url=relay_server.base_url, coalesce_ms=20)
    try:
        assert sync.resume_pending() == [set_id]
        assert sync.state(set_id).pending == 30   # every region touched since the last sync
        qtbot.waitUntil(lambda: sync.state(set_id).kind == "saved", timeout=15_000)
    finally:
        sync.close()
        worker.shutdown(5000)
    anns = client.annotation_sets.get(ds, set_id).annotations
    ids = Counter(a.extra_data["client_id"] for a in anns)
    expected = {f"c{i:02d}" for i in range(30)} - {"c01", "c11"}   # c21's delete was undone
    assert set(ids) == expected and max(ids.values()) == 1
    ends = {a.extra_data["client_id"]: a.end_ms for a in anns}
    assert ends["c00"] == 80 and ends["c03"] == 380 and ends["c02"] == 250
    assert journal.pending_count(set_id) == 0
    journal.close()
    client.close()


def test_killed_between_create_and_answer_is_not_created_twice(relay_server: LiveServer,
                                                                tmp_path: Path) -> None:
    client, ds, set_id, audio = workspace(relay_server)
    journal_path = tmp_path / "journal.sqlite3"
    run_and_kill(LOST_RESPONSE, [relay_server.base_url, relay_server.api_key, str(journal_path),
                                 ds, set_id, audio], "SENT", tmp_path)
    assert len(client.annotation_sets.get(ds, set_id).annotations) == 12
    journal = Journal(journal_path)
    assert journal.has_inflight(set_id) and journal.pending_count(set_id) == 20
    result = push_set(client, journal, ds, set_id)
    assert (result.reconciled, result.created) == (12, 8)
    ids = Counter(a.extra_data["client_id"] for a in client.annotation_sets.get(ds, set_id)
                  .annotations)
    assert set(ids) == {f"x{i:02d}" for i in range(20)} and max(ids.values()) == 1
    assert journal.pending_count(set_id) == 0
    journal.close()
    client.close()
