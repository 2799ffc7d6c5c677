"""AudioEditor: transport bar + waveform/spectrogram view + player + file properties.

Public API::

    editor = AudioEditor(context)          # or AudioEditor(paths=..., pool=...) without a server
    editor.open_file(Path("x.flac"))       # decode + peaks on the pool; errors shown in the view
    editor.open_file(path, at=(2700.0, 2702.0))  # shown at 45:00, that window read first
    editor.open_audio(dataset_id, audio_file)  # fetch (download or local copy), then open
    editor.view      # WaveformView (plots(), signals, set_view_range...)
    editor.player    # Player (play, pause, seek, play_range, loop, rate, volume)
    editor.playback  # PlaybackActions: the Playback menu's QActions
    editor.selection_bar  # start / end / length of the time selection, editable
    editor.properties  # the properties line (QLabel)

Keys (while the editor has focus; defaults of the keymap's ``playback.*``
commands): Space play/pause, Shift+Space play the selection, S stop, L loop,
plus the view's zoom/pan keys. Without an output device Play says what is
wrong and what to do, and the playback asked for starts when a device appears.

Opening is progressive: a file not in the peak cache is shown as soon as its
header is read (``file_opened``), its waveform filling in while it decodes
(progress bar and Cancel beside it), then ``file_decoded``; a cached file gets
both at once. Opened ``at`` a window, that window is read first by seeking
when the format seeks fast (else decoding streams from the start; logged).
Typing a time into the transport's time display moves the playhead and view.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QProgressBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.audio.cache import AudioCache
from relay_desktop.core.audio.decode import AudioInfo
from relay_desktop.core.audio.peaks import PeakCache
from relay_desktop.core.audio.seeking import seeks_fast
from relay_desktop.core.audio.timefmt import format_time
from relay_desktop.core.paths import AppPaths
from relay_desktop.services import audio_tasks
from relay_desktop.services.audio_fetch import AudioFetcher, FetchJob
from relay_desktop.services.audio_prefetch import AudioPrefetcher
from relay_desktop.services.audio_tasks import OpenedAudio, TaskHandle
from relay_desktop.services.player import NO_OUTPUT, Player
from relay_desktop.ui.elided_label import ElidedLabel
from relay_desktop.ui.waveform.playback_actions import PlaybackActions
from relay_desktop.ui.waveform.selection_bar import SelectionBar
from relay_desktop.ui.waveform.spectrogram_prefs import setup_spectrogram
from relay_desktop.ui.waveform.throttle import Throttle
from relay_desktop.ui.waveform.transport import NO_DEVICE_HELP, TransportBar
from relay_desktop.ui.waveform.view import WaveformView

log = logging.getLogger(__name__)
PROGRESS_INTERVAL_MS = 80  # the progress bar follows decoding at most this often
#: frames decoded per read while opening (~22 s at 48 kHz): each read hands the
#: interpreter lock back and forth once, and with the GUI thread drawing, fewer
#: hand-offs let decoding keep its core (measured: 4x 262,144 cost about 10% more)
OPEN_BLOCK_FRAMES = 1 << 20

STYLE = """
QWidget#audioEditor { background: #1b1e23; color: #d7dae0; }
QWidget#transportBar { background: #23272e; border-bottom: 1px solid #111317; }
QWidget#transportBar QToolButton { color: #d7dae0; padding: 3px 7px; border-radius: 4px; }
QWidget#transportBar QToolButton:hover { background: #323842; }
QWidget#transportBar QToolButton:checked { background: #2f4a63; color: #ffffff; }
QWidget#transportBar QToolButton:disabled { color: #5c6370; }
QWidget#transportBar QComboBox, QWidget#transportBar QSpinBox {
    background: #2b3038; color: #d7dae0; border: 1px solid #3a404b; border-radius: 4px;
    padding: 1px 6px; }
QLabel#transportTime { font-family: monospace; font-size: 13px; color: #ffffff;
    background: #15181d; border: 1px solid #3a404b; border-radius: 4px; padding: 2px 8px; }
QLabel#transportNoOutput { color: #ffb74d; font-weight: bold; padding: 2px 8px;
    background: #2a2418; border-top: 1px solid #111317; }
QWidget#selectionBar QLabel { color: #aab0bb; }
QWidget#selectionBar QLineEdit { background: #15181d; color: #e8eaed; font-family: monospace;
    border: 1px solid #3a404b; border-radius: 3px; padding: 0 3px; }
