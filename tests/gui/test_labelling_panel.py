"""The Labels dock: sets of the selected dataset, the open set on the central waveform."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import soundfile as sf
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AudioFile, Dataset
from relay_desktop.core.annotations.document import Region, new_local_id
from relay_desktop.core.journal import Journal
from relay_desktop.services.context import AppContext, ConnectionInfo
from relay_desktop.services.sync import SyncService
from relay_desktop.ui.annotations.region_item import RegionItem
from relay_desktop.ui.labelling import NO_SET, LabellingPanel, journal_scope
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.gui.conftest import unique

TYPES = [{"name": "click", "color": "#e53935"}, {"name": "pause", "color": "#43a047"}]


def _dataset(client: RelayClient) -> tuple[Dataset, AudioFile]:
    ds = client.datasets.create(unique("labels-panel"), artifact_types=TYPES)
    ticket = client.audio.request_upload(ds.id, "take.wav", "audio/wav", 1000)
    return ds, client.audio.get(ds.id, ticket.audio_id)


def _wav(path: Path) -> Path:
    t = np.arange(16_000 * 4) / 16_000
    sf.write(path, (0.4 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 16_000)
    return path


def _region_items(editor: AudioEditor) -> list[RegionItem]:
    return [i for plot in editor.view.plots() for i in plot.items if isinstance(i, RegionItem)]


def test_journal_scope_is_stable_for_the_local_workspace() -> None:
    local_a = ConnectionInfo("Local workspace", "http://127.0.0.1:40001", True, "local")
    local_b = dataclasses.replace(local_a, base_url="http://127.0.0.1:40777")
    remote = ConnectionInfo("Team", "https://relay.example.org", False, "team")
    assert journal_scope(local_a) == journal_scope(local_b) == "local"
    assert journal_scope(remote) == "https://relay.example.org"


def test_open_a_set_on_the_waveform_then_close_it(
        qtbot: QtBot, app_context: AppContext, live_client: RelayClient, tmp_path: Path) -> None:
    ds, audio = _dataset(live_client)
    published = live_client.annotation_sets.create(ds.id)
    live_client.annotations.bulk_create(ds.id, published.id, [
        {"audio_file_id": audio.id, "artifact_type": "click", "start_ms": 500, "end_ms": 520},
        {"audio_file_id": audio.id, "artifact_type": "pause", "start_ms": 1000, "end_ms": 2500}])
    live_client.annotation_sets.publish(ds.id, published.id)

    editor = AudioEditor(app_context)
    qtbot.addWidget(editor)
    editor.resize(900, 400)
    editor.show()
    with qtbot.waitSignal(editor.file_opened, timeout=20_000):
        editor.open_file(_wav(tmp_path / "take.wav"))

    panel = LabellingPanel()
    qtbot.addWidget(panel)
    assert panel.placeholder.isVisibleTo(panel)
    panel.set_context(app_context)
    panel.set_audio_editor(editor)
    assert panel.sets_panel is not None
    with qtbot.waitSignal(panel.sets_panel.sets_loaded, timeout=10_000) as loaded:
        panel.set_dataset(ds)
    assert [s.version for s in loaded.args[0]] == [1]

    panel.show_audio(audio)
    panel.open_set(loaded.args[0][0])
    assert panel.session is not None and panel.editor is not None
    qtbot.waitUntil(lambda: panel.session is not None and len(panel.session.document) == 2,
                    timeout=10_000)
    assert panel.editor.layer is not None and panel.editor.layer.audio_file_id == audio.id
    assert panel.session.read_only
    qtbot.waitUntil(lambda: any(i.isVisible() for i in _region_items(editor)), timeout=5_000)

    panel.close_set()
    assert panel.session is None and panel.editor is None
    assert _region_items(editor) == [], "closing the set must take its regions off the plots"
    hint = panel.splitter.widget(1)
    assert isinstance(hint, QLabel) and hint.text() == NO_SET

    panel.set_context(None)
    assert panel.sync is None and panel.sets_panel is None
    editor.shutdown()


def test_edits_left_in_the_journal_sync_when_the_panel_connects(
        qtbot: QtBot, app_context: AppContext, live_client: RelayClient) -> None:
    """A crash left an unsynced edit; the next connection (any port) pushes it exactly once."""
    ds, audio = _dataset(live_client)
    draft = live_client.annotation_sets.create(ds.id)
    local = dataclasses.replace(app_context.connection, is_local=True, id="local")
    context = dataclasses.replace(app_context, connection=local)

    journal = Journal(context.paths.journal)
    earlier = SyncService(context.worker, journal, base_url="local", coalesce_ms=10_000)
    region = Region(new_local_id(), audio.id, "click", 100, 140)
    journal.ensure_set(draft.id, ds.id, "local")
    journal.record(draft.id, [(region.local_id, region)])
    earlier.close()
    journal.close()

    panel = LabellingPanel()
    qtbot.addWidget(panel)
    panel.set_context(context)

    def on_server() -> list[tuple[str, int, int]]:
        detail = live_client.annotation_sets.get(ds.id, draft.id)
        return [(a.artifact_type, a.start_ms, a.end_ms) for a in detail.annotations]

    qtbot.waitUntil(lambda: on_server() == [("click", 100, 140)], timeout=20_000)
    sync = panel.sync
    assert sync is not None
    qtbot.waitUntil(lambda: sync.state(draft.id).kind == "saved", timeout=10_000)
    panel.set_context(None)
    # once is once: the journal holds nothing more to push, and the next start (a new
    # connection reading the same journal) pushes nothing again
    journal = Journal(context.paths.journal)
    assert journal.pending_count(draft.id) == 0
    assert draft.id not in {p.set_id for p in journal.pending_sets()}
    journal.close()
    again = LabellingPanel()
    qtbot.addWidget(again)
    again.set_context(context)
    assert again.sync is not None and again.sync.writes_pending(draft.id) == 0
    qtbot.wait(500)   # a push would be under way by now (the resume is immediate)
    assert on_server() == [("click", 100, 140)]
    again.set_context(None)
