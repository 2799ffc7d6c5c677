"""The composition root: builds the services and the main window and connects them."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from relay_desktop import __version__
from relay_desktop.api.models import AudioFile
from relay_desktop.api.redact import install as redact_secret
from relay_desktop.core.connections import LOCAL_ID, ConnectionRecord
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings
from relay_desktop.screenshot import Screenshot
from relay_desktop.services.activity import ActivityTracker
from relay_desktop.services.api_worker import ApiWorker, lingering_threads
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.services.context import AppContext, ConnectionInfo
from relay_desktop.services.credentials import CredentialStore
from relay_desktop.services.gc_tuning import settle_after_startup
from relay_desktop.services.gui_process import prepare_gui_process
from relay_desktop.services.job_monitor import JobMonitor
from relay_desktop.services.local_workspace import LocalWorkspace
from relay_desktop.services.upload_manager import UploadManager
from relay_desktop.ui.errors import show_error
from relay_desktop.ui.labelling import LabellingPanel
from relay_desktop.ui.main_window import MainWindow
from relay_desktop.ui.model_loop import ModelLoop, register_keys
from relay_desktop.ui.theme import ThemeManager

log = logging.getLogger(__name__)

SHUTDOWN_WAIT_MS = 3000

#: builds the central editor for a connection (see ``default_editor_factory``)
EditorFactory = Callable[[AppContext], QWidget]


def parse_size(text: str) -> tuple[int, int]:
    """``"1400x860"`` -> (1400, 860); ValueError with a sentence otherwise."""
    width, sep, height = text.lower().partition("x")
    try:
        w, h = int(width), int(height)
    except ValueError:
        w = h = 0
    if not sep or w < 200 or h < 150 or w > 10000 or h > 10000:
        raise ValueError(f"--size must look like 1400x860 (at least 200x150), not {text!r}")
    return w, h


class Application(QObject):
    """Owns the settings, credentials, connections, local workspace, API worker and window.

    Signals:
        connected(object): a new AppContext is in use.
        connection_failed(str): opening a connection failed (a sentence).
    """

    connected = Signal(object)
    connection_failed = Signal(str)

    def __init__(self, qapp: QApplication, paths: AppPaths | None = None, *,
                 credentials: CredentialStore | None = None,
                 workspace_seed_demo: bool = True,
                 editor_factory: EditorFactory | None = None) -> None:
        super().__init__(qapp)
        self.qapp = qapp
        self.paths = (paths or AppPaths.default()).ensure()
        self.settings = Settings(self.paths.config / "settings.json")
        self.credentials = credentials or CredentialStore(self.paths.config / "credentials.json")
        self.manager = ConnectionManager(self.paths, self.credentials, self)
        self.theme = ThemeManager(qapp, self.settings.theme)
        self.activity = ActivityTracker(self)
        self.thread_pool = QThreadPool(self)
        self.thread_pool.setMaxThreadCount(max(2, (os.cpu_count() or 2) - 1))
        self.workspace_seed_demo = workspace_seed_demo
        self.local: LocalWorkspace | None = None
        self.context: AppContext | None = None
        self.window = MainWindow(self.manager, self.paths.config / "window.ini",
                                 self.settings.theme)
        self.window.setWindowIcon(_app_icon())
        self.window.settings = self.settings
        register_keys(self.window)  # before the user's bindings, so rebound keys are kept
        for problem in self.window.shortcuts.use_settings(self.settings):
            log.warning("Ignoring a saved shortcut: %s", problem)
        self.window.local_requested.connect(self.open_local)
        self.window.connection_requested.connect(self.open_saved)
        self.window.theme_requested.connect(self.set_theme)
        self.theme.changed.connect(lambda eff: self.window.set_theme_mode(self.theme.mode, eff))
        self._local_activity: int | None = None
        self.editor_factory = editor_factory
        self.editor: QWidget | None = None
        self.window.audio_file_activated.connect(self._open_in_editor)
        self.labelling = LabellingPanel()
        # the full height at the right: its sets and regions tables get room, and the
        # waveform keeps most of the height
        labels_dock = self.window.add_panel(self.labelling, "Labels", "right", "labelsDock")
        self._labels_dock = labels_dock
        self.window.dataset_selected.connect(self.labelling.set_dataset)
        self.window.audio_file_activated.connect(self.labelling.show_audio)
        self.window.edit_menu.follow(self.labelling)
        self.labelling.audio_requested.connect(self.window.audio_file_activated)
        self.labelling.notice.connect(lambda text: self.window.status.showMessage(text, 10000))
        self.window.local_file_requested.connect(self.open_local_file)
        self.loop = ModelLoop(self.window, self.labelling, labels_dock)

    # -- start-up ------------------------------------------------------------------

    def start(self, *, local: bool = False, restore_layout: bool = True) -> None:
        """Pick the connection: --local, then the environment, then the last one used."""
        self.window.set_theme_mode(self.theme.mode, self.theme.apply())
        restored = False
        if restore_layout:
            restored = self.window.restore_layout()
        else:
            self.window.remember_layout = False
        if restore_layout and not restored:
            self.window.fit_to_screen()
        env = self.manager.environment()
        last = self.settings.get("last_connection")
        if local:
            self.open_local()
        elif env is not None:
            record, key = env
            self.connect_to(ConnectionInfo(record.name, record.base_url, False, record.id), key)
        elif last == LOCAL_ID:
            self.open_local()
        elif isinstance(last, str) and self.manager.get(last) is not None:
            self.open_saved(last)
        else:
            self.window.show_first_run()

    @Slot(str)
    def set_theme(self, mode: str) -> None:
        self.settings.set("theme", mode)
        self.theme.set_mode(mode)

    # -- connections ---------------------------------------------------------------

    def connect_to(self, info: ConnectionInfo, api_key: str) -> AppContext:
        """Replace the current connection with ``info`` (a new ApiWorker)."""
        redact_secret(api_key)
        self._close_context()
        worker = ApiWorker(info.base_url, api_key, parent=None)
        self.activity.track_worker(worker)
        self.context = AppContext(worker=worker, connection=info, settings=self.settings,
                                  paths=self.paths, thread_pool=self.thread_pool,
                                  activity=self.activity)
        self.context.monitor = JobMonitor(worker, parent=self)
        self.context.uploads = self._start_uploads(self.context)
        self.settings.set("last_connection", info.id or None)
        log.info("Connected to %s (%s)", info.name, info.base_url)
        self.window.set_context(self.context)
        self._build_editor(self.context)
        self.connected.emit(self.context)
        return self.context

    def _build_editor(self, context: AppContext) -> None:
        """A fresh editor per connection; a failing plug-in leaves the placeholder."""
        self._drop_editor()
        if self.editor_factory is None:
            return
        try:
            self.editor = self.editor_factory(context)
        except Exception:
            log.exception("The audio editor could not be created; continuing without it")
            return
        self.window.set_editor(self.editor)
        self.labelling.set_audio_editor(self.editor)
        changing = getattr(self.editor, "audio_changing", None)
        if changing is not None:  # files the review and evaluate docks open, too
            changing.connect(self.labelling.follow_editor)
        self.loop.set_editor(self.editor)

    def _drop_editor(self) -> None:
        editor, self.editor = self.editor, None
        self.labelling.set_audio_editor(None)
        self.loop.set_editor(None)
        if editor is not None:
            stop = getattr(editor, "shutdown", None)
            if callable(stop):
                stop()

    @Slot(object)
    def _open_in_editor(self, audio: AudioFile) -> None:
        opener = getattr(self.editor, "open_audio", None)
        if callable(opener):
            opener(audio.dataset_id, audio)

    @Slot(object)
    def open_local_file(self, path: Path) -> None:
        """File > Open audio file…: show a file on disk in the editor (no dataset needed)."""
        opener = getattr(self.editor, "open_file", None)
        if not callable(opener):
            self.window.status.showMessage("Open a workspace first: the audio editor starts "
                                           "with a connection.", 10000)
            return
        task = opener(path)
        task.finished.connect(
            lambda opened: self.labelling.show_local_file(path, opened.info.duration_ms))

    def _start_uploads(self, context: AppContext) -> UploadManager | None:
        """The connection's upload queue (its unfinished files resume); None if it cannot start."""
        try:
            return UploadManager(context, parent=self, monitor=context.monitor)
        except Exception:  # the queue must not stop the connection (its store may be unreadable)
            log.exception("The upload queue could not be started")
            return None

    def _close_context(self) -> None:
        if self.context is not None:
            old, self.context = self.context, None
            self.window.set_context(None)
            if old.monitor is not None:
                old.monitor.stop()
                old.monitor.deleteLater()
            if old.uploads is not None:
                old.uploads.shutdown(SHUTDOWN_WAIT_MS)
                old.uploads.deleteLater()
            old.worker.shutdown(SHUTDOWN_WAIT_MS)

    @Slot(str)
    def open_saved(self, record_id: str) -> None:
        if record_id == LOCAL_ID:
            self.open_local()
            return
        record = self.manager.get(record_id)
        if record is None:
            self._fail(f"The saved connection {record_id!r} no longer exists.")
            return
        key = self.manager.key_for(record.id)
        if not key:
            self._ask_for_key(record)
            return
        if self.local is not None:
            self.local.stop()
        self.connect_to(ConnectionInfo(record.name, record.base_url, False, record.id), key)

    def _ask_for_key(self, record: ConnectionRecord) -> None:
        dialog = self.window.show_connections()
        dialog.show_form()
        dialog.form.prefill(record)
        dialog.form.message.setText(
            f"The API key for “{record.name}” was kept for one session only; enter it again.")
        dialog.form.message.setVisible(True)

    @Slot()
    def open_local(self) -> None:
        """Start (or reuse) Relay Local and connect to it when it answers."""
        if self.local is not None and self.local.is_running and self.local.api_key:
            self._on_local_ready(self.local.base_url, self.local.api_key)
            return
        if self.local is None:
            self.local = LocalWorkspace(self.paths.local_workspace, self.credentials,
                                        seed_demo=self.workspace_seed_demo, parent=self)
            self.local.status.connect(self._on_local_status)
            self.local.ready.connect(self._on_local_ready)
            self.local.failed.connect(self._on_local_failed)
            self.local.seed_failed.connect(self._on_seed_failed)
            self.local.crashed.connect(self._on_local_crashed)
            self.local.restarted.connect(self._on_local_restarted)
        self.window.first_run.set_local_busy(True)
        self._local_activity = self.activity.begin("Starting Relay Local…")
        self.local.start()

    def _end_local_activity(self) -> None:
        if self._local_activity is not None:
            self.activity.end(self._local_activity)
            self._local_activity = None

    @Slot(str)
    def _on_local_status(self, text: str) -> None:
        self.window.first_run.set_local_status(text)
        if self._local_activity is not None:
            self.activity.update(self._local_activity, text)

    @Slot(str, str)
    def _on_local_ready(self, base_url: str, api_key: str) -> None:
        self._end_local_activity()
        self.window.first_run.set_local_busy(False)
        self.window.first_run.set_local_status("")
        self.manager.save_local(ConnectionRecord(LOCAL_ID, "Local workspace", base_url, True))
        self.connect_to(ConnectionInfo("Local workspace", base_url, True, LOCAL_ID), api_key)

    @Slot(str)
    def _on_local_failed(self, message: str) -> None:
        self._end_local_activity()
        self.window.first_run.set_local_busy(False)
        self.window.first_run.set_local_status(message)
        if self.context is not None and self.context.connection.is_local:
            self.window.status.set_state("offline", message)
        self._fail(message)

    @Slot(str)
    def _on_seed_failed(self, message: str) -> None:
        self.window.status.showMessage(f"The demo dataset could not be created: {message}",
                                       15000)

    @Slot(str)
    def _on_local_crashed(self, message: str) -> None:
        self.window.status.set_state("offline", message)
        self.window.status.showMessage(message, 15000)

    @Slot(str, str)
    def _on_local_restarted(self, base_url: str, api_key: str) -> None:
        self.window.status.showMessage("Relay Local is running again.", 8000)
        ctx = self.context
        if ctx is not None and ctx.connection.is_local and ctx.connection.base_url == base_url:
            self.window.retry_connection()
        elif ctx is not None and ctx.connection.is_local:
            self._on_local_ready(base_url, api_key)

    def _fail(self, message: str) -> None:
        log.error("%s", message)
        self.connection_failed.emit(message)
        show_error(self.window, ValueError(message), title="Could not connect")

    # -- shutdown --------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop everything with bounded waits; never hangs."""
        self.window.save_layout()
        self.window.log_view.detach()
        self.loop.shutdown()
        self._drop_editor()
        self._close_context()
        self.manager.shutdown()
        self.thread_pool.clear()
        self.thread_pool.waitForDone(SHUTDOWN_WAIT_MS)
        if self.local is not None:
            self.local.stop()
        self.theme.close()


