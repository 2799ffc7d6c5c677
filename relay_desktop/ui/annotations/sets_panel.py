"""The annotation-sets panel: a dataset's sets, new drafts (optionally copied), open.

With a :class:`SyncService` it also shows each set's state on this computer
(N unsynced, offline, published elsewhere) from the local journal, and reloads
the list from the server once a set's edits have synced. The open set's counts
follow its edits live (:meth:`SetsPanel.show_live_counts`), and a publish shows
at once (:meth:`SetsPanel.show_set`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.annotations.sets import copy_into_new_draft
from relay_desktop.core.text import local_minutes
from relay_desktop.services.api_worker import ApiWorker, Priority
from relay_desktop.services.sync import SyncService, SyncState

LOCK = "\U0001f512"
COLUMNS = ("Version", "Status", "Annotations", "By type", "Published", "On this computer")
STATUS, COUNT, BY_TYPE, PUBLISHED, LOCAL = 1, 2, 3, 4, 5
#: after a sync settles, the list is reloaded from the server this much later
RELOAD_AFTER_SYNC_MS = 400


def _by_type_text(by_type: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(by_type.items()) if v)


class SetsPanel(QWidget):
    """Lists the sets of one dataset; opens one (published ones read-only, with a lock).

    Signals:
        open_requested(object): open this ``AnnotationSet`` (also emitted for a new draft).
        sets_loaded(object): the list arrived (a list of AnnotationSet).
        created(object): a new draft was made (the AnnotationSet).
        error(str): something failed (a sentence).
        train_requested(object): "Train model…" on a published ``AnnotationSet``.
    """

    open_requested = Signal(object)
    train_requested = Signal(object)
    sets_loaded = Signal(object)
    created = Signal(object)
    error = Signal(str)

    def __init__(self, worker: ApiWorker, sync: SyncService | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.sync = sync
        self.dataset_id: str | None = None
        self.sets: list[Any] = []
        self._want_selected: str | None = None
        self._live: dict[str, tuple[int, dict[str, int]]] = {}
        self._reload_timer = QTimer(self)
        self._reload_timer.setSingleShot(True)
        self._reload_timer.setInterval(RELOAD_AFTER_SYNC_MS)
        self._reload_timer.timeout.connect(self.refresh)
        self.tree = QTreeWidget()
        self.tree.setObjectName("annotationSets")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.new_button = QPushButton("New draft")
        self.copy_button = QPushButton("Copy to new draft")
        self.copy_button.setToolTip("A new draft holding the selected set's annotations")
        self.open_button = QPushButton("Open")
        self.status = QLabel()
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.copy_button, self.open_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.new_button.clicked.connect(lambda: self.create_draft(None))
        self.copy_button.clicked.connect(lambda: self.create_draft(self.selected_set_id()))
        self.open_button.clicked.connect(self._open_selected)
        self.tree.itemDoubleClicked.connect(lambda *_: self._open_selected())
        self.tree.itemSelectionChanged.connect(self._update_buttons)
        self.train_action = QAction("Train model…", self)
        self.train_action.setObjectName("trainModelAction")
        self.train_action.setToolTip("Train a detector on the selected published set")
        self.train_action.triggered.connect(self._train_selected)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self._update_buttons()
        if sync is not None:
            sync.state_changed.connect(self._sync_state_changed)

    def _local_text(self, set_id: str, state: SyncState | None = None) -> str:
        """The set's save state on this computer ("" when nothing is pending)."""
        if self.sync is None:
            return ""
        if state is None:
            state = self.sync.state(set_id)
            if state.kind == "saved":
                pending = self.sync.journal.pending_count(set_id)
                if pending:
                    state = SyncState("unsynced", pending)
        return "" if state.kind in ("saved", "read_only") else state.label()

    def _sync_state_changed(self, set_id: str, state: SyncState) -> None:
        item = self._item(set_id)
        if item is not None:
            item.setText(LOCAL, self._local_text(set_id, state))
            if state.kind == "saved":  # the server now has the edits: show its counts
                self._reload_timer.start()

    def detach(self) -> None:
        """Stop following the sync service (before it and its journal close)."""
        self._reload_timer.stop()
        if self.sync is not None:
            with contextlib.suppress(RuntimeError, TypeError):
                self.sync.state_changed.disconnect(self._sync_state_changed)
            self.sync = None

    def _item(self, set_id: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == set_id:
                return item
        return None

    def show_live_counts(self, set_id: str, total: int, by_type: Mapping[str, int]) -> None:
        """The open set's counts as edited here, shown before (and until) the server has them."""
        self._live[set_id] = (total, dict(by_type))
        item = self._item(set_id)
        if item is not None:
            item.setText(COUNT, str(total))
            item.setText(BY_TYPE, _by_type_text(by_type))

    def forget_live_counts(self, set_id: str | None = None) -> None:
        """Stop overriding the server's counts (for one set, or all)."""
        if set_id is None:
            self._live.clear()
        else:
            self._live.pop(set_id, None)

    def show_set(self, annotation_set: Any) -> None:
        """Show a set the server just returned (e.g. published) without waiting for a reload."""
        self.sets = [annotation_set if s.id == annotation_set.id else s for s in self.sets]
        if annotation_set.status == "published":
            self._live.pop(annotation_set.id, None)
        item = self._item(annotation_set.id)
        if item is not None:
            self._set_texts(item, annotation_set)
        self.refresh()

    def set_dataset(self, dataset_id: str | None) -> None:
        self.dataset_id = dataset_id
        self.tree.clear()
        self.sets = []
        if dataset_id:
            self.refresh()
        self._update_buttons()

    def refresh(self) -> None:
        ds = self.dataset_id
        if not ds:
            return
        if not self.sets:  # a reload after a sync keeps the list (and its text) in place
            self.status.setText("Loading annotation sets…")
        handle = self.worker.submit(
            lambda client, cancel, progress: list(client.annotation_sets.iter_items(
                ds, cancel=cancel)), priority=Priority.USER, description="Listing annotation sets")
        handle.succeeded.connect(lambda sets, d=ds: self._fill(d, sets))
        handle.failed.connect(lambda exc: self._fail(f"The annotation sets could not be "
                                                     f"loaded: {exc}"))

    def _fill(self, dataset_id: str, sets: list[Any]) -> None:
        if dataset_id != self.dataset_id:
            return
        self.sets = sorted(sets, key=lambda s: s.version, reverse=True)
        selected = self._want_selected or self.selected_set_id()
        self._want_selected = None
        self.tree.clear()
        for s in self.sets:
            item = QTreeWidgetItem([f"v{s.version}"] + [""] * (len(COLUMNS) - 1))
            item.setData(0, Qt.ItemDataRole.UserRole, s.id)
            self._set_texts(item, s)
            self.tree.addTopLevelItem(item)
            if s.id == selected:
                item.setSelected(True)
        self.status.setText("" if self.sets else "No annotation sets yet: make a new draft.")
        self._update_buttons()
        self.sets_loaded.emit(list(self.sets))

    def _set_texts(self, item: QTreeWidgetItem, s: Any) -> None:
        published = s.status == "published"
        if s.id in self._live and not published:
            total, by_type = self._live[s.id]
            s = replace(s, total_annotations=total, annotations_by_type=by_type)
        item.setText(STATUS, f"{LOCK} published" if published else "draft")
        item.setText(COUNT, str(s.total_annotations))
        item.setText(BY_TYPE, _by_type_text(s.annotations_by_type))
        item.setText(PUBLISHED, local_minutes(s.published_at))
        item.setText(LOCAL, self._local_text(s.id))
        item.setToolTip(STATUS, "Published: read-only, usable for training." if published
                        else "Draft: editable, not usable for training yet.")

    def _fail(self, message: str) -> None:
        self.status.setText(message)
        self.error.emit(message)

    def selected_set_id(self) -> str | None:
        items = self.tree.selectedItems()
        return str(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def select_set(self, set_id: str) -> None:
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                item.setSelected(item.data(0, Qt.ItemDataRole.UserRole) == set_id)

    def _update_buttons(self) -> None:
        has_ds = bool(self.dataset_id)
        selected = self.selected_set_id() is not None
        self.new_button.setEnabled(has_ds)
        self.copy_button.setEnabled(has_ds and selected)
        self.open_button.setEnabled(selected)
        chosen = self.selected_set() if selected else None
        self.train_action.setEnabled(chosen is not None and chosen.status == "published")

    def selected_set(self) -> Any:
        """The selected AnnotationSet, or None."""
        set_id = self.selected_set_id()
        return next((s for s in self.sets if s.id == set_id), None)

    def context_menu(self) -> QMenu:
        """The set list's context menu (Open, Train model…), for the selected set."""
        menu = QMenu(self)
        menu.addAction("Open", self._open_selected).setEnabled(self.open_button.isEnabled())
        menu.addSeparator()
        menu.addAction(self.train_action)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu()
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def _train_selected(self) -> None:
        chosen = self.selected_set()
        if chosen is not None and chosen.status == "published":
            self.train_requested.emit(chosen)

    def _open_selected(self) -> None:
        set_id = self.selected_set_id()
        for s in self.sets:
            if s.id == set_id:
                self.open_requested.emit(s)
                return

    def create_draft(self, copy_from: str | None) -> None:
        """A new draft, optionally with the annotations of ``copy_from`` (create + bulk create)."""
        ds = self.dataset_id
        if not ds:
            return
        self.status.setText("Creating a draft…" if not copy_from else
                            "Creating a draft and copying the annotations…")
        handle = self.worker.submit(
            lambda client, cancel, progress: copy_into_new_draft(client, ds, copy_from, cancel),
            priority=Priority.USER, description="Creating a draft")
        handle.succeeded.connect(self._created)
        handle.failed.connect(lambda exc: self._fail(f"The draft could not be created: {exc}"))

    def _created(self, new_set: Any) -> None:
        """A new draft: select it, list it and open it, ready to label."""
        self.status.setText(f"Draft v{new_set.version} created and opened.")
        self._want_selected = new_set.id
        self.created.emit(new_set)
        self.refresh()
        self.open_requested.emit(new_set)
