"""The journal's disk full or read-only while labelling: a refused edit leaves the waveform
and the table, the user is told why, and nothing refused ever reaches the server.

The data folder is a real size-limited tmpfs (``tests.support.small_mount``); the
server is a live Relay Local. A mounted filesystem cannot turn read-only while a file
on it is open for writing, so the read-only case is the one the kernel allows: the app
died with its journal open, the disk came back read-only, and SQLite opens the journal
read-only (it reads, every write fails as on a disk that turned read-only).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AnnotationSet, AudioFile, Dataset
from relay_desktop.core.annotations.document import ArtifactTypeInfo
from relay_desktop.core.annotations.sets import LoadedSet
from relay_desktop.core.journal import Journal
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.prepublish import FileInfo
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.services.context import AppContext
from relay_desktop.services.sync import SyncService
from relay_desktop.ui.annotations.editor import AnnotationEditor
from relay_desktop.ui.labelling import LabellingPanel
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.gui.conftest import unique
from tests.support.small_mount import SmallMount

ROOT = Path(__file__).resolve().parents[2]
TYPES = [{"name": "click", "color": "#e53935"}, {"name": "pause", "color": "#43a047"}]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[SmallMount]:
    with SmallMount(tmp_path / "data", size="4m") as mnt:
        yield mnt


@pytest.fixture
def context(app_context: AppContext, mount: SmallMount, tmp_path: Path) -> AppContext:
    """The app's context with its data folder (and so its journal) on the small disk."""
    paths = AppPaths(mount.path, tmp_path / "cache", tmp_path / "config").ensure()
    return dataclasses.replace(app_context, paths=paths)


