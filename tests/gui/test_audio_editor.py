"""AudioEditor: opening local files, clear errors, peak cache reuse, fetching from a server."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.api import RelayClient
from relay_desktop.api.models import AudioFile
from relay_desktop.core.audio.decode import AudioInfo
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.api_worker import ApiWorker
from relay_desktop.services.audio_fetch import AudioFetcher
from relay_desktop.ui.waveform.editor import AudioEditor
from tests.gui.conftest import unique
from tests.support.fault_server import FaultServer, Reply

# the socket of scripts/start-pulse.sh; without a server there the editor says "No audio output"
os.environ.setdefault("PULSE_SERVER", f"unix:/tmp/relay-pulse-{os.getuid()}/native")


def write_audio(path: Path, seconds: float = 2.0, rate: int = 16000, channels: int = 1) -> Path:
    t = np.arange(int(seconds * rate)) / rate
    sig = 0.3 * np.sin(2 * np.pi * 220 * t)
    sig[len(sig) // 3] = 0.95
    data = np.repeat(sig[:, None], channels, axis=1).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), data, rate)
    return path


@pytest.fixture
def editor(qtbot: Any, gui_paths: AppPaths) -> AudioEditor:
    widget = AudioEditor(paths=gui_paths)
    qtbot.addWidget(widget)
    widget.resize(1100, 560)
    widget.show()
    yield widget
    widget.shutdown()


def test_open_file_shows_it_and_reopens_from_the_peak_cache(qtbot: Any, editor: AudioEditor,
                                                            tmp_path: Path) -> None:
    path = write_audio(tmp_path / "take.flac", channels=2)
    with qtbot.waitSignal(editor.file_decoded, timeout=10000) as opened:
        editor.open_file(path)
    info = opened.args[0]
    assert isinstance(info, AudioInfo) and info.channels == 2 and info.sample_rate == 16000
    assert editor.view.duration_s == pytest.approx(2.0)
    assert editor.view.view_range() == pytest.approx((0.0, 2.0))
    assert "16 kHz" in editor.properties.text() and "stereo" in editor.properties.text()
    assert editor.view.message() == ""
    assert editor.transport.channel_box.isEnabled()
    folders = [p for p in editor.peak_cache.root.glob("??/*") if (p / "meta.json").exists()]
    assert len(folders) == 1
    stamp = (folders[0] / "meta.json").stat().st_mtime_ns
    with qtbot.waitSignal(editor.file_opened, timeout=10000):
        editor.open_file(path)
    assert (folders[0] / "meta.json").stat().st_mtime_ns == stamp, "reused, not rebuilt"


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"),
    (b"just some text, not audio at all\n" * 30, "not in an audio format"),
])
def test_undecodable_files_show_a_sentence(qtbot: Any, editor: AudioEditor, tmp_path: Path,
                                           content: bytes, words: str) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    with qtbot.waitSignal(editor.error, timeout=10000) as err:
        editor.open_file(bad)
    assert words in err.args[0] and err.args[0].startswith("Cannot")
    assert words in editor.view.message()
    assert editor.view.duration_s == 0.0
    assert not editor.transport.play_button.isEnabled()


def test_truncated_file_opens_what_is_there_or_says_why(qtbot: Any, editor: AudioEditor,
                                                       tmp_path: Path) -> None:
    good = write_audio(tmp_path / "good.flac", seconds=3.0)
    cut = tmp_path / "cut.flac"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    outcome: list[object] = []
    editor.file_opened.connect(outcome.append)
    editor.error.connect(outcome.append)
    editor.open_file(cut)
    qtbot.waitUntil(lambda: bool(outcome), timeout=10000)
    if isinstance(outcome[0], str):
        assert "truncated" in outcome[0] or "damaged" in outcome[0]
        assert editor.view.message() == outcome[0]
    else:
        assert 0 < editor.view.duration_s <= 3.0


def test_click_seeks_and_moves_the_playhead(qtbot: Any, editor: AudioEditor,
                                            tmp_path: Path) -> None:
    with qtbot.waitSignal(editor.file_opened, timeout=10000):
        editor.open_file(write_audio(tmp_path / "a.wav"))
    editor.view.clicked_at.emit(1.25)
    assert editor.player.position_ms == 1250
    assert editor.view.playhead() == pytest.approx(1.25)
    editor.view.set_selection(0.5, 1.0)
    assert editor.transport.zoom_sel_button.isEnabled()
    editor.transport.zoom_sel_button.click()
    a, b = editor.view.view_range()
    assert a == pytest.approx(0.475) and b == pytest.approx(1.025)


def wait_ready(client: RelayClient, dataset_id: str, audio_id: str) -> AudioFile:
    deadline = time.monotonic() + 30
    while True:
        af = client.audio.get(dataset_id, audio_id)
        if af.processing_status in ("ready", "failed") or time.monotonic() > deadline:
            return af
        time.sleep(0.1)


def test_open_audio_downloads_from_the_server_into_the_cache(
        qtbot: Any, app_context: Any, live_client: RelayClient, tmp_path: Path) -> None:
    src = write_audio(tmp_path / "upload.wav", seconds=1.5)
    ds = live_client.datasets.create(unique("editor"), ["glitch"])
    conf = live_client.audio.upload(ds.id, src)
    audio = wait_ready(live_client, ds.id, conf.audio_id)
    ed = AudioEditor(app_context)
    qtbot.addWidget(ed)
    progress: list[tuple[int, int]] = []
    errors: list[str] = []
    ed.error.connect(errors.append)
    with qtbot.waitSignals([ed.file_opened], timeout=20000, raising=False):
        job = ed.open_audio(ds.id, audio)
        assert job is not None
        job.progress.connect(lambda d, t: progress.append((d, t)))
    assert errors == []
    cached = ed.view.path
    assert cached is not None and cached.parent.parent == ed.audio_cache.root
    assert cached.read_bytes() == src.read_bytes()
    assert ed.properties.text().startswith("upload.wav")
    assert progress and progress[-1][0] == src.stat().st_size
    # the second time it comes from the cache: opened at once, no fetch at all
    with qtbot.waitSignal(ed.file_opened, timeout=20000):
        assert ed.fetcher is not None and ed.fetcher.fetch(ds.id, audio).cached_path == cached
        assert ed.open_audio(ds.id, audio) is None
    assert ed.view.path == cached
    ed.shutdown()


def _audio_file(audio_id: str, name: str, size: int) -> AudioFile:
    return AudioFile.from_json({
        "id": audio_id, "dataset_id": "ds-1", "filename": name, "content_type": "audio/wav",
        "file_size": size, "duration_ms": 1000, "processing_status": "ready",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"})


@pytest.fixture
def fault_editor(qtbot: Any, gui_paths: AppPaths) -> Any:
    with FaultServer() as server:
        worker = ApiWorker(server.url, "test-key", timeout=(2.0, 5.0))
        ed = AudioEditor(paths=gui_paths)
        ed.fetcher = AudioFetcher(worker, ed.audio_cache, server.url, None, ed)
        qtbot.addWidget(ed)
        yield server, ed
        ed.shutdown()
        assert worker.shutdown(5000)


def test_server_without_download_falls_back_to_the_upload_copy(
        qtbot: Any, fault_editor: Any, tmp_path: Path) -> None:
    server, ed = fault_editor  # answers 404 to the download-url extension
    original = write_audio(tmp_path / "orig.wav")
    ed.audio_cache.remember_local("ds-1", "au-1", original)
    with qtbot.waitSignal(ed.file_opened, timeout=20000):
        ed.open_audio("ds-1", _audio_file("au-1", "orig.wav", original.stat().st_size))
    assert ed.view.path == original.resolve()
    assert server.count("GET", "/api/v1/datasets/ds-1/audio/au-1/download-url") == 1
    with qtbot.waitSignal(ed.error, timeout=20000) as err:
        ed.open_audio("ds-1", _audio_file("au-2", "other.wav", 10))
    assert "no local copy" in err.args[0]
    assert "no local copy" in ed.view.message()


def test_a_download_can_be_cancelled(qtbot: Any, fault_editor: Any) -> None:
    server, ed = fault_editor
    server.script("GET", "/api/v1/datasets/ds-1/audio/au-9/download-url",
                  Reply(200, json={"download_url": server.url + "/slow.wav", "expires_in": 60},
                        delay=1.5))
    job = ed.open_audio("ds-1", _audio_file("au-9", "slow.wav", 1000))
    assert (job is not None and ed.cancel_button.isVisible()) or ed.progress.isVisibleTo(ed)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        ed.cancel_button.click()
    assert ed.view.message() == "Download cancelled."
    assert not ed.progress.isVisibleTo(ed)
    qtbot.wait(1800)  # the late answer must not reopen anything
    assert ed.view.path is None


def test_the_status_line_keeps_its_height_while_a_file_loads(
        qtbot: Any, editor: AudioEditor, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QLabel

    status = editor.properties.parentWidget()
    assert status is not None
    idle_status, idle_view = status.height(), editor.view.height()
    start = next(label for label in editor.selection_bar.findChildren(QLabel)
                 if label.text() == "Start")
    heights: list[tuple[int, int, int, int]] = []

    def sample() -> None:
        heights.append((status.height(), editor.view.height(), editor.properties.height(),
                        editor.cancel_button.height()))

    editor.progress.valueChanged.connect(lambda _v: sample())
    with qtbot.waitSignal(editor.file_decoded, timeout=10000):
        editor.open_file(write_audio(tmp_path / "long.wav", seconds=60.0))
        qtbot.waitUntil(lambda: editor.cancel_button.isVisible(), timeout=5000)
        qtbot.wait(10)  # a layout pass with the progress and Cancel shown
        sample()
    qtbot.wait(10)
    sample()
    assert heights
    assert all(s == idle_status and v == idle_view for s, v, _p, _c in heights), heights
    top = editor.properties.mapTo(status, editor.properties.rect().topLeft()).y()
    assert top == start.mapTo(status, start.rect().topLeft()).y()
    assert editor.properties.height() == start.height()
