"""The main window: docks around the editor area, menus, shortcuts and the status bar.

Plug-in points for the other panels:

* ``set_editor(widget)`` puts a widget in the central area.
* ``add_panel(widget, title, area, object_name)`` adds a dock, lists it in the
  View menu and hands it the AppContext: a panel with a ``set_context(ctx)``
  method is called with the context on every (re)connection, and with None
  when the window disconnects.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QFrame,
    QLabel,
    QMainWindow,
    QMenu,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api.models import AudioFile, Dataset
from relay_desktop.core.connections import LOCAL_ID
from relay_desktop.core.settings import Settings
from relay_desktop.core.uploads.state import UploadTarget
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.services.context import AppContext
from relay_desktop.ui.audio_list import AudioListView
from relay_desktop.ui.connection import ConnectionsDialog, FirstRunScreen
from relay_desktop.ui.connection_lost import ConnectionLostAlert
from relay_desktop.ui.datasets import DatasetBrowser
from relay_desktop.ui.edit_menu import EditMenu
from relay_desktop.ui.local_file import ask_for_audio_file
from relay_desktop.ui.log_view import LogView
from relay_desktop.ui.playback_menu import PlaybackMenu
from relay_desktop.ui.preferences import PreferencesDialog
from relay_desktop.ui.shortcuts import ShortcutRegistry, ShortcutsDialog
from relay_desktop.ui.theme import icon
from relay_desktop.ui.uploads import UploadActions, UploadQueuePanel

log = logging.getLogger(__name__)

LAYOUT_VERSION = 3  # 3: the model-loop docks (jobs, models, inference, review, evaluate)
#: first run: the window's share of the screen, the bottom docks' share of its height,
#: and the side panels' share of its width (within SIDE_MIN..SIDE_MAX pixels)
SCREEN_SHARE = 0.85
BOTTOM_SHARE = 0.3
SIDE_SHARE = 0.3
SIDE_MIN, SIDE_MAX = 350, 560

AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}


class EditorPlaceholder(QFrame):
    """What the central area shows until an editor is plugged in or a file is opened."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editorPlaceholder")
        picture = QLabel(self)
        picture.setPixmap(icon("waveform").pixmap(QSize(72, 72)))
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel("No audio file open", self)
        self.title.setObjectName("panelTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label = QLabel("Pick a file in the list below and press Enter (or double-click) "
                            "to open it here.", self)
        self.label.setObjectName("emptyState")
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(picture)
        layout.addWidget(self.title)
        layout.addWidget(self.label)
        layout.addStretch(1)

    @Slot(object)
    def show_file(self, audio: AudioFile) -> None:
        self.title.setText(audio.filename)
        self.label.setText("No editor is installed in this build.")


