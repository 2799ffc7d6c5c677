"""File > Connections: the saved connections, switching between them, adding and removing."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.core.connections import LOCAL_ID, ConnectionRecord
from relay_desktop.services.connections import ConnectionManager
from relay_desktop.ui.connection.server_form import ServerForm
from relay_desktop.ui.fit import grow_to_fit

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class ConnectionsDialog(QDialog):
    """Lists the local workspace and every saved server; opened with ``open()``.

    Signals:
        switch_requested(str): open the connection with this id (LOCAL_ID for the local one).
    """

    switch_requested = Signal(str)

    def __init__(self, manager: ConnectionManager, current_id: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionsDialog")
        self.setWindowTitle("Connections")
        self.manager = manager
        self.current_id = current_id
        self.list = QListWidget(self)
        self.list.setObjectName("connectionList")
        # the list keeps room for a few connections however long the form's messages grow
        self.list.setMinimumHeight(5 * self.list.fontMetrics().height() + 24)
        self.list.itemDoubleClicked.connect(lambda _i: self.switch_to_selected())
        self.open_button = QPushButton("Open", self)
        self.open_button.setObjectName("primary")
        self.open_button.clicked.connect(self.switch_to_selected)
        self.remove_button = QPushButton("Remove", self)
        self.remove_button.clicked.connect(self.remove_selected)
        self.add_button = QPushButton("Add server…", self)
        self.add_button.clicked.connect(self.show_form)
        self.form = ServerForm(manager, self)
        self.form.setVisible(False)
        self.form.connected.connect(self._on_added)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Saved connections", self))
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        layout.addWidget(self.form)
        layout.addWidget(buttons)
        self.resize(480, 420)
        # the dialog grows with the form's messages rather than squeezing the list
        manager.verification_failed.connect(lambda _e: QTimer.singleShot(0, self.fit_contents))
        manager.connections_changed.connect(self.reload)
        self.list.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.reload()

    @Slot()
    def reload(self) -> None:
        self.list.clear()
        local = QListWidgetItem("Local workspace (this computer)")
        local.setData(ID_ROLE, LOCAL_ID)
        self.list.addItem(local)
        for record in self.manager.records():
            if record.is_local:
                continue
            item = QListWidgetItem(f"{record.name}  —  {record.base_url}")
            item.setData(ID_ROLE, record.id)
            self.list.addItem(item)
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(ID_ROLE) == self.current_id:
                item.setText(item.text() + "  (current)")
                self.list.setCurrentItem(item)
        self._update_buttons()

    @Slot()
    def fit_contents(self) -> None:
        """Grow tall enough for the form's (wrapped) messages and the list's minimum."""
        grow_to_fit(self)

    def selected_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item is not None else None

    def select(self, record_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == record_id:
                self.list.setCurrentRow(row)

    def _update_buttons(self) -> None:
        selected = self.selected_id()
        self.open_button.setEnabled(selected is not None)
        self.remove_button.setEnabled(selected not in (None, LOCAL_ID))

    @Slot()
    def show_form(self) -> None:
        self.form.setVisible(True)
        self.form.url.setFocus()

    @Slot()
    def switch_to_selected(self) -> None:
        selected = self.selected_id()
        if selected:
            self.switch_requested.emit(selected)
            self.accept()

    @Slot()
    def remove_selected(self) -> None:
        selected = self.selected_id()
        if selected and selected != LOCAL_ID:
            self.manager.remove(selected)

    @Slot(object)
    def _on_added(self, record: ConnectionRecord) -> None:
        self.form.setVisible(False)
        self.select(record.id)