QWidget#selectionBar QLineEdit:disabled { color: #5c6370; }
QFrame#transportSeparator { color: #3a404b; }
QWidget#editorStatus { background: #23272e; border-top: 1px solid #111317; }
QLabel#editorProperties { color: #aab0bb; padding: 2px 6px; }
QWidget#editorStatus QToolButton { color: #d7dae0; background: #2b3038;
    border: 1px solid #3a404b; border-radius: 3px; padding: 0 8px; }
QWidget#editorStatus QToolButton:hover { background: #323842; }
QProgressBar { background: #15181d; border: 1px solid #3a404b; border-radius: 3px;
    color: #d7dae0; max-height: 14px; text-align: center; }
QProgressBar::chunk { background: #3d7ab8; }
"""


class AudioEditor(QWidget):
    """Transport + views + player for one audio file at a time.

    Signals:
        file_opened(object): the ``AudioInfo`` of the file now shown: the view has it and
            may be positioned, but its waveform may still be decoding (see file_decoded).
        file_decoded(object): the ``AudioInfo`` of the shown file once it is fully decoded
            and its peaks complete (its ``frames`` are those decoded: fewer than the
            header said for a truncated file). Not emitted when decoding is cancelled.
        error(str): opening or playing failed (also shown in the view).
        audio_changing(object): the dataset ``AudioFile`` about to be shown, or None for
            a file that is in no dataset (the Labels dock draws only that file's regions).
    """

    file_opened = Signal(object)
    file_decoded = Signal(object)
    error = Signal(str)
    audio_changing = Signal(object)

    def __init__(self, context: Any = None, *, paths: AppPaths | None = None,
                 pool: QThreadPool | None = None, fetcher: AudioFetcher | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("audioEditor")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLE)
        self._paths = paths or (context.paths if context is not None else AppPaths.default())
        self._pool = pool or (context.thread_pool if context is not None
                              else QThreadPool.globalInstance())
        self.peak_cache = PeakCache(self._paths.peak_cache)
        self.audio_cache = AudioCache(self._paths.audio_cache)
        if fetcher is None and context is not None:
            fetcher = AudioFetcher(context.worker, self.audio_cache, context.connection.base_url,
                                   self._pool, self)
        self.fetcher = fetcher
        #: gets files ready ahead of their opening (the review's next file)
        self.prefetcher = AudioPrefetcher(fetcher, self.peak_cache, self.audio_cache, self)
        self._open_task: TaskHandle | None = None
        self._fetch_job: FetchJob | None = None
        self._opened: OpenedAudio | None = None
        self._follow = True
        self._display_name: str | None = None
        self._pending: str | None = None  # playback asked for while there was no device
        #: frames per decoded block, and a wrapper of the block stream (pacing, in tests)
        self.decode_block_frames = OPEN_BLOCK_FRAMES
        self.decode_pacer: audio_tasks.Pacer | None = None
        self._decoded_sent = False
        self._decode_step = (0, 0)  # the latest (decoded, frames), shown by the throttle
        self._decode_progress = Throttle(PROGRESS_INTERVAL_MS, self._show_decode_progress, self)

        self.transport = TransportBar(self)
        self.view = WaveformView(self._pool, self)
        self.player = Player(self)
        self.properties = ElidedLabel("No file", self)
        self.properties.setObjectName("editorProperties")
        self.progress = QProgressBar(self)
        self.progress.setFixedWidth(180)
        self.progress.hide()
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_loading)
        self.selection_bar = SelectionBar(self)
        self.playback = PlaybackActions(self)

        status = QWidget(self)
        status.setObjectName("editorStatus")
        status.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        row = QHBoxLayout(status)
        row.setContentsMargins(4, 1, 4, 1)
        # a long file name gives way (elided; the tooltip has it all) to the selection
        row.addWidget(self.properties, 1)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        row.addWidget(self.selection_bar)
        # the line keeps its height while a file loads (a taller Cancel button grew it,
        # which resized the view twice per open and left the name drawn low after)
        self.cancel_button.setMaximumHeight(self.selection_bar.sizeHint().height())
        # "No audio output device: ..." gets a line of its own above the status line, where
        # the whole sentence fits and never crowds the transport
        output = self.transport.output_label
        output.setWordWrap(True)
        output.setParent(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.transport)
        layout.addWidget(self.view, 1)
        layout.addWidget(output)
        layout.addWidget(status)

        self._wire()
        setup_spectrogram(self.transport, self.view, self._paths,
                          context.settings if context is not None else None)
        self.transport.set_output_available(self.player.is_available)
        self.view.show_message("Open an audio file to see its waveform.")

    def _wire(self) -> None:
        t, v, p = self.transport, self.view, self.player
        t.play_toggled.connect(self.toggle_playback)
        t.stop_requested.connect(self.stop)
        t.play_selection_requested.connect(self.play_selection)
        t.loop_toggled.connect(p.set_loop)
        t.follow_toggled.connect(self._set_follow)
        t.rate_changed.connect(p.set_rate)
        t.zoom_requested.connect(self._zoom)
        t.channel_mode_changed.connect(v.set_channel_mode)
        t.spectrogram_toggled.connect(v.set_spectrogram_visible)
        t.spectrogram_params_changed.connect(
            lambda w, lo, hi: v.set_spectrogram_params(w, (lo, hi)))
        t.spectrogram_colormap_changed.connect(lambda name: v.set_spectrogram_params(colormap=name))
        t.seek_requested.connect(self.go_to_time)
        v.clicked_at.connect(self._clicked)
        v.selection_changed.connect(lambda a, b: t.set_selection_available(b > a))
        v.selection_changed.connect(lambda _a, _b: self._update_actions())
        p.position_changed.connect(self._position)
        p.state_changed.connect(lambda s: t.set_playing(s == "playing"))
        p.error.connect(self._player_error)
        p.availability_changed.connect(self._availability)
        t.volume_changed.connect(p.set_volume)
        v.selection_changed.connect(self.selection_bar.set_selection)
        self.selection_bar.selection_edited.connect(v.set_selection)
        self._wire_actions()

    def _wire_actions(self) -> None:
        t, a = self.transport, self.playback
        a["playback.play_pause"].triggered.connect(self.toggle_playback)
        a["playback.play_selection"].triggered.connect(self.play_selection)
        a["playback.stop"].triggered.connect(self.stop)
        for action, button in ((a["playback.loop"], t.loop_button),
                               (a["playback.follow"], t.follow_button)):
            action.setChecked(button.isChecked())
            action.toggled.connect(button.setChecked)
            button.toggled.connect(action.setChecked)
        a["playback.faster"].triggered.connect(lambda: t.step_rate(1))
        a["playback.slower"].triggered.connect(lambda: t.step_rate(-1))
        a["playback.volume_up"].triggered.connect(lambda: t.step_volume(1))
        a["playback.volume_down"].triggered.connect(lambda: t.step_volume(-1))
        for action in a.rate_actions:
            action.triggered.connect(lambda _c=False, r=float(action.data()): t.set_rate(r))
        t.rate_changed.connect(a.set_rate)
        self._update_actions()

    # -- opening ----------------------------------------------------------------------------

    def open_file(self, path: Path | str, display_name: str | None = None, *,
                  at: tuple[float, float] | None = None) -> TaskHandle:
        """Open a local file: decode and build (or load) its peaks on the thread pool.

        ``display_name`` is shown instead of the file's name (a dataset file's name,
        when the file on disk is a cache entry named by its hash). ``at``: show
        ``(start_s, end_s)`` first (its samples read before the rest is decoded).
        """
        self.audio_changing.emit(None)
        return self._open_path(Path(path), display_name, at)

    def _open_path(self, path: Path, display_name: str | None,
                   at: tuple[float, float] | None = None) -> TaskHandle:
        """Decode ``path`` and build (or load) its peaks on the thread pool."""
        self._display_name = display_name
        self.cancel_loading()
        self.player.unload()
        self.view.picture.hold()  # no empty frame between two files (see picture_hold)
        self.view.clear()
        self._opened = None
        self._decoded_sent = False
        self._decode_progress.stop()
        self.selection_bar.set_duration(0.0)
        self._update_actions()
        self.transport.set_file_loaded(False)
        self.view.show_message(f"Opening {display_name or path.name}…")
        self.properties.setText(display_name or path.name)
        task = audio_tasks.open_audio(self._pool, path, self.peak_cache,
                                      self.audio_cache.digest_of(path),
                                      block_frames=self.decode_block_frames,
                                      pacer=self.decode_pacer, at=at)
        task.started.connect(lambda result, p=path: self._open_started(p, result, task, at))
        task.progress.connect(lambda done, total: self._open_progress(done, total, task))
        task.finished.connect(lambda result, p=path: self._open_done(p, result, task, at))
        task.failed.connect(lambda msg: self._open_failed(msg, task))
        self._open_task = task
        self._show_progress("Decoding", 0, 0)
        return task

    def open_audio(self, dataset_id: str, audio_file: Any, *,
                   at: tuple[float, float] | None = None) -> FetchJob | None:
        """Fetch a dataset's audio file (download or local copy), then open it (``at``: see
        :meth:`open_file`).

        Returns the fetch started; None when the file was already in the audio cache
        (opened at once) or there is no connection to fetch it with.
        """
        if self.fetcher is None:
            self._open_failed("This editor has no connection to fetch audio with.", None)
            return None
        name = getattr(audio_file, "filename", str(audio_file.id))
        job = self.fetcher.fetch(dataset_id, audio_file)
        if job.cached_path is not None:  # opened at once: no event-loop turn, no clearing
            self.audio_changing.emit(audio_file)
            self._open_path(job.cached_path, name, at)
            return None
        self.cancel_loading()
        self.player.unload()
        self.view.clear()
        self.audio_changing.emit(audio_file)
        self.view.show_message(f"Fetching {name}…")
        self.properties.setText(name)
        job.progress.connect(lambda done, total: self._show_progress("Downloading", done, total))
        job.finished.connect(lambda path, j=job, n=name: self._fetched(j, path, n, at))
        job.failed.connect(lambda msg: self._open_failed(msg, None))
        job.cancelled.connect(self._fetch_cancelled)
        self._fetch_job = job
        self._show_progress("Downloading", 0, 0)
        return job

    def cancel_loading(self) -> None:
        """Cancel a fetch or an open in progress."""
        if self._fetch_job is not None and not self._fetch_job.done:
            self._fetch_job.cancel()
        self._fetch_job = None
        if self._open_task is not None and not self._open_task.done:
            self._open_task.cancel()
            if self.view.decoding:  # what is drawn stays, marked as not fully decoded
                self.view.decoding_stopped()
                self.properties.setText(self.properties.text()
                                        + "  ·  decoding cancelled: waveform incomplete")
        self._open_task = None
        self._hide_progress()

    def _fetched(self, job: FetchJob, path: object, name: str,
                 at: tuple[float, float] | None = None) -> None:
        if job is self._fetch_job:
            self._fetch_job = None
            self._open_path(Path(str(path)), name, at)

    def _fetch_cancelled(self) -> None:
        self._hide_progress()
        self.view.show_message("Download cancelled.")

    def _show_progress(self, what: str, done: int, total: int) -> None:
        self.progress.show()
        self.cancel_button.show()
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * done / total))
            self.progress.setFormat(f"{what} {100 * done / total:.0f}%")
        else:
            self.progress.setRange(0, 0)

    def _hide_progress(self) -> None:
        self._decode_progress.stop()
        self.progress.hide()
        self.cancel_button.hide()

    def _open_progress(self, done: int, total: int, task: TaskHandle) -> None:
        if task is not self._open_task or self._decoded_sent:
            return  # a file no longer shown, or one already complete (its peaks being saved)
        opened = self._opened
        if opened is not None and opened.pyramid.is_complete():
            self._decoding_done(opened)
            return
        self._decode_step = (done, total)
        self._decode_progress.poke()
        self.view.decoding_progressed()

    def _show_decode_progress(self) -> None:
        if self._open_task is not None and not self._decoded_sent:
            self._show_progress("Decoding", *self._decode_step)

    def _open_started(self, path: Path, result: OpenedAudio, task: TaskHandle,
                      at: tuple[float, float] | None) -> None:
        """The header is read: show the file (its waveform fills in while it decodes)."""
        if task is not self._open_task:
            return
        self._opened = result
        info = result.info
        read_ahead = seeks_fast(info)
        if at is not None and not result.pyramid.is_complete():
            log.info("Opening %s at %s: %s", path.name, format_time(at[0]),
                     f"{info.format} seeks fast, reading that window first" if read_ahead
                     else f"{info.format} cannot seek fast, decoding from the start")
        self.view.set_audio(path, info, result.pyramid, at=at, read_ahead=read_ahead,
                            window=result.window)
        if result.window is not None:  # decoding waits until the window is drawn
            QTimer.singleShot(0, task.go_on)
        self.player.load(path, info)
        self._show_info(path, info)
        self.transport.set_position(0)
        self.view.set_playhead(at[0] if at is not None else 0.0)
        if at is not None:
            self.player.seek(at[0] * 1000)
        self._update_actions()
        self.file_opened.emit(info)

    def _show_info(self, path: Path, info: AudioInfo) -> None:
        self.transport.set_file_loaded(True, info.channels)
        self.transport.set_duration(info.duration_ms)
        self.properties.setText(describe(info, path, self._display_name))
        self.selection_bar.set_duration(info.duration_s)

    def _open_done(self, path: Path, result: OpenedAudio, task: TaskHandle,
                   at: tuple[float, float] | None = None) -> None:
        if task is not self._open_task:
            return
        if self._opened is None:  # from the peak cache: no partial result came first
            self._open_started(path, result, task, at)
        self._open_task = None
        self._hide_progress()
        if not self._decoded_sent:
            self._decoding_done(result)

    def _decoding_done(self, opened: OpenedAudio) -> None:
        """The pyramid is complete (its cache copy may still be being written)."""
        self._decoded_sent = True
        self._hide_progress()
        info = opened.info
        path = self.view.path
        if opened.pyramid.frames != info.frames and path is not None:
            info = replace(info, frames=opened.pyramid.frames)  # truncated: fewer than promised
            self._opened = OpenedAudio(info, opened.pyramid)
            self._show_info(path, info)
        self.view.decoding_finished(info)
        self.file_decoded.emit(info)

    def _open_failed(self, message: str, task: TaskHandle | None) -> None:
        if task is not None and task is not self._open_task:
            return
        self._open_task = None
        self._fetch_job = None
        self._hide_progress()
        if task is not None and self.view.decoding:  # failed part way: keep what arrived
            self.view.decoding_stopped()
        else:
            self.view.clear()
        self.view.show_message(message)
        self.view.picture.release()
        self.error.emit(message)

    def go_to_time(self, t_s: float) -> None:
        """Move the playhead to ``t_s`` (clamped to the file) and bring it into view."""
        if self._opened is None:
            return
        t_s = min(max(0.0, t_s), self.view.duration_s)
        self.player.seek(t_s * 1000)
        self.view.set_playhead(t_s)
        self.transport.set_position(round(t_s * 1000))
        a, b = self.view.view_range()
        if not a <= t_s <= b:
            self.view.centre_on(t_s)

    # -- playback ---------------------------------------------------------------------------

    def toggle_playback(self) -> None:
        if self._opened is not None and self._output_ready("play"):
            self.player.toggle()

    def play_selection(self) -> None:
        sel = self.view.selection()
        if sel is not None and self._opened is not None and self._output_ready("selection"):
            self.player.play_range(sel[0] * 1000, sel[1] * 1000)

    def stop(self) -> None:
        """Stop playing (and forget a playback waiting for a device)."""
        self._pending = None
        self.player.stop()

    def _output_ready(self, what: str) -> bool:
        """True when a device can play; else say why and play ``what`` once one appears."""
        if self.player.is_available or self.player.recheck_output():
            return True
        self._pending = what
        self.transport.set_output_available(False)
        self.error.emit(NO_DEVICE_HELP)
        return False

    def _availability(self, available: bool) -> None:
        self.transport.set_output_available(available)
        pending, self._pending = self._pending, None
        if available and pending == "play":
            self.toggle_playback()
        elif available and pending == "selection":
            self.play_selection()

    def _update_actions(self) -> None:
        loaded = self._opened is not None
        has_selection = loaded and self.view.selection() is not None
        for command_id, action in self.playback.by_id.items():
            action.setEnabled(has_selection if command_id == "playback.play_selection"
                              else loaded or command_id in ("playback.loop", "playback.follow"))

    def _set_follow(self, on: bool) -> None:
        self._follow = on

    def _clicked(self, t_s: float) -> None:
        if self._opened is None:
            return
        self.player.seek(t_s * 1000)
        self.view.set_playhead(t_s)

    def _position(self, ms: int) -> None:
        t = ms / 1000
        self.view.set_playhead(t)
        self.transport.set_position(ms)
        if self._follow and self.player.state == "playing":
            self.view.ensure_visible(t)

    def _player_error(self, message: str) -> None:
        if message == NO_OUTPUT:
            self.transport.set_output_available(False)
            message = NO_DEVICE_HELP
        self.error.emit(message)

    def _zoom(self, what: str) -> None:
        {"in": self.view.zoom_in, "out": self.view.zoom_out, "fit": self.view.zoom_fit,
         "selection": self.view.zoom_to_selection}[what]()

    def closeEvent(self, ev: Any) -> None:
        self.shutdown()
        super().closeEvent(ev)

    def shutdown(self) -> None:
        """Stop playback and loading (call before the window goes away)."""
        self.cancel_loading()
        self.prefetcher.shutdown()
        self.player.shutdown()


def describe(info: Any, path: Path, name: str | None = None) -> str:
    """One line of file properties: name, format, rate, channels, duration, size."""
    size = path.stat().st_size if path.exists() else 0
    channels = {1: "mono", 2: "stereo"}.get(info.channels, f"{info.channels} channels")
    return (f"{name or path.name}  ·  {info.format} {info.subtype}"
            f"  ·  {info.sample_rate / 1000:g} kHz  ·  {channels}"
            f"  ·  {format_time(info.duration_s)}  ·  {size / 1e6:.1f} MB")
