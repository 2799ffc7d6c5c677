"""Uploads through the whole app: the Application builds the UploadManager per connection.

* Add files from the File menu, follow processing to "ready" in the audio list, see the
  file count follow, find the local copy remembered, delete a file with its confirmation.
* Kill the app (SIGKILL) in the middle of a queue, start it again: the queue resumes and
  every file is on the server exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication

from relay_desktop.api import RelayClient
from relay_desktop.app import Application
from relay_desktop.core.audio.cache import AudioCache
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.uploads.state import UploadState
from tests.support.live_server import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def _takes(folder: Path, n: int, seconds: float = 0.5, rate: int = 16_000) -> list[Path]:
    """``n`` WAV files of noise (each different, so none is a duplicate)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(n):
        path = folder / f"take_{i:03d}.wav"
        sf.write(str(path), (0.2 * rng.standard_normal(int(rate * seconds))).astype("float32"),
                 rate, subtype="PCM_16")
        paths.append(path)
    return paths


def _paths(root: Path) -> AppPaths:
    return AppPaths(root / "data", root / "cache", root / "config").ensure()


@pytest.fixture
def shell_env(monkeypatch: pytest.MonkeyPatch, fresh_server: LiveServer) -> LiveServer:
    monkeypatch.setenv("RELAY_BASE_URL", fresh_server.base_url)
    monkeypatch.setenv("RELAY_API_KEY", fresh_server.api_key)
    return fresh_server


def _start_shell(qtbot: Any, paths: AppPaths) -> Application:
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    shell = Application(qapp, paths, editor_factory=None)
    qtbot.addWidget(shell.window)
    shell.window.resize(1300, 850)
    shell.window.show()
    with qtbot.waitSignal(shell.window.datasets.datasets_loaded, timeout=15_000):
        shell.start(restore_layout=False)
    return shell


@pytest.fixture
def shell_paths(tmp_path: Path) -> AppPaths:
    return _paths(tmp_path / "home")


