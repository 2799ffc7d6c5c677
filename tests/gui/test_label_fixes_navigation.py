"""The regions table shows the open file's regions; a region of another file opens that file."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.services.context import AppContext
from relay_desktop.ui.annotations.table import FILE
from relay_desktop.ui.labelling import LabellingPanel
from tests.gui.conftest import unique

TYPES = [{"name": "click", "color": "#e53935"}, {"name": "pause", "color": "#43a047"}]


def test_table_follows_the_open_file_and_double_click_opens_another(
        qtbot: QtBot, app_context: AppContext, live_client: RelayClient) -> None:
    ds = live_client.datasets.create(unique("navigate"), artifact_types=TYPES)
    first, second = (live_client.audio.get(ds.id, live_client.audio.request_upload(
        ds.id, name, "audio/wav", 1000).audio_id) for name in ("one.wav", "two.wav"))
    draft = live_client.annotation_sets.create(ds.id)
    live_client.annotations.bulk_create(ds.id, draft.id, [
        {"audio_file_id": first.id, "artifact_type": "click", "start_ms": 100, "end_ms": 200,
         "extra_data": {"client_id": "in-first"}},
        {"audio_file_id": second.id, "artifact_type": "pause", "start_ms": 300, "end_ms": 900,
         "extra_data": {"client_id": "in-second"}}])

    panel = LabellingPanel()
    qtbot.addWidget(panel)
    panel.set_context(app_context)
    assert panel.sets_panel is not None
    with qtbot.waitSignal(panel.sets_panel.sets_loaded, timeout=10_000) as loaded:
        panel.set_dataset(ds)
    panel.show_audio(first)
    panel.open_set(loaded.args[0][0])
    session, editor = panel.session, panel.editor
    assert session is not None and editor is not None
    qtbot.waitUntil(lambda: len(session.document) == 2, timeout=10_000)
    table = editor.table

    assert table.file_only.isChecked(), "the open file's regions by default"
    assert table.proxy.rowCount() == 1 and table.count_label.text() == "1 of 2 regions"
    table.file_only.setChecked(False)
    assert table.proxy.rowCount() == 2 and table.count_label.text() == "2 regions"

    row = next(r for r in range(table.proxy.rowCount())
               if table.proxy.index(r, FILE).data() == "two.wav")
    with qtbot.waitSignal(panel.audio_requested, timeout=10_000) as requested:
        table.view.doubleClicked.emit(table.proxy.index(row, FILE))
    assert requested.args[0].id == second.id
    panel.show_audio(requested.args[0])  # what the window does with audio_requested
    assert editor.audio_file_id == second.id
    assert session.selection == ["in-second"]
    assert table.selected_ids() == ["in-second"]
    panel.set_context(None)
