"""Audio playback: a QAudioSink pulling decoded blocks from a QIODevice (pull mode).

A feeder thread decodes the file with soundfile in ~50 ms chunks, resamples
them (linear interpolation, which also implements the 0.25x-2x rate) and
converts them to the sink's format; the device's ``readData`` (called by Qt on
the GUI thread) only copies bytes. Each chunk records which source frames it
came from, so the position is exact for what the sink has processed
(``processedUSecs``): within one sink buffer (100 ms) of what is heard.

Public API (used by the audio editor and the annotation editor)::

    player = Player()
    player.load(path)            # stops; the file's header is read here
    player.play(); player.pause(); player.toggle(); player.stop()
    player.seek(ms)
    player.play_range(start_ms, end_ms)   # stops at end_ms (or wraps there when looping)
    player.set_loop(True); player.set_rate(1.5); player.set_volume(0.8)
    player.position_ms; player.state; player.is_available; player.duration_ms

When no audio output device exists ``is_available`` is False, ``play()``
emits ``error("No audio output")`` and everything else (seek, position) works.
The player keeps looking: Qt reports devices that come and go
(``QMediaDevices.audioOutputsChanged``), and while no sound server answers at
all it checks again every few seconds (``recheck_output()`` checks now);
``availability_changed`` says when one appears.
"""

from __future__ import annotations

import glob
import logging
import os
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from PySide6.QtCore import QIODevice, QObject, QTimer, Signal
from PySide6.QtMultimedia import QAudioDevice, QAudioFormat, QAudioSink, QMediaDevices
from PySide6.QtMultimedia import QtAudio as QAudio

from relay_desktop.core.audio.decode import AudioDecodeError, AudioInfo, open_sound, probe

log = logging.getLogger(__name__)

CHUNK_SECONDS = 0.05
BUFFER_SECONDS = 0.1
AHEAD_SECONDS = 0.3
MIN_RATE, MAX_RATE = 0.25, 2.0
NO_OUTPUT = "No audio output"
#: how often to look for a sound server while none answers
RECHECK_MS = 2000


def _pulse_sockets() -> list[str]:
    paths: list[str] = []
    server = os.environ.get("PULSE_SERVER", "")
    for entry in server.split():
        entry = entry.rsplit("}", 1)[-1]  # "{machine-id}unix:/path"
        if entry.startswith("unix:"):
            paths.append(entry[5:])
        elif entry.startswith("/"):
            paths.append(entry)
    if server:
        return paths
    if os.environ.get("PULSE_RUNTIME_PATH"):
        paths.append(os.path.join(os.environ["PULSE_RUNTIME_PATH"], "native"))
    if os.environ.get("XDG_RUNTIME_DIR"):
        paths.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "pulse", "native"))
    paths.append(f"/run/user/{os.getuid()}/pulse/native")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    paths += sorted(glob.glob(os.path.join(config, "pulse", "*-runtime", "native")))
    paths.append("/run/pulse/native")
    return paths


def audio_backend_reachable() -> bool:
    """Whether Qt's audio backend has a server to talk to.

    On Linux Qt plays through PulseAudio (or PipeWire's pulse socket); when no
    server answers, touching QMediaDevices only logs a warning, so the player
    checks first and reports "No audio output". Other platforms: always True.
    """
    if not sys.platform.startswith("linux"):
        return True
    if any(e.split(":", 1)[0] in ("tcp", "tcp4", "tcp6")
           for e in os.environ.get("PULSE_SERVER", "").split()):
        return True
    for path in _pulse_sockets():
        if not os.path.exists(path):
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(0.5)
            try:
                sock.connect(path)
            except OSError:
                continue
            return True
    return False


@dataclass
class _Chunk:
    data: bytes
    src_start: float
    step: float  # source frames per output frame (0 for silence)
    frames: int
    offset: int = 0  # bytes already handed out


@dataclass(frozen=True)
class _Segment:
    out_start: int
    frames: int
    src_start: float
    step: float


