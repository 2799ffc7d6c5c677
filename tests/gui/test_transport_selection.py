"""The audio editor's selection fields, Playback menu, volume, and playback without a device."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit, QMenu
from pytestqt.qtbot import QtBot

from relay_desktop.core.paths import AppPaths
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.ui.main_window import MainWindow
from relay_desktop.ui.waveform.editor import AudioEditor
from relay_desktop.ui.waveform.transport import NO_DEVICE_HELP

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def editor(qtbot: QtBot, tmp_path: Path) -> Iterator[AudioEditor]:
    paths = AppPaths(tmp_path / "d", tmp_path / "c", tmp_path / "k").ensure()
    ed = AudioEditor(paths=paths)
    qtbot.addWidget(ed)
    ed.resize(1200, 500)
    ed.show()
    qtbot.waitExposed(ed)
    wav = tmp_path / "ten.wav"
    t = np.arange(16000 * 10) / 16000
    sf.write(wav, (0.3 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), 16000)
    with qtbot.waitSignal(ed.file_opened, timeout=10_000):
        ed.open_file(wav)
    yield ed
    ed.shutdown()


def type_into(qtbot: QtBot, field: QLineEdit, text: str) -> None:
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, text)
    QTest.keyClick(field, Qt.Key.Key_Return)


def test_the_selection_is_shown_and_can_be_typed(qtbot: QtBot, editor: AudioEditor) -> None:
    bar, view = editor.selection_bar, editor.view
    fields = bar.fields
    assert [fields[n].text() for n in ("start", "end", "length")] == ["", "", ""]
    view.set_selection(1.25, 2.0)
    assert [fields[n].text() for n in ("start", "end", "length")] == [
        "0:00:01.250", "0:00:02.000", "0:00:00.750"]

    type_into(qtbot, fields["end"], "3.5")
    assert view.selection() == pytest.approx((1.25, 3.5))
    type_into(qtbot, fields["length"], "0:00:00.500")
    assert view.selection() == pytest.approx((1.25, 1.75))
    type_into(qtbot, fields["start"], "0:04")  # past the end: the length is kept
    assert view.selection() == pytest.approx((4.0, 4.5))
    assert fields["length"].text() == "0:00:00.500"

    type_into(qtbot, fields["start"], "soon")
    assert view.selection() == pytest.approx((4.0, 4.5))
    assert fields["start"].text() == "0:00:04.000"
    assert "is not a time" in fields["start"].toolTip()
    assert fields["start"].property("invalid") is True  # outlined until the next good edit
    type_into(qtbot, fields["end"], "99")  # clamped to the file
    assert view.selection() == pytest.approx((4.0, 10.0))
    assert not fields["start"].property("invalid")


def test_the_playback_menu_drives_the_editor(qtbot: QtBot, editor: AudioEditor,
                                             tmp_path: Path) -> None:
    paths = AppPaths(tmp_path / "w", tmp_path / "wc", tmp_path / "wk").ensure()
    window = MainWindow(ConnectionManager(paths), None)
    qtbot.addWidget(window)
    assert not window.playback_menu.actions()[0].isEnabled()  # no editor yet: it says so
    window.set_editor(editor)
    menu = window.playback_menu
    texts = {a.text().replace("&", ""): a for a in menu.actions() if not a.isSeparator()}
    assert {"Play / Pause", "Play selection", "Stop", "Loop", "Follow the playhead",
            "Volume up", "Volume down", "Playback rate"} <= set(texts)
    assert texts["Play / Pause"].shortcut().toString() == "Space"
    assert not texts["Play selection"].isEnabled()
    editor.view.set_selection(1.0, 2.0)
    assert texts["Play selection"].isEnabled()

    texts["Loop"].trigger()
    assert editor.transport.loop_button.isChecked() and editor.player.loop
    editor.transport.follow_button.click()
    assert not texts["Follow the playhead"].isChecked()

    rate_menu = texts["Playback rate"].menu()
    assert isinstance(rate_menu, QMenu)
    half = next(a for a in rate_menu.actions() if a.text().startswith("0.5"))
    half.trigger()
    assert editor.player.rate == 0.5 and editor.transport.rate_box.currentData() == 0.5
    texts["Faster"].trigger()
    assert editor.player.rate == 0.75
    assert next(a for a in rate_menu.actions() if a.isChecked()).text().startswith("0.75")

    texts["Volume down"].trigger()
    texts["Volume down"].trigger()
    assert editor.player.volume == pytest.approx(0.8)
    assert editor.transport.volume_slider.value() == 80
    editor.transport.volume_slider.setValue(35)
    assert editor.player.volume == pytest.approx(0.35)


def _pulse_pid(folder: str) -> int | None:
    try:
        return int(Path(folder, "pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


@pytest.mark.playback
def test_without_a_device_play_says_what_to_do_and_starts_when_one_appears(
        tmp_path: Path) -> None:
    """A real process with no sound server; then a PulseAudio server starts on its socket."""
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("PulseAudio is not installed")
    folder = tempfile.mkdtemp(prefix="rp-", dir="/tmp")  # a short path: sockets allow ~100
    wav = tmp_path / "tone.wav"
    sf.write(wav, (0.2 * np.sin(np.arange(22050 * 3) / 7)).astype(np.float32), 22050)
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from relay_desktop.core.paths import AppPaths
        from relay_desktop.ui.waveform.editor import AudioEditor
        base = Path({str(tmp_path)!r})
        ed = AudioEditor(paths=AppPaths(base / 'd', base / 'c', base / 'k'))
        ed.open_file({str(wav)!r})
        deadline = time.monotonic() + 20
        while ed.player.info is None and time.monotonic() < deadline:
            app.processEvents(); time.sleep(0.02)
        print("available", ed.player.is_available)
        print("play enabled", ed.transport.play_button.isEnabled())
        ed.transport.play_button.click()
        print("label", ed.transport.output_label.text())
        print("WAITING", flush=True)
        deadline = time.monotonic() + 25
        while ed.player.state != "playing" and time.monotonic() < deadline:
            app.processEvents(); time.sleep(0.05)
        print("state", ed.player.state, "available", ed.player.is_available)
        print("label after", repr(ed.transport.output_label.text()), flush=True)
        ed.shutdown()
    """)
    env = dict(os.environ, PULSE_SERVER=f"unix:{folder}/native", QT_QPA_PLATFORM="offscreen",
               ALSA_CONFIG_PATH="/nonexistent")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        assert proc.stdout is not None
        head = []
        for line in proc.stdout:
            head.append(line)
            if line.startswith("WAITING"):
                break
        text = "".join(head)
        if "available True" in text:
            pytest.skip("an audio device is reachable without PulseAudio")
        assert "available False" in text, text + proc.stderr.read()[-2000:]  # type: ignore[union-attr]
        assert "play enabled True" in text  # not silently greyed out
        assert f"label {NO_DEVICE_HELP}" in text
        started = subprocess.run(["bash", str(ROOT / "scripts" / "start-pulse.sh")],
                                 env=dict(os.environ, RELAY_PULSE_DIR=folder),
                                 capture_output=True, text=True, timeout=30, check=False)
        if "null sink ready" not in started.stdout:
            pytest.skip(f"no PulseAudio server could start: {started.stdout[-200:]}")
        rest, err = proc.communicate(timeout=40)
        assert "state playing available True" in rest, rest + err[-2000:]
        assert "label after ''" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        pid = _pulse_pid(folder)
        if pid is not None:
            with contextlib.suppress(OSError):
                os.kill(pid, 15)
        shutil.rmtree(folder, ignore_errors=True)
