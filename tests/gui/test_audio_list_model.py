"""The lazy audio list: 10,000 files, pages fetched only as the view scrolls, filter and sort."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor

from relay_desktop.api import RelayClient
from relay_desktop.api.models import Dataset
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.ui.audio_list import AUDIO_ROLE, AudioListView
from relay_desktop.ui.audio_list.format import format_duration, format_size
from relay_desktop.ui.theme import status_color
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer

FILES = 10_000


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Dataset]]:
    """A private server whose one dataset holds 10,000 files (every 10th failed)."""
    from benchmarks.gui_stall import insert_audio_rows

    server = LiveServer(tmp_path_factory.mktemp("big-relay")).start()
    try:
        with RelayClient(server.base_url, server.api_key) as client:
            dataset = client.datasets.create("ten thousand", artifact_types=[{"name": "click"}])
        insert_audio_rows(server.data_dir, server.env, dataset.id, FILES,
                          statuses=("ready",) * 9 + ("failed",))
        yield server, dataset
    finally:
        server.stop()


@pytest.fixture
def view(qtbot: Any, big_server: tuple[LiveServer, Dataset]) -> Iterator[AudioListView]:
    server, _dataset = big_server
    worker = ApiWorker(server.base_url, server.api_key)
    widget = AudioListView(page_size=100)
    qtbot.addWidget(widget)
    widget.resize(900, 500)
    widget.show()
    widget.set_worker(worker)
    yield widget
    assert worker.shutdown(5000)


def _loaded(qtbot: Any, view: AudioListView, rows: int) -> None:
    qtbot.waitUntil(lambda: view.model.rowCount() >= rows and not view.model.loading,
                    timeout=15000)


def test_pages_are_fetched_only_as_the_view_scrolls(
        qtbot: Any, view: AudioListView, big_server: tuple[LiveServer, Dataset]) -> None:
    _server, dataset = big_server
    view.set_dataset(dataset)
    _loaded(qtbot, view, 100)
    qtbot.wait(200)  # give the view every chance to ask for more than it needs
    model = view.model
    assert model.total == FILES
    assert model.pages_requested == [1]
    assert model.rowCount() == 100
    assert view.count.text() == "100 of 10,000 files loaded"
    for expected_pages in (2, 3, 4):
        view.table.scrollToBottom()
        _loaded(qtbot, view, 100 * expected_pages)
        assert model.pages_requested == list(range(1, expected_pages + 1))
    assert model.rowCount() == 400 < FILES
    assert model.canFetchMore(QModelIndex())
    first = model.index(0, 0).data(AUDIO_ROLE)
    assert first.filename == "take_00000.wav"
    assert model.index(399, 0).data() == "take_00399.wav"


def test_columns_are_formatted_and_status_is_coloured(
        qtbot: Any, view: AudioListView, big_server: tuple[LiveServer, Dataset]) -> None:
    view.set_dataset(big_server[1])
    _loaded(qtbot, view, 100)
    model = view.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)]
    assert headers == ["Name", "Duration", "Sample rate", "Channels", "Size", "Status", "Created"]
    row = [model.index(3, c).data() for c in range(7)]
    assert row[:6] == ["take_00003.wav", "0:00:01.051", "24 kHz", "1", "48.1 KB", "ready"]
    assert row[6].startswith("2025-01-01")
    failed = model.index(9, 5)
    assert failed.data() == "failed"
    assert model.index(9, 1).data() == ""
    assert model.index(9, 0).data(Qt.ItemDataRole.ToolTipRole) == \
        "Processing failed: could not decode"
    assert failed.data(Qt.ItemDataRole.ForegroundRole) == QColor(status_color("failed", "light"))
    assert model.index(3, 5).data(Qt.ItemDataRole.ForegroundRole) != \
        failed.data(Qt.ItemDataRole.ForegroundRole)


def test_status_filter_is_applied_by_the_server(
        qtbot: Any, view: AudioListView, big_server: tuple[LiveServer, Dataset]) -> None:
    view.set_dataset(big_server[1])
    _loaded(qtbot, view, 100)
    view.status_filter.setCurrentIndex(view.status_filter.findData("failed"))
    qtbot.waitUntil(lambda: view.model.total == FILES // 10, timeout=15000)
    _loaded(qtbot, view, 100)
    statuses = {view.model.index(r, 5).data() for r in range(view.model.rowCount())}
    assert statuses == {"failed"}
    assert view.model.pages_requested == [1]
    assert view.model.index(0, 0).data() == "take_00009.wav"
    view.status_filter.setCurrentIndex(0)
    qtbot.waitUntil(lambda: view.model.total == FILES, timeout=15000)


def test_sorting_orders_loaded_rows_and_keeps_the_selection(
        qtbot: Any, view: AudioListView, big_server: tuple[LiveServer, Dataset]) -> None:
    view.set_dataset(big_server[1])
    _loaded(qtbot, view, 100)
    view.table.selectRow(5)
    chosen = view.current_file()
    assert chosen is not None and chosen.filename == "take_00005.wav"
    view.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)  # size
    assert view.model.index(0, 0).data() == "take_00099.wav"
    assert view.current_file() == chosen
    view.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert view.model.index(0, 0).data() == "take_00000.wav"


def test_activation_emits_the_audio_file(
        qtbot: Any, view: AudioListView, big_server: tuple[LiveServer, Dataset]) -> None:
    view.set_dataset(big_server[1])
    _loaded(qtbot, view, 100)
    index = view.model.index(7, 2)
    with qtbot.waitSignal(view.audio_file_activated) as blocker:
        view.table.activated.emit(index)
    assert blocker.args[0].filename == "take_00007.wav"


def test_a_failed_page_shows_the_error_and_retry_resumes(
        qtbot: Any, big_server: tuple[LiveServer, Dataset]) -> None:
    server, dataset = big_server
    path = f"/api/v1/datasets/{dataset.id}/audio"
    with FaultServer() as fault:
        fault.script("GET", path, Reply(500, json={"detail": "database on fire"}))
        worker = ApiWorker(fault.url, server.api_key, timeout=(2.0, 5.0))
        widget = AudioListView(page_size=100)
        qtbot.addWidget(widget)
        try:
            widget.set_worker(worker)
            widget.set_dataset(dataset)
            qtbot.waitUntil(lambda: widget.model.error is not None, timeout=20000)
            assert "database on fire" in widget.banner.text()
            assert widget.retry_button.isVisibleTo(widget)
            assert not widget.model.canFetchMore(QModelIndex())
            fault.proxy("GET", path, server.base_url)
            widget.retry_button.click()
            qtbot.waitUntil(lambda: widget.model.rowCount() == 100, timeout=15000)
            assert not widget.banner.isVisibleTo(widget)
        finally:
            assert worker.shutdown(5000)


@pytest.mark.parametrize(("ms", "text"), [(0, "0:00:00.000"), (61_001, "0:01:01.001"),
                                          (3_600_000 + 5, "1:00:00.005"), (None, "")])
def test_duration_format(ms: int | None, text: str) -> None:
    assert format_duration(ms) == text


@pytest.mark.parametrize(("n", "text"), [(999, "999 B"), (1500, "1.5 KB"),
                                         (2_500_000, "2.5 MB"), (3_200_000_000, "3.2 GB")])
def test_size_format(n: int, text: str) -> None:
    assert format_size(n) == text


