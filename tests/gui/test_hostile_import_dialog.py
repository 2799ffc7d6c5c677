"""The import dialog on hostile files: it explains, lists rejected rows, never crashes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from relay_desktop.formats import MAX_IMPORT_BYTES
from relay_desktop.ui.annotations.import_export import ImportDialog
from tests.gui.test_regions import Env, close_env, open_env
from tests.support.live_server import LiveServer


@pytest.fixture
def env(qtbot: QtBot, relay_server: LiveServer, tmp_path: Path) -> Iterator[Env]:
    e = open_env(qtbot, relay_server, tmp_path)
    yield e
    close_env(e)


def _preview(env: Env, qtbot: QtBot, path: Path) -> ImportDialog:
    importer = ImportDialog(env.session, env.audio_ids[0])
    qtbot.addWidget(importer)
    importer.path_edit.setText(str(path))
    importer.preview()
    qtbot.waitUntil(lambda: importer.summary.text() != "Reading…", timeout=20_000)
    return importer


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("garbage.csv", bytes(range(256)) * 64, "could not be read"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "1 row rejected"),
    ("long-line.csv", b"filename,artifact_type,start_ms,end_ms\n"
                      + b"t.wav,click,0,10," + b"x" * 1_000_000 + b"\n", "1 row rejected"),
    ("huge-times.csv", b"filename,artifact_type,start_ms,end_ms\n"
                       b"t.wav,click,0,1e999999\nt.wav,click,nan,10\n", "2 rows rejected"),
])
def test_a_hostile_file_is_explained(env: Env, qtbot: QtBot, tmp_path: Path, name: str,
                                     data: bytes, expected: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    importer = _preview(env, qtbot, path)
    assert expected in importer.summary.text(), importer.summary.text()
    assert "Traceback" not in importer.summary.text()
    rows = [importer.rejected_list.item(i).text() for i in range(importer.rejected_list.count())]
    assert all(row.startswith("Line ") for row in rows), rows
    assert not importer.import_button.isEnabled()


def test_a_utf16_file_with_its_bom_is_read(env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "labels-utf16.txt"
    path.write_bytes("0.100000\t0.200000\tclick\n".encode("utf-16"))  # Audacity labels
    importer = ImportDialog(env.session, env.audio_ids[0])
    qtbot.addWidget(importer)
    importer.path_edit.setText(str(path))
    importer.preview()
    qtbot.waitUntil(lambda: importer.summary.text() != "Reading…", timeout=20_000)
    assert "could not be read" not in importer.summary.text(), importer.summary.text()
    assert importer.regions and importer.import_button.isEnabled(), importer.summary.text()


def test_a_file_over_the_import_limit_is_refused_before_reading(
        env: Env, qtbot: QtBot, tmp_path: Path) -> None:
    path = tmp_path / "huge.csv"
    with open(path, "wb") as out:
        out.truncate(MAX_IMPORT_BYTES + 1)  # sparse: nothing to read, only a size
    importer = _preview(env, qtbot, path)
    assert "MB" in importer.summary.text(), importer.summary.text()
    assert not importer.import_button.isEnabled()
