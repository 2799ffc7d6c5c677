"""Playback through a real PulseAudio null sink: position, selection end, loop, rate.

The sink is started with ``scripts/start-pulse.sh``; the tests skip (saying why)
where PulseAudio is missing or Qt sees no audio output.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from relay_desktop.services.player import Player

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.playback
# scripts/start-pulse.sh serves on this socket (anonymous auth), whatever the XDG folders are
os.environ.setdefault("PULSE_SERVER", f"unix:/tmp/relay-pulse-{os.getuid()}/native")


@pytest.fixture(scope="module")
def pulse_sink() -> None:
    if shutil.which("pulseaudio") is None or shutil.which("pactl") is None:
        pytest.skip("PulseAudio is not installed: no audio sink for playback tests")
    started = subprocess.run(["bash", str(ROOT / "scripts" / "start-pulse.sh")],
                             capture_output=True, text=True, timeout=30, check=False)
    if "null sink ready" not in started.stdout:
        pytest.skip(f"no PulseAudio null sink: {started.stdout.strip() or started.stderr[-200:]}")
    sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True,
                           timeout=10, check=False)
    if "relay_null" not in sinks.stdout:
        pytest.skip("the PulseAudio null sink could not be started")


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rate = 22050
    t = np.arange(rate * 4) / rate
    path = tmp_path_factory.mktemp("play") / "tone.flac"
    sf.write(str(path), (0.2 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), rate)
    return path


@pytest.fixture
def player(qtbot, pulse_sink: None, tone: Path) -> Player:
    p = Player()
    if not p.is_available:
        pytest.skip("Qt sees no audio output device")
    assert p.load(tone)
    yield p
    p.shutdown()


def test_position_advances_in_real_time(qtbot, player: Player) -> None:
    states: list[str] = []
    player.state_changed.connect(states.append)
    player.seek(500)
    player.play()
    assert states == ["playing"]
    # the sink may take a moment to start; then the position must move forward
    qtbot.waitUntil(lambda: player.position_ms > 700, timeout=8000)
    start_pos, t0 = player.position_ms, time.monotonic()
    qtbot.waitUntil(lambda: player.position_ms > start_pos + 300, timeout=4000)
    elapsed_ms = (time.monotonic() - t0) * 1000
    advanced = player.position_ms - start_pos
    assert advanced <= elapsed_ms + 150, "position never runs ahead of the clock by > a buffer"
    player.pause()
    assert player.state == "paused"
    paused_at = player.position_ms
    qtbot.wait(200)
    assert player.position_ms == paused_at


def test_selection_playback_stops_at_its_end(qtbot, player: Player) -> None:
    positions: list[int] = []
    player.position_changed.connect(positions.append)
    with qtbot.waitSignal(player.state_changed, timeout=10000,
                          check_params_cb=lambda s: s == "stopped"):
        player.play_range(1000, 1400)
    assert player.position_ms == 1400
    assert player.state == "stopped"
    assert positions and max(positions) <= 1400
    assert min(positions) >= 1000


def test_loop_wraps_to_the_selection_start(qtbot, player: Player) -> None:
    positions: list[int] = []
    player.position_changed.connect(positions.append)
    player.set_loop(True)
    player.play_range(2000, 2300)

    def wrapped() -> bool:
        return any(b < a - 150 for a, b in itertools.pairwise(positions))

    qtbot.waitUntil(wrapped, timeout=10000)
    assert player.state == "playing"
    assert all(1990 <= p <= 2300 for p in positions)
    player.stop()
    assert player.state == "stopped"


def test_rate_and_seek_while_playing(qtbot, player: Player) -> None:
    player.set_rate(5.0)
    assert player.rate == 2.0
    player.set_rate(0.1)
    assert player.rate == 0.25
    player.set_rate(2.0)
    player.play()
    qtbot.waitUntil(lambda: player.position_ms > 100, timeout=8000)
    p0, t0 = player.position_ms, time.monotonic()
    qtbot.waitUntil(lambda: player.position_ms > p0 + 600, timeout=4000)
    elapsed = (time.monotonic() - t0) * 1000
    assert (player.position_ms - p0) > 1.3 * elapsed * 0.8, "2x plays about twice as fast"
    player.seek(3000)
    assert 3000 <= player.position_ms < 3000 + 2 * 100 + 50, "within one 100 ms buffer at 2x"
    with qtbot.waitSignal(player.state_changed, timeout=10000,
                          check_params_cb=lambda s: s == "stopped"):
        pass
    assert player.position_ms == player.duration_ms


def test_without_an_output_device_everything_else_works(tone: Path) -> None:
    """A real process with PulseAudio unreachable: no devices, controls say so."""
    script = textwrap.dedent(f"""
        from pathlib import Path
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from relay_desktop.core.paths import AppPaths
        from relay_desktop.ui.waveform.editor import AudioEditor
        ed = AudioEditor(paths=AppPaths(Path({str(tone.parent)!r}) / 'd',
                                        Path({str(tone.parent)!r}) / 'c',
                                        Path({str(tone.parent)!r}) / 'k'))
        errors = []
        ed.player.error.connect(errors.append)
        ed.player.load({str(tone)!r})
        ed.player.play()
        ed.player.seek(1234)
        print("available", ed.player.is_available)
        print("label", ed.transport.output_label.text())
        print("play enabled", ed.transport.play_button.isEnabled())
        print("errors", errors)
        print("position", ed.player.position_ms, ed.player.state)
    """)
    env = dict(os.environ, PULSE_SERVER="unix:/nonexistent/pulse", QT_QPA_PLATFORM="offscreen",
               ALSA_CONFIG_PATH="/nonexistent")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, cwd=ROOT, timeout=60, check=False)
    text = out.stdout
    if "available True" in text:
        pytest.skip("an audio device is reachable even without PulseAudio")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "available False" in text
    assert "label No audio output" in text
    assert "play enabled False" in text
    assert "errors ['No audio output']" in text
    assert "position 1234 stopped" in text
