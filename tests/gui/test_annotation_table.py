"""The annotation table: both-way selection with the plots, sorting, filtering, editing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from pytestqt.qtbot import QtBot

from relay_desktop.core.annotations import Region
from relay_desktop.ui.annotations.history import HistoryPanel
from relay_desktop.ui.annotations.table import (
    CONFIDENCE,
    END,
    START,
    TYPE,
    RegionTable,
    parse_time_ms,
)
from tests.gui.test_regions import Env, click, close_env, open_env
from tests.support.live_server import LiveServer


@pytest.fixture
def env(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Env]:
    e = open_env(qtbot, relay_server, tmp_path)
    yield e
    close_env(e)


@pytest.fixture
def table(env: Env, qtbot: QtBot) -> RegionTable:
    widget = RegionTable(env.session)
    qtbot.addWidget(widget)
    widget.resize(600, 300)
    widget.show()
    a = env.audio_ids[0]
    env.session.add([Region("c1", a, "click", 3000, 3100), Region("p1", a, "pause", 1000, 1900),
                     Region("h1", a, "hum", 2000, 2050, 0.5),
                     Region("c2", env.audio_ids[1], "click", 100, 200)])
    return widget


def cell(table: RegionTable, row: int, col: int) -> str:
    return str(table.proxy.index(row, col).data())


def row_of(table: RegionTable, local_id: str) -> int:
    return table.proxy.mapFromSource(table.model.index(table.model.row_of(local_id), 0)).row()


def test_parse_time() -> None:
    assert parse_time_ms("1:23.456") == 83_456
    assert parse_time_ms("1:01:00.5") == 3_660_500
    assert parse_time_ms("2.5 s") == 2500 and parse_time_ms("2.5") == 2500
    assert parse_time_ms("2500") == 2500 and parse_time_ms("2500 ms") == 2500
    with pytest.raises(ValueError, match="is not a time"):
        parse_time_ms("soon")


def test_sorting_and_type_filter(table: RegionTable) -> None:
    assert table.proxy.rowCount() == 4
    table.view.sortByColumn(START, Qt.SortOrder.AscendingOrder)
    assert [cell(table, r, TYPE) for r in range(4)] == ["click", "pause", "hum", "click"]
    table.view.sortByColumn(TYPE, Qt.SortOrder.DescendingOrder)
    assert [cell(table, r, TYPE) for r in range(4)][:2] == ["pause", "hum"]
    table.set_type_filter("click")
    assert table.proxy.rowCount() == 2 and table.count_label.text() == "2 of 4 regions"
    table.set_current_file(table.session.document.region("c1").audio_file_id)
    table.file_only.setChecked(True)
    assert table.proxy.rowCount() == 1
    table.set_type_filter(None)
    table.file_only.setChecked(False)
    assert table.proxy.rowCount() == 4


def test_selection_is_shared_both_ways(table: RegionTable, env: Env, qtbot: QtBot) -> None:
    env.view.set_view_range(0.0, 4.0)
    click(env.view.plots()[0], 1.5)                  # the pause region on the waveform
    assert env.session.selection == ["p1"]
    rows = table.view.selectionModel().selectedRows()
    assert [table.proxy.data(r, Qt.ItemDataRole.UserRole) for r in rows] == ["p1"]
    index = table.proxy.index(row_of(table, "h1"), 0)
    table.view.selectionModel().select(
        index, QItemSelectionModel.SelectionFlag.ClearAndSelect |
        QItemSelectionModel.SelectionFlag.Rows)
    assert env.session.selection == ["h1"]
    assert env.layer.items_for("h1")[0].selected
    assert not env.layer.items_for("p1")[0].selected


def test_edits_are_validated_and_undoable(table: RegionTable, env: Env) -> None:
    errors: list[str] = []
    table.model.validation_error.connect(errors.append)
    row = row_of(table, "p1")
    model = table.proxy
    assert model.setData(model.index(row, TYPE), "hum")
    assert env.session.document.region("p1").artifact_type == "hum"
    assert model.setData(model.index(row, END), "0:02.250")
    assert env.session.document.region("p1").end_ms == 2250
    assert not model.setData(model.index(row, START), "0:03")    # after the end
    assert "end must be after the start" in errors[-1]
    assert table.message.isVisibleTo(table) and "after the start" in table.message.text()
    assert not model.setData(model.index(row, CONFIDENCE), 1.5)
    assert "between 0 and 1" in errors[-1]
    assert not model.setData(model.index(row, END), "20 s")      # past the 10 s file
    assert "past the end of the file" in errors[-1]
    assert not model.setData(model.index(row, START), "later")
    assert "is not a time" in errors[-1]
    region = env.session.document.region("p1")
    assert (region.artifact_type, region.start_ms, region.end_ms) == ("hum", 1000, 2250)
    assert env.layer.items_for("p1")[0].getRegion() == (1.0, 2.25)
    env.session.undo_stack.undo()
    env.session.undo_stack.undo()
    assert env.session.document.region("p1").artifact_type == "pause"


def test_history_lists_every_edit_and_jumps_back(table: RegionTable, env: Env,
                                                 qtbot: QtBot) -> None:
    history = HistoryPanel(env.session.undo_stack)
    qtbot.addWidget(history)
    env.session.edit("c1", "move", start_ms=3500, end_ms=3600)
    env.session.edit("c1", "confidence", confidence=0.25)
    model = history.view.model()
    texts = [model.index(i, 0).data() for i in range(model.rowCount())]
    assert texts[0] == "Opened" and texts[1] == "Add 4 regions"
    assert texts[2].startswith("Move click") and texts[3] == "Confidence 1 → 0.25"
    history.view.setCurrentIndex(model.index(1, 0))          # back to just after the add
    assert env.session.document.region("c1").start_ms == 3000
    assert history.redo_button.isEnabled()
    history.redo_button.click()
    assert env.session.document.region("c1").start_ms == 3500