class _Stream:
    """Shared state of one playback run (feeder thread <-> device <-> player)."""

    def __init__(self, info: AudioInfo, out_rate: int, out_channels: int, fmt: str,
                 start: float, end: float, loop_start: float, loop: bool, rate: float) -> None:
        self.info, self.out_rate, self.out_channels, self.fmt = info, out_rate, out_channels, fmt
        self.sample_bytes = 2 if fmt == "int16" else 4
        self.frame_bytes = self.sample_bytes * out_channels
        self.pos, self.end, self.loop_start = start, end, loop_start
        self.loop, self.rate = loop, rate
        self.cond = threading.Condition()
        self.chunks: deque[_Chunk] = deque()
        self.buffered = 0
        self.eof = False
        self.stopped = False
        self.segments: deque[_Segment] = deque()
        self.out_total = 0
        self.failure: str | None = None

    # -- feeder side ------------------------------------------------------------------

    def feed(self) -> None:
        try:
            with open_sound(self.info.path) as snd:
                while True:
                    with self.cond:
                        while (not self.stopped and not self.eof
                               and self.buffered >= AHEAD_SECONDS * self.out_rate):
                            self.cond.wait(0.5)
                        if self.stopped or self.eof:
                            return
                        pos, rate, end = self.pos, self.rate, self.end
                    chunk, new_pos = self._render(snd, pos, rate, end)
                    with self.cond:
                        if self.stopped:
                            return
                        if chunk is not None:
                            self.chunks.append(chunk)
                            self.buffered += chunk.frames
                            self.cond.notify_all()
                        self.pos = new_pos
                        if new_pos >= self.end - 1e-6:
                            if self.loop and self.end - self.loop_start > 1:
                                self.pos = self.loop_start
                            else:
                                self.eof = True
        except (AudioDecodeError, RuntimeError, ValueError) as exc:
            with self.cond:
                self.failure = str(exc)
                self.eof = True

    def _render(self, snd: sf.SoundFile, pos: float, rate: float,
                end: float) -> tuple[_Chunk | None, float]:
        step = rate * self.info.sample_rate / self.out_rate
        want = int(CHUNK_SECONDS * self.out_rate)
        n = min(want, int(np.floor((end - pos) / step)) + 1)
        if n <= 0 or pos >= end:
            return None, end
        positions = pos + step * np.arange(n)
        positions = positions[positions < end]
        n = len(positions)
        if n == 0:
            return None, end
        i0 = int(np.floor(positions[0]))
        i1 = min(self.info.frames, int(np.floor(positions[-1])) + 2)
        snd.seek(i0)
        src = snd.read(max(1, i1 - i0), dtype="float32", always_2d=True)
        if len(src) == 0:
            return None, end
        if step == 1.0 and positions[0] == i0 and len(src) >= n:
            out = src[:n]
        else:
            rel = positions - i0
            grid = np.arange(len(src))
            out = np.empty((n, src.shape[1]), dtype=np.float32)
            for c in range(src.shape[1]):
                out[:, c] = np.interp(rel, grid, src[:, c])
        out = self._map_channels(out)
        if self.fmt == "int16":
            data = (np.clip(out, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        else:
            data = out.astype("<f4").tobytes()
        return _Chunk(data, float(positions[0]), step, n), float(positions[-1] + step)

    def _map_channels(self, block: np.ndarray) -> np.ndarray:
        have, want = block.shape[1], self.out_channels
        if have == want:
            return block
        if have == 1:
            return np.repeat(block, want, axis=1)
        if want == 1:
            return block.mean(axis=1, keepdims=True)
        out = np.zeros((len(block), want), dtype=np.float32)
        out[:, :min(have, want)] = block[:, :min(have, want)]
        return out

    # -- device side (GUI thread) -------------------------------------------------------

    def take(self, maxlen: int) -> bytes:
        frames_wanted = maxlen // self.frame_bytes
        if frames_wanted <= 0:
            return b""
        parts: list[bytes] = []
        with self.cond:
            while frames_wanted > 0 and self.chunks:
                chunk = self.chunks[0]
                done = chunk.offset // self.frame_bytes
                n = min(frames_wanted, chunk.frames - done)
                parts.append(chunk.data[chunk.offset: chunk.offset + n * self.frame_bytes])
                src = chunk.src_start + done * chunk.step
                self.segments.append(_Segment(self.out_total, n, src,
                                              chunk.step))
                self.out_total += n
                chunk.offset += n * self.frame_bytes
                frames_wanted -= n
                self.buffered -= n
                if chunk.offset >= len(chunk.data):
                    self.chunks.popleft()
            if not parts and not self.eof:
                # underrun (feeder not ready yet): hand out a little silence
                n = min(frames_wanted, int(0.01 * self.out_rate))
                parts.append(bytes(n * self.frame_bytes))
                self.segments.append(_Segment(self.out_total, n, self.pos, 0.0))
                self.out_total += n
            self.cond.notify_all()
        return b"".join(parts)

    def finished(self) -> bool:
        with self.cond:
            return self.eof and not self.chunks

    def source_frame(self, played_out: float) -> float | None:
        """The source frame being heard after ``played_out`` output frames."""
        with self.cond:
            while len(self.segments) > 1 and self.segments[1].out_start <= played_out:
                self.segments.popleft()
            if not self.segments:
                return None
            seg = self.segments[0]
            offset = min(max(0.0, played_out - seg.out_start), seg.frames)
            return seg.src_start + offset * seg.step

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify_all()


class _PullDevice(QIODevice):
    """The QIODevice the sink pulls from; copies bytes prepared by the feeder.

    Signals:
        (QIODevice's own; never emitted by us)
    """

    def __init__(self, stream: _Stream, parent: QObject) -> None:
        super().__init__(parent)
        self.stream = stream

    def bytesAvailable(self) -> int:
        return 0 if self.stream.finished() else 1 << 20

    def readData(self, maxlen: int) -> bytes:
        return self.stream.take(maxlen)

    def writeData(self, data: Any, len: int) -> int:
        return -1


class Player(QObject):
    """Plays one audio file through the default output device.

    Signals:
        position_changed(int): the playback position in ms (about 30 times a second
            while playing, and after every seek).
        state_changed(str): "stopped", "playing" or "paused".
        error(str): a sentence (no output device, file unreadable).
        availability_changed(bool): an output device appeared or disappeared.
    """

    position_changed = Signal(int)
    state_changed = Signal(str)
    error = Signal(str)
    availability_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._info: AudioInfo | None = None
        self._pos = 0.0  # source frames
        self._range: tuple[float, float] | None = None
        self._loop = False
        self._rate = 1.0
        self._state = "stopped"
        self._sink: QAudioSink | None = None
        self._device: _PullDevice | None = None
        self._stream: _Stream | None = None
        self._thread: threading.Thread | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self._tick)
        self._volume = 1.0
        self._media: QMediaDevices | None = None
        self._available = False
        self._recheck = QTimer(self)
        self._recheck.setInterval(RECHECK_MS)
        self._recheck.timeout.connect(self.recheck_output)
        if audio_backend_reachable():
            self._watch_devices()
        else:
            self._recheck.start()

    # -- properties ----------------------------------------------------------------------

    @property
    def is_available(self) -> bool:
        """Whether an audio output device exists."""
        return self._available

    @property
    def state(self) -> str:
        return self._state

    @property
    def info(self) -> AudioInfo | None:
        return self._info

    @property
    def duration_ms(self) -> int:
        return self._info.duration_ms if self._info else 0

    @property
    def position_ms(self) -> int:
        return round(self._current_frame() * 1000 / self._info.sample_rate) if self._info else 0

    @property
    def loop(self) -> bool:
        return self._loop

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def volume(self) -> float:
        """The output volume, 0.0 (silent) to 1.0 (the file as it is)."""
        return self._volume

    @property
    def play_range_ms(self) -> tuple[int, int] | None:
        if self._range is None or self._info is None:
            return None
        sr = self._info.sample_rate
        return round(self._range[0] * 1000 / sr), round(self._range[1] * 1000 / sr)

    # -- control -------------------------------------------------------------------------

    def load(self, path: Path | str, info: AudioInfo | None = None) -> bool:
        """Stop and prepare ``path``; False (and ``error``) when it cannot be read."""
        self.stop()
        try:
            self._info = info or probe(path)
        except AudioDecodeError as exc:
            self._info = None
            self.error.emit(str(exc))
            return False
        self._pos = 0.0
        self._range = None
        self.position_changed.emit(0)
        return True

    def unload(self) -> None:
        self.stop()
        self._info = None

    def play(self) -> None:
        """Play from the position to the end of the file (or loop the whole file)."""
        self._range = None
        self._start()

    def play_range(self, start_ms: int | float, end_ms: int | float) -> None:
        """Play ``[start_ms, end_ms)``, then stop (or wrap to ``start_ms`` when looping)."""
        if self._info is None:
            return
        sr = self._info.sample_rate
        a = min(max(0.0, start_ms * sr / 1000), self._info.frames)
        b = min(max(0.0, end_ms * sr / 1000), self._info.frames)
        if b - a < 1:
            return
        self._halt()
        self._range = (min(a, b), max(a, b))
        self._pos = self._range[0]
        self._start()

    def pause(self) -> None:
        if self._state != "playing":
            return
        self._pos = self._current_frame()
        self._halt()
        self._set_state("paused")
        self.position_changed.emit(self.position_ms)

    def toggle(self) -> None:
        """Pause when playing, else play (resuming a paused selection)."""
        if self._state == "playing":
            self.pause()
        elif self._range is not None and self._state == "paused":
            self._start()
        else:
            self.play()

    def stop(self) -> None:
        was = self._state
        if self._stream is not None:
            self._pos = self._current_frame()
        self._halt()
        if was != "stopped":
            self._set_state("stopped")

    def seek(self, ms: int | float) -> None:
        """Move to ``ms`` (clamped); keeps playing if playing."""
        if self._info is None:
            return
        frame = min(max(0.0, ms * self._info.sample_rate / 1000), float(self._info.frames))
        playing = self._state == "playing"
        self._halt()
        self._pos = frame
        if self._range is not None and not (self._range[0] <= frame < self._range[1]):
            self._range = None
        if playing:
            self._start()
        self.position_changed.emit(self.position_ms)

    def set_loop(self, loop: bool) -> None:
        self._loop = bool(loop)
        if self._stream is not None:
            with self._stream.cond:
                self._stream.loop = self._loop

    def set_rate(self, rate: float) -> None:
        """Playback speed, clamped to 0.25-2.0 (pitch changes with it)."""
        self._rate = float(min(MAX_RATE, max(MIN_RATE, rate)))
        if self._stream is not None:
            with self._stream.cond:
                self._stream.rate = self._rate

    def set_volume(self, volume: float) -> None:
        """Output volume, clamped to 0.0-1.0 (applies at once while playing)."""
        self._volume = float(min(1.0, max(0.0, volume)))
        if self._sink is not None:
            self._sink.setVolume(self._volume)

    def recheck_output(self) -> bool:
        """Look for an output device now (a sound server may have started); True if one."""
        if self._media is None:
            if not audio_backend_reachable():
                return False
            self._recheck.stop()
            self._watch_devices()
            if self._available:
                self.availability_changed.emit(True)
            return self._available
        self._outputs_changed()
        return self._available

    # -- internals -----------------------------------------------------------------------

    def _watch_devices(self) -> None:
        self._media = QMediaDevices(self)
        self._available = bool(QMediaDevices.audioOutputs())
        self._media.audioOutputsChanged.connect(self._outputs_changed)

    def _set_state(self, state: str) -> None:
        if state != self._state:
            self._state = state
            self.state_changed.emit(state)

    def _outputs_changed(self) -> None:
        available = bool(QMediaDevices.audioOutputs())
        if available != self._available:
            self._available = available
            self.availability_changed.emit(available)
            if not available:
                self.stop()

    def _format_for(self, device: QAudioDevice, info: AudioInfo) -> tuple[QAudioFormat, str]:
        fmt = QAudioFormat()
        fmt.setSampleRate(info.sample_rate)
        fmt.setChannelCount(min(2, info.channels))
        for sample_format, name in ((QAudioFormat.SampleFormat.Float, "float32"),
                                    (QAudioFormat.SampleFormat.Int16, "int16")):
            fmt.setSampleFormat(sample_format)
            if device.isFormatSupported(fmt):
                return fmt, name
        preferred = device.preferredFormat()
        fmt = QAudioFormat()
        fmt.setSampleRate(preferred.sampleRate())
        fmt.setChannelCount(preferred.channelCount())
        fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
        return fmt, "int16"

    def _start(self) -> None:
        if self._info is None:
            return
        if not self._available:
            self.error.emit(NO_OUTPUT)
            return
        self._halt()
        info = self._info
        start, end = self._range or (0.0, float(info.frames))
        if self._pos >= end - 1 or self._pos < start:
            self._pos = start
        device = QMediaDevices.defaultAudioOutput()
        fmt, name = self._format_for(device, info)
        stream = _Stream(info, fmt.sampleRate(), fmt.channelCount(), name, self._pos, end,
                         start, self._loop, self._rate)
        self._stream = stream
        self._thread = threading.Thread(target=stream.feed, name="relay-player-feed", daemon=True)
        self._thread.start()
        with stream.cond:  # the first chunk takes about a millisecond to decode
            stream.cond.wait_for(lambda: stream.buffered > 0 or stream.eof, timeout=0.5)
        self._device = _PullDevice(stream, self)
        self._device.open(QIODevice.OpenModeFlag.ReadOnly)
        sink = QAudioSink(device, fmt, self)
        sink.setBufferSize(int(BUFFER_SECONDS * fmt.sampleRate()) * stream.frame_bytes)
        sink.setVolume(self._volume)
        self._sink = sink
        sink.start(self._device)
        if sink.error() != QAudio.Error.NoError:
            self._halt()
            self.error.emit(f"Cannot start playback ({sink.error().name}).")
            return
        self._timer.start()
        self._set_state("playing")

    def _halt(self) -> None:
        self._timer.stop()
        if self._sink is not None:
            self._sink.stop()
            self._sink.deleteLater()
            self._sink = None
        if self._stream is not None:
            self._stream.stop()
        if self._thread is not None:
            self._thread.join(timeout=2.0)
            self._thread = None
        if self._device is not None:
            self._device.close()
            self._device.deleteLater()
            self._device = None
        self._stream = None

    def _current_frame(self) -> float:
        if self._stream is None or self._sink is None or self._info is None:
            return self._pos
        played = self._sink.processedUSecs() * self._stream.out_rate / 1e6
        frame = self._stream.source_frame(played)
        return self._pos if frame is None else min(frame, float(self._info.frames))

    def _tick(self) -> None:
        stream = self._stream
        if stream is None or self._sink is None:
            return
        state = self._sink.state()
        if stream.failure and not stream.chunks:
            message = stream.failure
            self.stop()
            self.error.emit(message)
            return
        if state in (QAudio.State.IdleState, QAudio.State.StoppedState) and stream.finished():
            self._finish()
            return
        if state == QAudio.State.StoppedState and self._sink.error() not in (
                QAudio.Error.NoError, QAudio.Error.UnderrunError):
            err = self._sink.error()
            self._pos = self._current_frame()
            self._halt()
            self._set_state("stopped")
            self.error.emit(f"Playback stopped: the audio device reported {err.name}.")
            return
        self.position_changed.emit(self.position_ms)

    def _finish(self) -> None:
        stream = self._stream
        if stream is None or self._info is None:
            return
        end = self._range[1] if self._range else float(self._info.frames)
        failure = stream.failure
        self._halt()
        self._pos = end
        self._set_state("stopped")
        self.position_changed.emit(self.position_ms)
        if failure:
            self.error.emit(failure)

    def shutdown(self) -> None:
        """Stop playback and the feeder thread (call before the app quits)."""
        self._recheck.stop()
        self._halt()
