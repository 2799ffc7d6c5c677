"""The annotation-set table follows edits, sync and publish live; "New draft" opens the draft."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AudioFile, Dataset
from relay_desktop.core.annotations.document import Region, new_local_id
from relay_desktop.services.context import AppContext
from relay_desktop.ui.annotations.sets_panel import BY_TYPE, COUNT, LOCK, STATUS
from relay_desktop.ui.labelling import LabellingPanel
from tests.gui.conftest import unique

TYPES = [{"name": "click", "color": "#e53935"}, {"name": "pause", "color": "#43a047"}]


def _dataset(client: RelayClient) -> tuple[Dataset, AudioFile]:
    ds = client.datasets.create(unique("live-counts"), artifact_types=TYPES)
    ticket = client.audio.request_upload(ds.id, "take.wav", "audio/wav", 1000)
    return ds, client.audio.get(ds.id, ticket.audio_id)


def _row(panel: LabellingPanel, set_id: str) -> tuple[str, str, str]:
    assert panel.sets_panel is not None
    item = panel.sets_panel._item(set_id)
    assert item is not None, "the set is listed"
    return item.text(STATUS), item.text(COUNT), item.text(BY_TYPE)


def test_new_draft_opens_and_its_row_follows_edits_sync_and_publish(
        qtbot: QtBot, app_context: AppContext, live_client: RelayClient) -> None:
    ds, audio = _dataset(live_client)
    panel = LabellingPanel()
    qtbot.addWidget(panel)
    panel.set_context(app_context)
    sets = panel.sets_panel
    assert sets is not None
    with qtbot.waitSignal(sets.sets_loaded, timeout=10_000):
        panel.set_dataset(ds)

    with qtbot.waitSignal(sets.created, timeout=10_000) as created:
        sets.new_button.click()
    draft = created.args[0]
    qtbot.waitUntil(lambda: panel.session is not None and panel.session.set_id == draft.id,
                    timeout=10_000)
    session = panel.session
    assert session is not None
    qtbot.waitUntil(lambda: session.status == "draft" and bool(session.document.artifact_types),
                    timeout=10_000)
    qtbot.waitUntil(lambda: sets._item(draft.id) is not None, timeout=10_000)
    assert sets.selected_set_id() == draft.id
    assert _row(panel, draft.id) == ("draft", "0", "")

    assert session.add([Region(new_local_id(), audio.id, "click", 100, 200),
                        Region(new_local_id(), audio.id, "pause", 300, 900)])
    assert _row(panel, draft.id) == ("draft", "2", "click 1, pause 1"), "live, before any sync"

    # once synced the list is reloaded from the server and still shows the edits
    qtbot.waitUntil(lambda: live_client.annotation_sets.get(ds.id, draft.id)
                    .total_annotations == 2, timeout=20_000)
    with qtbot.waitSignal(sets.sets_loaded, timeout=10_000):
        sets.refresh()
    assert _row(panel, draft.id) == ("draft", "2", "click 1, pause 1")

    with qtbot.waitSignal(session.published, timeout=20_000):
        session.publish()
    assert _row(panel, draft.id)[0] == f"{LOCK} published"
    with qtbot.waitSignal(sets.sets_loaded, timeout=10_000):
        sets.refresh()
    assert _row(panel, draft.id) == (f"{LOCK} published", "2", "click 1, pause 1")
    panel.set_context(None)