def test_add_files_follow_them_to_ready_and_delete_one(
        qtbot: Any, tmp_path: Path, shell_env: LiveServer, shell_paths: AppPaths) -> None:
    with RelayClient(shell_env.base_url, shell_env.api_key) as client:
        dataset = client.datasets.create("Takes", artifact_types=["glitch"])
        files = _takes(tmp_path / "takes", 3)
        shell = _start_shell(qtbot, shell_paths)
        try:
            window = shell.window
            assert shell.context is not None and shell.context.uploads is not None
            assert not window.upload_actions.add_files_action.isEnabled()
            assert window.datasets.select_dataset(dataset.id)
            assert window.upload_actions.add_files_action.isEnabled()
            window.upload_actions.add_files(files)
            assert window.uploads_dock.isVisible()

            audio = window.audio_list.model

            def ready_in_list() -> bool:
                rows = [audio.file_at(r) for r in range(audio.rowCount())]
                return len(rows) == 3 and all(
                    f is not None and f.processing_status == "ready" for f in rows)

            qtbot.waitUntil(ready_in_list, timeout=90_000)  # no refresh pressed
            qtbot.waitUntil(lambda: window.datasets.model.datasets()[0].audio_count == 3,
                            timeout=15_000)
            assert window.audio_list.count.text() == "3 files"
            # the queue follows processing too (through the job monitor, with backoff)
            qtbot.waitUntil(lambda: {r.state for r in window.uploads.model.rows()}
                            == {UploadState.READY}, timeout=30_000)
            rows = window.uploads.model.rows()
            assert window.status.uploads.text() == "Uploaded 3/3"

            # each file opens from where it was uploaded from, without a download
            cache = AudioCache(shell_paths.audio_cache)
            for row in rows:
                assert cache.local_copy(dataset.id, row.remote_id) == row.path.resolve()

            # delete one from the list, after the confirmation
            first = audio.file_at(0)
            assert first is not None
            table = window.audio_list.table
            table.selectionModel().select(
                audio.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            table.setFocus()
            qtbot.keyClick(table, Qt.Key.Key_Delete)
            dialog = window.audio_list.delete_dialog
            assert dialog is not None
            qtbot.waitUntil(dialog.delete_button.isEnabled, timeout=15_000)
            assert f"“{first.filename}”" in dialog.message.text()
            dialog.delete_button.click()
            qtbot.waitUntil(lambda: audio.rowCount() == 2, timeout=15_000)
            assert sorted(f.filename for f in client.audio.iter_items(dataset.id)) == \
                sorted(p.name for p in files if p.name != first.filename)
            qtbot.waitUntil(lambda: window.datasets.model.datasets()[0].audio_count == 2,
                            timeout=15_000)
        finally:
            shell.shutdown()


# -- killed mid-queue ----------------------------------------------------------------------------

CHILD = """
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from relay_desktop.app import Application
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.uploads.state import UploadTarget

root, folder, dataset_id = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
qapp = QApplication([])
shell = Application(qapp, AppPaths(root / "data", root / "cache", root / "config").ensure(),
                    editor_factory=None)
def go(_datasets):
    shell.window.upload_files([folder], UploadTarget("dataset", dataset_id, "Killed"))
    print("queued", flush=True)
shell.window.datasets.datasets_loaded.connect(go)
shell.start(restore_layout=False)
qapp.exec()
"""


@pytest.fixture
def child_app(tmp_path: Path, shell_env: LiveServer) -> Iterator[list[subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def test_killed_mid_queue_and_restarted_every_file_arrives_once(
        qtbot: Any, tmp_path: Path, shell_env: LiveServer, shell_paths: AppPaths,
        child_app: list[subprocess.Popen[str]]) -> None:
    total = 40
    files = _takes(tmp_path / "queue", total, seconds=4.0, rate=44_100)  # ~350 KB each
    with RelayClient(shell_env.base_url, shell_env.api_key) as client:
        dataset = client.datasets.create("Killed")
        (shell_paths.config / "settings.json").write_text('{"uploads/lanes": 1}')
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(shell_paths.data.parent), str(files[0].parent),
             dataset.id], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        child_app.append(proc)
        assert proc.stdout is not None and proc.stderr is not None
        if proc.stdout.readline().strip() != "queued":
            proc.kill()
            raise AssertionError(f"the app did not queue the files: {proc.stderr.read()[-2000:]}")

        def on_server() -> list[str]:
            return [f.filename for f in client.audio.iter_items(dataset.id)]

        deadline = time.monotonic() + 120
        while len(on_server()) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        at_kill = len(on_server())
        assert 3 <= at_kill < total, f"{at_kill} of {total} were there when the app was killed"

        # start again on the same user folders: the queue resumes by itself
        shell = _start_shell(qtbot, shell_paths)
        try:
            assert shell.context is not None and shell.context.uploads is not None
            qtbot.waitUntil(lambda: shell.window.uploads.model.rowCount() == total,
                            timeout=30_000)
            assert shell.window.uploads_dock.isVisible()  # the unfinished queue is shown

            def all_done() -> bool:
                return all(r.state in (UploadState.PROCESSING, UploadState.READY)
                           for r in shell.window.uploads.model.rows())

            qtbot.waitUntil(all_done, timeout=180_000)
            names = on_server()
            assert sorted(names) == sorted(p.name for p in files)  # each exactly once
            assert len(names) == len(set(names)) == total
        finally:
            shell.shutdown()


def test_a_failed_file_is_replaced_by_its_reupload(
        qtbot: Any, tmp_path: Path, shell_env: LiveServer, shell_paths: AppPaths) -> None:
    with RelayClient(shell_env.base_url, shell_env.api_key) as client:
        dataset = client.datasets.create("Fix me")
        broken = tmp_path / "take.wav"
        broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 64)
        failed_id = client.audio.upload(dataset.id, broken, content_type="audio/wav").audio_id
        deadline = time.monotonic() + 60
        while client.audio.get(dataset.id, failed_id).processing_status != "failed":
            assert time.monotonic() < deadline, "the broken file never failed"
            time.sleep(0.1)
        fixed = _takes(tmp_path / "fixed", 1)[0]
        shell = _start_shell(qtbot, shell_paths)
        try:
            window = shell.window
            audio = window.audio_list.model
            assert window.datasets.select_dataset(dataset.id)
            qtbot.waitUntil(lambda: audio.rowCount() == 1, timeout=15_000)
            window.audio_list.table.selectRow(0)
            assert window.audio_list.reupload_action.isVisible()
            window.audio_list.reupload_current(fixed)
            assert window.uploads_dock.isVisible()

            def replaced() -> bool:
                rows = [audio.file_at(r) for r in range(audio.rowCount())]
                return (len(rows) == 1 and rows[0] is not None and rows[0].id != failed_id
                        and rows[0].processing_status == "ready")

            qtbot.waitUntil(replaced, timeout=90_000)
            on_server = list(client.audio.iter_items(dataset.id))
            assert [(f.filename, f.processing_status) for f in on_server] == \
                [(fixed.name, "ready")]
        finally:
            shell.shutdown()
