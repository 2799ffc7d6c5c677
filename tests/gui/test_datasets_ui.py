"""Dataset CRUD through the browser and its dialogs, against a real Relay Local."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

from relay_desktop.api import RelayClient, errors
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.ui.datasets import DatasetBrowser, DatasetDialog, DeleteDatasetDialog
from relay_desktop.ui.errors import describe_error, set_dialog_hook, show_error
from tests.gui.conftest import unique
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer


@pytest.fixture
def browser(qtbot: Any, api_worker: ApiWorker) -> DatasetBrowser:
    widget = DatasetBrowser()
    qtbot.addWidget(widget)
    widget.resize(320, 500)
    widget.show()
    with qtbot.waitSignal(widget.datasets_loaded, timeout=15000):
        widget.set_worker(api_worker)
    return widget


def _names(browser: DatasetBrowser) -> list[str]:
    return [d.name for d in browser.model.datasets()]


def test_create_a_dataset_with_artifact_types_and_colours(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    dialog = browser.new_dataset()
    assert isinstance(dialog, DatasetDialog) and dialog.isVisible()
    name = unique("Glitches")
    qtbot.keyClicks(dialog.name, name)
    dialog.description.setPlainText("Clicks and pauses in TTS output")
    row = dialog.add_type("long_pause", "Unnatural silence")
    dialog.color_button(row).set_color("#00aa55")
    with qtbot.waitSignal(dialog.saved, timeout=15000) as saved:
        dialog.save_button.click()
    created = saved.args[0]
    assert not dialog.isVisible()
    assert browser.selected() is not None and browser.selected().id == created.id
    server_copy = live_client.datasets.get(created.id)
    assert server_copy.name == name
    assert server_copy.description == "Clicks and pauses in TTS output"
    assert [(t.name, t.color.upper()) for t in server_copy.artifact_types] == \
        [("glitch", "#E5534B"), ("long_pause", "#00AA55")]
    assert server_copy.artifact_types[1].description == "Unnatural silence"


def test_bad_input_is_refused_before_sending_and_nothing_is_lost(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    before = live_client.datasets.list(page=1, page_size=1).total
    dialog = browser.new_dataset()
    assert dialog is not None
    dialog.add_type("glitch")  # the same name as the default type
    dialog.save_button.click()
    assert dialog.errors["name"].isVisibleTo(dialog)
    assert dialog.errors["name"].text() == "Give the dataset a name."
    assert "used twice" in dialog.errors["artifact_types"].text()
    assert dialog.isVisible() and dialog.types.rowCount() == 2
    dialog.name.setText("still here")
    dialog.color_button(0).set_color("not a colour")
    dialog.types.item(1, 0).setText("other")
    dialog.save_button.click()
    assert "#RRGGBB" in dialog.errors["artifact_types"].text()
    assert dialog.name.text() == "still here"
    assert live_client.datasets.list(page=1, page_size=1).total == before
    dialog.reject()


def test_server_field_errors_appear_next_to_their_fields(qtbot: Any,
                                                         relay_server: LiveServer) -> None:
    with FaultServer() as fault:
        fault.script("POST", "/api/v1/datasets", Reply(422, json={"detail": [
            {"loc": ["body", "name"], "msg": "a dataset with this name exists",
             "type": "value_error"},
            {"loc": ["body", "artifact_types", 0, "color"], "msg": "unsupported colour",
             "type": "value_error"}]}))
        worker = ApiWorker(fault.url, relay_server.api_key)
        try:
            dialog = DatasetDialog(worker)
            qtbot.addWidget(dialog)
            dialog.open()
            dialog.name.setText("Duplicate")
            dialog.save_button.click()
            qtbot.waitUntil(lambda: dialog.errors["name"].isVisibleTo(dialog), timeout=15000)
            assert dialog.errors["name"].text() == "a dataset with this name exists"
            assert dialog.errors["artifact_types"].text() == "0.color: unsupported colour"
            assert dialog.form_error.text() == "Please correct the highlighted fields."
            assert dialog.isVisible() and dialog.name.text() == "Duplicate"
            assert dialog.save_button.isEnabled()
            dialog.reject()
        finally:
            assert worker.shutdown(5000)


def test_edit_search_and_delete_with_a_confirmation_that_counts_the_loss(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    name = unique("Editable")
    ds = live_client.datasets.create(name, artifact_types=[{"name": "click"}])
    live_client.annotation_sets.create(ds.id)
    live_client.audio.request_upload(ds.id, "a.wav", "audio/wav", 1000)
    with qtbot.waitSignal(browser.datasets_loaded, timeout=15000):
        browser.refresh()
    assert browser.select_dataset(ds.id)

    browser.search.setText(name.upper())
    assert browser.proxy.rowCount() == 1
    browser.search.setText("no-such-dataset-zzz")
    assert browser.proxy.rowCount() == 0
    browser.search.clear()
    assert browser.select_dataset(ds.id)

    dialog = browser.edit_selected()
    assert dialog is not None and dialog.name.text() == name
    dialog.name.setText(name + " v2")
    with qtbot.waitSignal(dialog.saved, timeout=15000):
        dialog.save_button.click()
    assert live_client.datasets.get(ds.id).name == name + " v2"
    assert name + " v2" in _names(browser)

    confirm = browser.delete_selected()
    assert isinstance(confirm, DeleteDatasetDialog)
    qtbot.waitUntil(lambda: confirm.delete_button.isEnabled(), timeout=15000)
    text = confirm.message.text()
    assert "1 audio file and 1 annotation set" in text and "cannot be undone" in text
    with qtbot.waitSignal(confirm.deleted, timeout=15000):
        confirm.delete_button.click()
    with pytest.raises(errors.NotFound):
        live_client.datasets.get(ds.id)
    assert ds.id not in [d.id for d in browser.model.datasets()]
    assert browser.selected() is None or browser.selected().id != ds.id


def test_delete_of_a_dataset_already_gone_says_so(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    ds = live_client.datasets.create(unique("Vanishing"), artifact_types=[{"name": "x"}])
    with qtbot.waitSignal(browser.datasets_loaded, timeout=15000):
        browser.refresh()
    browser.select_dataset(ds.id)
    confirm = browser.delete_selected()
    assert confirm is not None
    qtbot.waitUntil(lambda: confirm.delete_button.isEnabled(), timeout=15000)
    live_client.datasets.delete(ds.id)
    confirm.delete_button.click()
    qtbot.waitUntil(lambda: confirm.error.isVisibleTo(confirm), timeout=15000)
    assert "could not find it" in confirm.error.text()
    confirm.reject()


@pytest.fixture
def dialogs() -> Iterator[list[QMessageBox]]:
    seen: list[QMessageBox] = []
    set_dialog_hook(seen.append)
    yield seen
    set_dialog_hook(None)


def test_error_dialogs_explain_and_offer_retry_for_lost_connections(
        qtbot: Any, dialogs: list[QMessageBox]) -> None:
    retried: list[bool] = []
    lost = errors.ApiConnectionError("Could not connect to http://127.0.0.1:9.")
    box = show_error(None, lost, title="Connection lost", retry=lambda: retried.append(True))
    assert dialogs == [box] and box.isVisible()
    assert "connection to the server was lost" in box.text()
    retry = next(b for b in box.buttons() if b.text() == "Retry")
    retry.click()
    assert retried == [True]

    rejected = errors.Unauthorized(401, "Invalid API key", "Invalid API key.")
    box = show_error(None, rejected, retry=lambda: retried.append(True))
    assert "Your API key was rejected" in box.text() and "Invalid API key" in box.text()
    assert [b.text() for b in box.buttons() if b.text() == "Retry"] == []
    box.close()


@pytest.mark.parametrize(("exc", "words"), [
    (errors.Forbidden(403, "Read-only key", "Read-only key."), "not allowed"),
    (errors.NotFound(404, "Dataset not found", "Dataset not found."), "Dataset not found"),
    (errors.ServerError(500, "boom", "boom."), "HTTP 500"),
    (errors.ApiTimeoutError("No answer in 30 s."), "did not answer in time"),
])
def test_errors_become_sentences_with_the_servers_detail(exc: Exception, words: str) -> None:
    assert words in describe_error(exc)


def test_the_colour_picker_opens_without_blocking_and_sets_the_colour(
        qtbot: Any, api_worker: ApiWorker) -> None:
    dialog = DatasetDialog(api_worker)
    qtbot.addWidget(dialog)
    dialog.open()
    button = dialog.color_button(0)
    button.click()
    picker = button.dialog
    assert picker is not None and picker.isVisible()
    from PySide6.QtGui import QColor

    picker.setCurrentColor(QColor("#123456"))
    picker.accept()
    assert button.color == "#123456"
    assert dialog.artifact_types()[0].color == "#123456"
    dialog.reject()
