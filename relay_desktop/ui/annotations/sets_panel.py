"""The annotation-sets panel: a dataset's sets, new drafts (optionally copied), open.

With a :class:`SyncService` it also shows each set's state on this computer
(N unsynced, offline, published elsewhere) from the local journal.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.annotations.sets import copy_into_new_draft
from relay_desktop.services.api_worker import ApiWorker, Priority
from relay_desktop.services.sync import SyncService, SyncState

LOCK = "\U0001f512"
COLUMNS = ("Version", "Status", "Annotations", "By type", "Published", "On this computer")
LOCAL = 5


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else ""


class SetsPanel(QWidget):
    """Lists the sets of one dataset; opens one (published ones read-only, with a lock).

    Signals:
        open_requested(object): open this ``AnnotationSet``.
        sets_loaded(object): the list arrived (a list of AnnotationSet).
        created(object): a new draft was made (the AnnotationSet).
        error(str): something failed (a sentence).
    """

    open_requested = Signal(object)
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
        self.tree = QTreeWidget()
        self.tree.setObjectName("annotationSets")
        self.tree.setHeaderLabels(list(COLUMNS))
        self.tree.setRootIsDecorated(False)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.new_button = QPushButton("New draft")
        self.copy_button = QPushButton("New draft from selected")
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
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None and item.data(0, Qt.ItemDataRole.UserRole) == set_id:
                item.setText(LOCAL, self._local_text(set_id, state))

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
            published = s.status == "published"
            by_type = ", ".join(f"{k} {v}" for k, v in sorted(s.annotations_by_type.items()))
            item = QTreeWidgetItem([f"v{s.version}",
                                    f"{LOCK} published" if published else "draft",
                                    str(s.total_annotations), by_type, _when(s.published_at),
                                    self._local_text(s.id)])
            item.setData(0, Qt.ItemDataRole.UserRole, s.id)
            item.setToolTip(1, "Published: read-only, usable for training." if published
                            else "Draft: editable, not usable for training yet.")
            self.tree.addTopLevelItem(item)
            if s.id == selected:
                item.setSelected(True)
        self.status.setText("" if self.sets else "No annotation sets yet: make a new draft.")
        self._update_buttons()
        self.sets_loaded.emit(list(self.sets))

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
        self.status.setText(f"Draft v{new_set.version} created.")
        self._want_selected = new_set.id
        self.created.emit(new_set)
        self.refresh()
