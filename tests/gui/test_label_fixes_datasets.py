"""Dataset names and artifact types: normalised, near-duplicates refused, errors that clear."""

from __future__ import annotations

from typing import Any

import pytest

from relay_desktop.api import RelayClient
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.ui.datasets import DatasetBrowser, DatasetDialog
from tests.gui.conftest import unique


@pytest.fixture
def browser(qtbot: Any, api_worker: ApiWorker) -> DatasetBrowser:
    widget = DatasetBrowser()
    qtbot.addWidget(widget)
    widget.resize(320, 500)
    widget.show()
    with qtbot.waitSignal(widget.datasets_loaded, timeout=15000):
        widget.set_worker(api_worker)
    return widget


def test_the_missing_name_error_goes_away_once_a_name_is_typed(
        qtbot: Any, browser: DatasetBrowser) -> None:
    dialog = browser.new_dataset()
    assert isinstance(dialog, DatasetDialog)
    dialog.save_button.click()
    assert dialog.errors["name"].isVisibleTo(dialog)
    assert dialog.errors["name"].text() == "Give the dataset a name."
    qtbot.keyClicks(dialog.name, "Takes")
    assert not dialog.errors["name"].isVisibleTo(dialog)
    dialog.reject()


def test_types_differing_only_in_case_and_spaces_are_one_type(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    before = live_client.datasets.list(page=1, page_size=1).total
    dialog = browser.new_dataset()
    assert dialog is not None
    dialog.name.setText(unique("types"))
    dialog.add_type("Glitch  ")
    dialog.save_button.click()
    text = dialog.errors["artifact_types"].text()
    assert "“Glitch” and “glitch” are the same type" in text
    assert live_client.datasets.list(page=1, page_size=1).total == before
    second = dialog.types.item(1, 0)
    assert second is not None
    second.setText("  long   pause ")
    assert not dialog.errors["artifact_types"].isVisibleTo(dialog)
    assert [t.name for t in dialog.artifact_types()] == ["glitch", "long pause"]
    dialog.reject()


def test_a_name_already_used_is_refused_in_the_dialog(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    name = unique("Taken Name")
    live_client.datasets.create(name, artifact_types=[{"name": "click"}])
    with qtbot.waitSignal(browser.datasets_loaded, timeout=15000):
        browser.refresh()
    before = live_client.datasets.list(page=1, page_size=1).total
    dialog = browser.new_dataset()
    assert dialog is not None
    dialog.name.setText(f"  {name.upper()} ")
    dialog.save_button.click()
    assert dialog.errors["name"].isVisibleTo(dialog)
    assert f"A dataset named “{name}” already exists" in dialog.errors["name"].text()
    assert dialog.isVisible()
    assert live_client.datasets.list(page=1, page_size=1).total == before
    dialog.reject()


def test_a_name_taken_meanwhile_is_refused_by_the_server_under_the_name(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    dialog = browser.new_dataset()
    assert dialog is not None
    name = unique("Raced")
    live_client.datasets.create(name)  # created elsewhere after the list was loaded
    dialog.name.setText(name.lower())
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.errors["name"].isVisibleTo(dialog), timeout=15000)
    assert "already exists" in dialog.errors["name"].text()
    assert not dialog.form_error.isVisibleTo(dialog)
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    dialog.reject()


def test_a_search_that_finds_nothing_says_so(
        qtbot: Any, browser: DatasetBrowser, live_client: RelayClient) -> None:
    live_client.datasets.create(unique("Searchable"))
    with qtbot.waitSignal(browser.datasets_loaded, timeout=15000):
        browser.refresh()
    browser.search.setText("zzz-no-such-dataset")
    assert browser.proxy.rowCount() == 0
    assert browser.no_match.isVisibleTo(browser)
    assert browser.no_match.text() == "No datasets match “zzz-no-such-dataset”."
    browser.search.setText("Searchable")
    assert not browser.no_match.isVisibleTo(browser)