@pytest.fixture
def waveform(qtbot: QtBot, context: AppContext, tmp_path: Path) -> Iterator[AudioEditor]:
    t = np.arange(16_000 * 4) / 16_000
    wav = tmp_path / "take.wav"
    sf.write(wav, (0.4 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16_000)
    editor = AudioEditor(context)
    qtbot.addWidget(editor)
    editor.resize(900, 400)
    editor.show()
    with qtbot.waitSignal(editor.file_opened, timeout=20_000):
        editor.open_file(wav)
    yield editor
    editor.shutdown()


def _dataset(client: RelayClient) -> tuple[Dataset, AudioFile, AnnotationSet]:
    ds = client.datasets.create(unique("disk-full"), artifact_types=TYPES)
    ticket = client.audio.request_upload(ds.id, "take.wav", "audio/wav", 1000)
    return ds, client.audio.get(ds.id, ticket.audio_id), client.annotation_sets.create(ds.id)


def _on_server(client: RelayClient, ds: Dataset, draft: AnnotationSet) -> Counter[tuple[str, int,
                                                                                        int]]:
    detail = client.annotation_sets.get(ds.id, draft.id)
    return Counter((a.artifact_type, a.start_ms, a.end_ms) for a in detail.annotations)


def _shown(session: AnnotationSession, editor: AnnotationEditor, local_id: str) -> bool:
    """Whether the region is anywhere the user would take it as saved."""
    layer = editor.layer
    return (local_id in session.document or editor.table.model.row_of(local_id) >= 0
            or bool(layer is not None and layer.items_for(local_id)))


def test_a_full_disk_refuses_the_edit_and_the_next_one_after_freeing_space_syncs_once(
        qtbot: QtBot, context: AppContext, mount: SmallMount, waveform: AudioEditor,
        live_client: RelayClient) -> None:
    ds, audio, draft = _dataset(live_client)
    panel = LabellingPanel()
    qtbot.addWidget(panel)
    panel.set_context(context)
    panel.set_audio_editor(waveform)
    assert panel.sets_panel is not None and panel.sync is not None
    with qtbot.waitSignal(panel.sets_panel.sets_loaded, timeout=10_000) as loaded:
        panel.set_dataset(ds)
    panel.show_audio(audio)
    panel.open_set(next(s for s in loaded.args[0] if s.id == draft.id))
    session, editor, sync = panel.session, panel.editor, panel.sync
    assert session is not None and editor is not None and editor.layer is not None
    qtbot.waitUntil(lambda: bool(session.document.artifact_types), timeout=10_000)
    kept = editor.layer.draw_region(0.1, 0.2, "click")
    assert kept is not None, editor.message.text()
    qtbot.waitUntil(lambda: _on_server(live_client, ds, draft) == {("click", 100, 200): 1},
                    timeout=15_000)
    notices: list[str] = []
    panel.notice.connect(notices.append)

    mount.fill()
    refused = editor.layer.draw_region(1.0, 1.5, "pause")
    assert refused is not None and _shown(session, editor, refused)  # drawn at once...
    qtbot.waitUntil(lambda: bool(notices), timeout=10_000)
    message = (f"Not saved: the disk holding your journal is full ({context.paths.journal}). "
               "Free some space and try again.")
    assert notices == [message]
    assert editor.message.text() == message
    assert not _shown(session, editor, refused), "a refused edit must not look saved"
    assert [r.local_id for r in session.document] == [kept]
    state = sync.state(draft.id)
    assert (state.kind, state.pending, state.message) == ("not_saved", 0, message)
    assert editor.indicator.label.text() == "Not saved"
    assert session.undo_stack.count() == 1  # the refused draw left the history too
    assert sync.journal.pending_count(draft.id) == 0

    mount.free()  # no restart: the next edit is journaled and synced
    second = editor.layer.draw_region(2.0, 2.5, "click")
    assert second is not None
    qtbot.waitUntil(lambda: sync.state(draft.id).kind == "saved", timeout=15_000)
    assert [r.local_id for r in session.document] == [kept, second]
    qtbot.wait(300)  # time for a wrong extra push to land
    assert _on_server(live_client, ds, draft) == {("click", 100, 200): 1,
                                                  ("click", 2000, 2500): 1}
    panel.set_context(None)
    with Journal(context.paths.journal) as journal:  # and nothing refused is left to replay
        assert refused not in {r.local_id for r in journal.local_regions(draft.id)}
        assert journal.pending_count(draft.id) == 0


CRASHED_APP = """
import os, sys
from relay_desktop.core.annotations import Region
from relay_desktop.core.journal import Journal
path, set_id, dataset_id, audio_id = sys.argv[1:5]
journal = Journal(path)
journal.ensure_set(set_id, dataset_id)
journal.record(set_id, [("early", Region("early", audio_id, "click", 100, 200))])
os._exit(0)  # killed with the journal open: its write-ahead log stays behind
"""


def test_a_read_only_journal_refuses_the_edit_and_syncs_once_writable_again(
        qtbot: QtBot, context: AppContext, mount: SmallMount, waveform: AudioEditor,
        live_client: RelayClient) -> None:
    ds, audio, draft = _dataset(live_client)
    path = context.paths.journal
    subprocess.run([sys.executable, "-c", CRASHED_APP, str(path), draft.id, ds.id, audio.id],
                   check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                   timeout=60)
    mount.read_only()
    try:
        sync = SyncService(context.worker, Journal(path), coalesce_ms=50, backoff_s=(0.2,))
        session = AnnotationSession(sync, ds.id, draft.id)
        editor = AnnotationEditor(session)
        qtbot.addWidget(editor)
        editor.attach_waveform(waveform.view, waveform.player)
        editor.set_audio_file(audio.id)
        notices: list[str] = []
        editor.notice.connect(notices.append)
        session.load(LoadedSet(ds.id, draft.id, 0, "draft",
                               [ArtifactTypeInfo(t["name"], t["color"]) for t in TYPES],
                               [FileInfo(audio.id, "take.wav", None)],
                               sync.journal.local_regions(draft.id)))
        assert editor.layer is not None and [r.local_id for r in session.document] == ["early"]

        refused = editor.layer.draw_region(1.0, 1.5, "pause")
        assert refused is not None
        qtbot.waitUntil(lambda: bool(notices), timeout=10_000)
        message = (f"Not saved: the disk holding your journal is read-only ({path}). Make it "
                   "writable and try again.")
        assert notices == [message] and editor.message.text() == message
        assert not _shown(session, editor, refused)
        assert session.undo_stack.count() == 0
        assert sync.journal.pending_count(draft.id) == 1  # the earlier edit is still there
        assert _on_server(live_client, ds, draft) == {}  # and cannot sync until writable
    finally:
        mount.read_write()

    second = editor.layer.draw_region(2.0, 2.5, "click")
    assert second is not None
    qtbot.waitUntil(lambda: sync.state(draft.id).kind == "saved", timeout=15_000)
    qtbot.wait(300)
    assert _on_server(live_client, ds, draft) == {("click", 100, 200): 1,
                                                  ("click", 2000, 2500): 1}
    assert [r.local_id for r in session.document] == ["early", second]
    session.close()
    sync.close()
    sync.journal.close()


def test_a_journal_on_a_read_only_disk_at_start_up_is_explained_not_a_crash(
        qtbot: QtBot, context: AppContext, mount: SmallMount) -> None:
    mount.read_only()
    panel = LabellingPanel()
    qtbot.addWidget(panel)
    try:
        with qtbot.waitSignal(panel.notice, timeout=5_000) as notice:
            panel.set_context(context)
    finally:
        mount.read_write()
    assert notice.args == [
        f"The annotation journal cannot be opened: the disk holding your journal is read-only "
        f"({context.paths.journal}). Make it writable and try again."]
    assert panel.sync is None and panel.placeholder.isVisibleTo(panel)
    assert panel.placeholder.text().startswith(notice.args[0])
    panel.set_context(None)
    panel.set_context(context)  # writable again: reconnecting is enough
    assert panel.sync is not None and not panel.placeholder.isVisibleTo(panel)
    panel.set_context(None)


def test_edits_queued_behind_a_refused_one_are_refused_until_it_is_rolled_back(
        qtbot: QtBot, mount: SmallMount) -> None:
    """They were made on top of it: saving them would bring the refused edit back."""
    from relay_desktop.core.annotations.document import Region
    from relay_desktop.services.journal_writer import JournalWriter, Refusal

    journal = Journal(mount.path / "journal.sqlite3")
    journal.ensure_set("S", "D")
    writer = JournalWriter(journal)
    outcomes: list[tuple[str, list[int], object]] = []
    writer.written.connect(lambda *args: outcomes.append(args))
    mount.fill()
    first = writer.submit("S", [("a", Region("a", "f", "click", 0, 10))])
    qtbot.waitUntil(lambda: len(outcomes) == 1, timeout=5_000)
    refusal = outcomes[0][2]
    assert isinstance(refusal, Refusal) and refusal.token == first
    mount.free()
    behind = writer.submit("S", [("a", Region("a", "f", "click", 0, 20))])
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=5_000)
    assert outcomes[1][1] == [behind]
    assert isinstance(outcomes[1][2], Refusal) and outcomes[1][2].token is None
    writer.resume("S", first)
    after = writer.submit("S", [("b", Region("b", "f", "click", 30, 40))])
    qtbot.waitUntil(lambda: len(outcomes) == 3, timeout=5_000)
    assert outcomes[2][1:] == ([after], 1)
    writer.close()
    assert [r.local_id for r in journal.local_regions("S")] == ["b"]
    journal.close()