def default_editor_factory() -> EditorFactory | None:
    """The waveform/spectrogram editor (``ui.waveform.editor.AudioEditor``) if it is installed."""
    try:
        from relay_desktop.ui.waveform.editor import AudioEditor
    except Exception:  # an optional part that is missing or broken must not stop the app
        log.exception("The audio editor is not available")
        return None
    return lambda context: AudioEditor(context)


def _app_icon() -> QIcon:
    path = resources.files("resources") / "icons" / "relay-desktop.svg"
    return QIcon(str(path))


def configure_logging() -> None:
    root = logging.getLogger()
    if not any(getattr(h, "_relay", False) for h in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._relay = True  # type: ignore[attr-defined]
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)
    root.setLevel(logging.INFO)


def _quit_on_signals(qapp: QApplication) -> None:
    """Ctrl+C / SIGTERM close the app properly, so Relay Local is stopped too."""
    def quit_app(_signum: int, _frame: object) -> None:
        qapp.quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, quit_app)
    ticker = QTimer(qapp)  # lets the interpreter run its signal handlers while Qt waits
    ticker.timeout.connect(lambda: None)
    ticker.start(250)


def run(args: argparse.Namespace) -> int:
    """Run the application (or take a screenshot); returns the exit status."""
    size = None
    if args.screenshot:
        try:
            size = parse_size(args.size)
        except ValueError as exc:
            print(f"relay-desktop: {exc}", file=sys.stderr)
            return 2
    configure_logging()
    prepare_gui_process()
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName("Relay Desktop")
    qapp.setOrganizationName("Relay")
    qapp.setApplicationVersion(__version__)
    qapp.setDesktopFileName("relay-desktop")
    app = Application(qapp, editor_factory=default_editor_factory())
    exit_code = [0]
    if args.screenshot:
        shot = Screenshot(app, Path(args.screenshot), view=getattr(args, "view", "label"))
        shot.done.connect(lambda code: (exit_code.__setitem__(0, code), qapp.quit()))
        assert size is not None
        app.window.resize(*size)
        app.window.show()
        use_local = args.local or app.manager.environment() is None
        app.start(local=use_local, restore_layout=False)
    else:
        app.window.show()
        app.start(local=args.local)
    _quit_on_signals(qapp)
    settle_after_startup()   # fewer, shorter GC pauses on the GUI thread from here on
    status = int(qapp.exec())
    app.shutdown()
    code = exit_code[0] if args.screenshot else status
    if lingering_threads():
        # a request is still reading after the bounded wait: leave without waiting for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