class MainWindow(QMainWindow):
    """Top-level window of Relay Desktop.

    Signals:
        local_requested(): the user asked for the local workspace.
        connection_requested(str): the user asked to open a saved connection (its id).
        theme_requested(str): "system", "light" or "dark" from the View menu.
        context_changed(object): the AppContext now in use (None when disconnected).
        dataset_selected(object): the Dataset selected in the browser (or None).
        audio_file_activated(object): the AudioFile the user opened.
        local_file_requested(object): File > Open audio file… chose this Path.
    """

    local_requested = Signal()
    connection_requested = Signal(str)
    theme_requested = Signal(str)
    context_changed = Signal(object)
    dataset_selected = Signal(object)
    audio_file_activated = Signal(object)
    local_file_requested = Signal(object)

    def __init__(self, manager: ConnectionManager, layout_file: Path | None = None,
                 theme_mode: str = "system") -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.manager = manager
        self.context: AppContext | None = None
        self.settings: Settings | None = None  # the user's preferences (set by the app)
        self.shortcuts = ShortcutRegistry()
        self.keymap = self.shortcuts.keymap  # what the editor's key handlers look keys up in
        self._layout_file = layout_file
        self._panels: list[QDockWidget] = []
        self.connection_alert = ConnectionLostAlert(self, self._server_unreachable,
                                                    self.retry_connection)
        self._activity: object = None
        self._layout_restored = False
        self.remember_layout = True
        self._shown_once = False
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks)
        self.setDockNestingEnabled(True)

        from relay_desktop.ui.status_bar import StatusBar

        self.status = StatusBar(self)
        self.setStatusBar(self.status)
        self.status.retry_requested.connect(self.retry_connection)

        self.first_run = FirstRunScreen(manager, self)
        self.first_run.local_requested.connect(self.local_requested)
        self.first_run.server_connected.connect(lambda r: self.connection_requested.emit(r.id))
        self.editor_host = QStackedWidget(self)
        self.editor_placeholder = EditorPlaceholder(self)
        self.editor_host.addWidget(self.editor_placeholder)
        self.editor: QWidget = self.editor_placeholder
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.first_run)
        self.pages.addWidget(self.editor_host)
        # a plugged-in editor with a wide minimum must not force the window (or the
        # screenshot) wider than asked: the central area may clip it instead
        self.pages.setMinimumSize(QSize(360, 240))
        self.setCentralWidget(self.pages)

        self.datasets = DatasetBrowser(self)
        self.audio_list = AudioListView(self)
        self.log_view = LogView(self)
        self.log_view.attach()
        self.datasets.dataset_selected.connect(self._on_dataset_selected)
        self.datasets.datasets_loaded.connect(lambda _d: self.status.set_state("online"))
        self.datasets.load_failed.connect(self._on_load_failed)
        self.audio_list.audio_file_activated.connect(self._on_audio_activated)

        self.view_menu = QMenu("&View", self)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        # side panels (the Labels dock) run the full height; the bottom docks sit under
        # the editor only, so the waveform keeps most of the height
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self._home_areas: dict[QDockWidget, Qt.DockWidgetArea] = {}
        self._connected_only: list[QDockWidget] = []
        self._tabs: list[tuple[QDockWidget, QDockWidget]] = []  # (anchor, tab) for add_panel
        self.dataset_dock = self._dock(self.datasets, "Datasets", "datasetsDock", "left")
        self.audio_dock = self._dock(self.audio_list, "Audio files", "audioDock", "bottom")
        self.log_dock = self._dock(self.log_view, "Log", "logDock", "bottom")
        self.tabifyDockWidget(self.audio_dock, self.log_dock)
        self.uploads = UploadQueuePanel(self)
        self.uploads_dock = self._dock(self.uploads, "Uploads", "uploadsDock", "bottom")
        self.tabifyDockWidget(self.audio_dock, self.uploads_dock)
        self.audio_dock.raise_()
        self.log_dock.setVisible(False)
        self.uploads_dock.setVisible(False)
        self.upload_actions = UploadActions(self)
        self._connect_uploads()
        self._build_menus(theme_mode)
        self.resize(1400, 860)
        self._default_sizes()
        self._update_title()
        self._show_connected(False)

    # -- plug-in points ----------------------------------------------------------

    def set_editor(self, widget: QWidget) -> None:
        """Use ``widget`` as the central editor (replacing the placeholder)."""
        if self.editor is not self.editor_placeholder:
            self.editor_host.removeWidget(self.editor)
        self.editor = widget
        self.editor_host.addWidget(widget)
        self.editor_host.setCurrentWidget(widget)
        self.edit_menu.add_scope(widget)
        self.playback_menu.set_editor(widget)
        error = getattr(widget, "error", None)  # e.g. "No audio output device: …" on Play
        if error is not None:
            error.connect(lambda text: self.status.showMessage(text, 10000))
        self.open_file_action.setEnabled(callable(getattr(widget, "open_file", None)))
        setter = getattr(widget, "set_context", None)
        if callable(setter):
            setter(self.context)

    def add_panel(self, widget: QWidget, title: str, area: str | Qt.DockWidgetArea = "right",
                  object_name: str = "", *, tab_with: QDockWidget | None = None) -> QDockWidget:
        """Add ``widget`` as a dock (its visibility toggle goes in the View menu); with
        ``tab_with`` it is a tab beside that dock (and goes back there on Reset layout)."""
        name = object_name or f"{type(widget).__name__}Dock"
        dock = self._dock(widget, title, name, area)
        if tab_with is not None:
            self._tabs.append((tab_with, dock))
            self.tabifyDockWidget(tab_with, dock)
        self._connected_only.append(dock)  # nothing to show on the welcome page
        dock.setVisible(self.context is not None)
        setter = getattr(widget, "set_context", None)
        if callable(setter):
            setter(self.context)
        return dock

    def _dock(self, widget: QWidget, title: str, name: str,
              area: str | Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        home = AREAS[area] if isinstance(area, str) else area
        self.addDockWidget(home, dock)
        self._home_areas[dock] = home
        toggle = dock.toggleViewAction()
        separator = getattr(self, "_panels_end", None)
        if separator is None:
            self.view_menu.addAction(toggle)
        else:
            self.view_menu.insertAction(separator, toggle)
        index = len(self._panels) + 1
        if index <= 9:
            self.shortcuts.register("View", toggle, f"Ctrl+{index}")
        self._panels.append(dock)
        return dock

    def panels(self) -> list[QDockWidget]:
        return list(self._panels)

    # -- menus and shortcuts -------------------------------------------------------

    def _action(self, group: str, text: str, shortcut: Any, slot: Any) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(slot)
        self.shortcuts.register(group, action, shortcut)
        self.addAction(action)
        return action

    def _build_menus(self, theme_mode: str) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.connections_action = self._action("File", "&Connections…", "Ctrl+K",
                                               self.show_connections)
        self.local_action = self._action("File", "Open &local workspace", "Ctrl+Shift+L",
                                         self.local_requested.emit)
        self.switch_menu = QMenu("&Switch connection", self)
        self.switch_menu.aboutToShow.connect(self._fill_switch_menu)
        self.quit_action = self._action("File", "&Quit", "Ctrl+Q",
                                        self.close)
        self.shortcuts.register("File", self.upload_actions.add_files_action, "Ctrl+O")
        self.shortcuts.register("File", self.upload_actions.add_folder_action, "Ctrl+Shift+O")
        self.preferences_action = self._action("File", "&Preferences…", "Ctrl+,",
                                               self.show_preferences)
        self.open_file_action = self._action("File", "&Open audio file…", "Ctrl+Alt+O",
                                             self.open_audio_file)
        self.open_file_action.setEnabled(False)
        self.open_file_action.setToolTip("Look at, play and label a file on this computer "
                                         "without adding it to a dataset")
        self.edit_menu = EditMenu(self, self.shortcuts)
        self.edit_menu.message.connect(lambda text: self.status.showMessage(text, 8000))
        bar.addMenu(self.edit_menu.menu)
        file_menu.setToolTipsVisible(True)  # why "Add audio files…" is disabled
        file_menu.addAction(self.connections_action)
        file_menu.addMenu(self.switch_menu)
        file_menu.addAction(self.local_action)
        file_menu.addSeparator()
        file_menu.addAction(self.open_file_action)
        file_menu.addSeparator()
        file_menu.addAction(self.upload_actions.add_files_action)
        file_menu.addAction(self.upload_actions.add_folder_action)
        file_menu.addSeparator()
        file_menu.addAction(self.preferences_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        ds_menu = bar.addMenu("&Datasets")
        for action, keys in ((self.datasets.new_action, "Ctrl+N"),
                             (self.datasets.edit_action, "F2"),
                             (self.datasets.delete_action, "Ctrl+Shift+Delete"),
                             (self.datasets.refresh_action, "F5")):
            self.shortcuts.register("Datasets", action, keys)
            ds_menu.addAction(action)
            self.addAction(action)
        self.find_action = self._action("Datasets", "&Find dataset", "Ctrl+F",
                                        self._focus_search)
        ds_menu.addAction(self.find_action)

        audio_menu = bar.addMenu("&Audio")
        for action, keys in ((self.audio_list.refresh_action, "Ctrl+R"),
                             (self.audio_list.filter_action, "Ctrl+Shift+F")):
            self.shortcuts.register("Audio", action, keys)
            audio_menu.addAction(action)
            self.addAction(action)
        self.focus_audio_action = self._action("Audio", "Go to the &file list", "Ctrl+L",
                                               self.audio_list.table.setFocus)
        self.shortcuts.register("Audio", self.audio_list.delete_action, "Del",
                                command_id="audio.delete_files", scope="audio list",
                                text="Delete the selected files… (in the file list)")
        audio_menu.addAction(self.focus_audio_action)

        self.playback_menu = PlaybackMenu(self.shortcuts, self)
        bar.addMenu(self.playback_menu)
        bar.addMenu(self.view_menu)
        self._panels_end = self.view_menu.addSeparator()
        theme_menu = self.view_menu.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode, text in (("system", "Follow the &system"), ("light", "&Light"),
                           ("dark", "&Dark")):
            action = QAction(text, self, checkable=True)
            action.setChecked(mode == theme_mode)
            action.triggered.connect(lambda _c=False, m=mode: self.theme_requested.emit(m))
            self.theme_group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        self.cycle_theme_action = self._action("View", "Switch &theme", "Ctrl+Shift+T",
                                               self._cycle_theme)
        self.view_menu.addAction(self.cycle_theme_action)
        self.reset_layout_action = self._action("View", "&Reset layout", "Ctrl+Shift+0",
                                                self.reset_layout)
        self.view_menu.addAction(self.reset_layout_action)

        help_menu = bar.addMenu("&Help")
        self.shortcuts_action = self._action("Help", "&Keyboard shortcuts", "F1",
                                             self.show_shortcuts)
        self.about_action = self._action("Help", "&About Relay Desktop", "Shift+F1",
                                         self.show_about)
        self.report_action = QAction("&Report a problem…", self)
        self.report_action.triggered.connect(self.show_report)
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.report_action)
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    def _fill_switch_menu(self) -> None:
        self.switch_menu.clear()
        current = self.context.connection.id if self.context else ""
        entries = [(LOCAL_ID, "Local workspace")]
        entries += [(r.id, f"{r.name} ({r.base_url})") for r in self.manager.records()
                    if not r.is_local]
        for record_id, text in entries:
            action = self.switch_menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(record_id == current)
            action.triggered.connect(lambda _c=False, i=record_id: self.connection_requested.emit(i)
                                     if i != LOCAL_ID else self.local_requested.emit())

    def _cycle_theme(self) -> None:
        modes = list(self.theme_actions)
        current = next((m for m, a in self.theme_actions.items() if a.isChecked()), "system")
        mode = modes[(modes.index(current) + 1) % len(modes)]
        self.theme_actions[mode].setChecked(True)
        self.theme_requested.emit(mode)

    def _focus_search(self) -> None:
        self.dataset_dock.show()
        self.datasets.search.setFocus()
        self.datasets.search.selectAll()

    @Slot()
    def show_shortcuts(self) -> ShortcutsDialog:
        dialog = ShortcutsDialog(self.shortcuts, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        return dialog

    @Slot()
    def open_audio_file(self) -> Path | None:
        """File > Open audio file…: ask for a file on disk and open it in the editor."""
        path = ask_for_audio_file(self)
        if path is not None:
            self.local_file_requested.emit(path)
        return path

    @Slot()
    def show_about(self) -> QWidget:
        """Help > About: versions of the app, Qt, PySide6, pyqtgraph, libsndfile, the server."""
        from relay_desktop.ui.about import AboutDialog

        dialog = AboutDialog(self.context, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        return dialog

    @Slot()
    def show_report(self) -> QWidget:
        """Help > Report a problem: a copyable, redacted report and the log folder."""
        from relay_desktop.ui.about import ReportDialog

        dialog = ReportDialog(self.context, self.log_view.contents(), parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.open()
        return dialog

    @Slot()
    def show_connections(self) -> ConnectionsDialog:
        current = self.context.connection.id if self.context else ""
        dialog = ConnectionsDialog(self.manager, current, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.switch_requested.connect(
            lambda i: self.local_requested.emit() if i == LOCAL_ID
            else self.connection_requested.emit(i))
        dialog.open()
        return dialog

    def set_theme_mode(self, mode: str, effective: str) -> None:
        if mode in self.theme_actions:
            self.theme_actions[mode].setChecked(True)
        self.audio_list.model.theme = effective
        self.audio_list.table.viewport().update()
        self.uploads.set_theme(effective)

    # -- uploads -------------------------------------------------------------------------

    def _connect_uploads(self) -> None:
        for drop in (self.datasets.drop_target, self.audio_list.drop_target):
            drop.hint_changed.connect(lambda text: self.status.showMessage(text, 4000))
            drop.refused.connect(lambda text: self.status.showMessage(text, 8000))
        self.datasets.files_dropped.connect(self.upload_files)
        self.audio_list.files_dropped.connect(self.upload_files)
        self.upload_actions.upload_requested.connect(self.upload_files)
        self.audio_list.reupload_requested.connect(self._reupload)
        self.audio_list.files_deleted.connect(lambda ds, _ids: self.datasets.refresh_counts(ds))
        self.uploads.files_added.connect(self.show_uploads)
        self.uploads.totals_changed.connect(self.status.set_upload_totals)
        self.uploads.dataset_changed.connect(self.audio_list.on_dataset_changed)
        self.uploads.dataset_changed.connect(self.datasets.refresh_counts)
        self.uploads.file_processed.connect(self.audio_list.on_file_processed)
        self.status.uploads_requested.connect(self.show_uploads)

    @Slot(object, object)
    def upload_files(self, paths: list[Path], target: UploadTarget) -> bool:
        """Queue ``paths`` (files or folders) for upload to ``target`` (an UploadTarget)."""
        manager = self.context.uploads if self.context is not None else None
        if manager is None:
            self.status.showMessage("Connect to a server before uploading files.", 8000)
            return False
        manager.add_paths(paths, target)
        self.show_uploads()
        return True

    @Slot(str, str, object)
    def _reupload(self, dataset_id: str, audio_id: str, path: Path) -> None:
        manager = self.context.uploads if self.context is not None else None
        if manager is not None:
            manager.reupload(dataset_id, audio_id, path)
            self.show_uploads()

    @Slot()
    def show_uploads(self) -> None:
        self.uploads_dock.show()
        self.uploads_dock.raise_()

    @Slot()
    def show_preferences(self) -> PreferencesDialog | None:
        settings = self.context.settings if self.context is not None else self.settings
        if settings is None:
            return None
        dialog = PreferencesDialog(settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        dialog.lanes_changed.connect(self._set_lanes)
        dialog.open()
        return dialog

    @Slot(int)
    def _set_lanes(self, lanes: int) -> None:
        manager = self.context.uploads if self.context is not None else None
        if manager is not None:
            manager.set_lanes(lanes)

    # -- connection ---------------------------------------------------------------------

    def set_context(self, context: AppContext | None) -> None:
        """Connect every panel to ``context`` (None: back to the first-run screen)."""
        self.context = context
        worker = context.worker if context else None
        if context is not None:
            if self._activity is not context.activity:
                self._activity = context.activity
                context.activity.changed.connect(self.status.set_activity)
            worker_ = context.worker
            worker_.server_unreachable.connect(self._on_unreachable)
            worker_.server_reachable.connect(self._on_reachable)
            self.status.set_server(context.connection.name)
            self.status.set_state("connecting")
        else:
            self.status.set_server("")
            self.status.set_state("disconnected")
            self.status.set_activity("")
        self.datasets.set_worker(worker)
        self.audio_list.set_worker(worker)
        for dock in self._panels:
            setter = getattr(dock.widget(), "set_context", None)
            if callable(setter):
                setter(context)
        setter = getattr(self.editor, "set_context", None)
        if callable(setter) and self.editor is not self.editor_placeholder:
            setter(context)
        self._update_title()
        self._show_connected(context is not None)
        self.context_changed.emit(context)

    def show_first_run(self) -> None:
        self.set_context(None)

    def _show_connected(self, connected: bool) -> None:
        self.pages.setCurrentWidget(self.editor_host if connected else self.first_run)
        for dock in (self.dataset_dock, self.audio_dock, *self._connected_only):
            dock.setVisible(connected)

    def _update_title(self) -> None:
        where = f" — {self.context.connection.name}" if self.context else ""
        self.setWindowTitle(f"Relay Desktop{where}")

    @Slot(object)
    def _on_unreachable(self, exc: BaseException) -> None:
        self.status.set_state("offline", str(exc))
        self.connection_alert.unreachable(exc)

    @Slot()
    def _on_reachable(self) -> None:
        self.status.set_state("online")
        self.connection_alert.reachable()

    def _server_unreachable(self) -> bool:
        return self.context is not None and not self.context.worker.reachable

    @Slot(object)
    def _on_load_failed(self, exc: BaseException) -> None:
        from relay_desktop.ui.errors import is_connection_problem

        if is_connection_problem(exc):
            self.status.set_state("offline", str(exc))
        else:
            self.status.set_state("online")

    @Slot()
    def retry_connection(self) -> None:
        """Try again after a lost connection: reload the datasets and the file list."""
        if self.context is None:
            return
        self.status.set_state("connecting")
        self.datasets.refresh()
        if self.audio_list.dataset is not None:
            self.audio_list.refresh()

    @Slot(object)
    def _on_dataset_selected(self, dataset: Dataset | None) -> None:
        self.audio_list.set_dataset(dataset)
        self.upload_actions.set_dataset(dataset)
        self.dataset_selected.emit(dataset)

    @Slot(object)
    def _on_audio_activated(self, audio: AudioFile) -> None:
        if self.editor is self.editor_placeholder:
            self.editor_placeholder.show_file(audio)
        self.audio_file_activated.emit(audio)

    # -- layout persistence -------------------------------------------------------------

    def _settings(self) -> QSettings | None:
        if self._layout_file is None:
            return None
        return QSettings(str(self._layout_file), QSettings.Format.IniFormat)

    def save_layout(self) -> None:
        settings = self._settings()
        if settings is None or not self.remember_layout:
            return
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        settings.sync()

    def restore_layout(self) -> bool:
        """Restore geometry and dock layout saved by ``save_layout`` (call after add_panel)."""
        settings = self._settings()
        if settings is None:
            return False
        geometry, state = settings.value("window/geometry"), settings.value("window/state")
        restored = False
        if isinstance(geometry, QByteArray | bytes):
            restored = self.restoreGeometry(QByteArray(geometry))
        if isinstance(state, QByteArray | bytes):
            restored = self.restoreState(QByteArray(state), LAYOUT_VERSION) and restored
        self._layout_restored = restored
        return restored

    def fit_to_screen(self, share: float = SCREEN_SHARE) -> None:
        """Open at ``share`` of the screen's available area, centred (first run)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        size = QSize(int(area.width() * share), int(area.height() * share))
        self.resize(size)
        self.move(area.x() + (area.width() - size.width()) // 2,
                  area.y() + (area.height() - size.height()) // 2)

    def _side_width(self) -> int:
        """The default width of a side panel (the Labels dock) for the window's width."""
        return max(SIDE_MIN, min(SIDE_MAX, int(self.width() * SIDE_SHARE)))

    def _default_sizes(self) -> None:
        """The first-run arrangement: datasets left, Labels right, a short audio list below."""
        self.resizeDocks([self.dataset_dock], [min(270, max(200, self.width() // 6))],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.audio_dock], [max(170, int(self.height() * BOTTOM_SHARE))],
                         Qt.Orientation.Vertical)
        side = [d for d in self._panels if d not in (self.dataset_dock,) and not d.isFloating()
                and self.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea]
        if side:
            self.resizeDocks(side, [self._side_width()] * len(side), Qt.Orientation.Horizontal)

    def _widen_side_panels(self) -> None:
        """After the window grew, side panels squeezed by an earlier shrink get their room back."""
        want = self._side_width()
        narrow = [d for d in self._panels if d.isVisible() and not d.isFloating()
                  and self.dockWidgetArea(d) == Qt.DockWidgetArea.RightDockWidgetArea
                  and d.width() < want]
        if narrow:
            self.resizeDocks(narrow, [want] * len(narrow), Qt.Orientation.Horizontal)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if not self._layout_restored and not self.isVisible():
            self._default_sizes()
        elif self.isVisible() and event.size().width() > event.oldSize().width() > 0:
            QTimer.singleShot(0, self._widen_side_panels)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._layout_restored and not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self._default_sizes)

    @Slot()
    def reset_layout(self) -> None:
        """The first-run arrangement: every dock back in its home area, at its default size."""
        for dock in self._panels:
            dock.setFloating(False)
            self.addDockWidget(self._home_areas.get(dock, Qt.DockWidgetArea.RightDockWidgetArea),
                               dock)
        self.tabifyDockWidget(self.audio_dock, self.log_dock)
        self.tabifyDockWidget(self.audio_dock, self.uploads_dock)
        for anchor, dock in self._tabs:
            self.tabifyDockWidget(anchor, dock)
        connected = self.context is not None
        for dock in (self.dataset_dock, self.audio_dock, *self._connected_only):
            dock.setVisible(connected)
        self.log_dock.hide()
        self.uploads_dock.hide()
        self.audio_dock.raise_()
        for anchor in dict.fromkeys(a for a, _d in self._tabs):
            anchor.raise_()
        QTimer.singleShot(0, self._default_sizes)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        self.log_view.detach()
        super().closeEvent(event)
