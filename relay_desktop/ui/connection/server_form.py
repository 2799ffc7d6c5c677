"""The "Relay server" form: address and API key, checked with a real call before saving."""

from __future__ import annotations

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from relay_desktop.api import errors
from relay_desktop.core.connections import ConnectionRecord
from relay_desktop.services.connections import ConnectionManager, parse_server_address
from relay_desktop.services.credentials import Storage
from relay_desktop.ui.errors import describe_error


class ServerForm(QWidget):
    """Name, base URL and API key; verifies them through the ConnectionManager.

    When no keychain is available the form says so, and the key is kept for this
    session only unless the user ticks "store it in a file".

    Signals:
        connected(object): the saved ConnectionRecord after a successful check.
    """

    connected = Signal(object)

    def __init__(self, manager: ConnectionManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverForm")
        self.manager = manager
        self.storage: Storage | None = None
        self.name = QLineEdit(self)
        self.name.setObjectName("connectionName")
        self.name.setPlaceholderText("Optional, e.g. Team server")
        self.url = QLineEdit(self)
        self.url.setObjectName("baseUrl")
        self.url.setPlaceholderText("https://api.relayai.dev")
        self.key = QLineEdit(self)
        self.key.setObjectName("apiKey")
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("Paste your API key")
        self.url_error = self._error_label()
        self.url_note = QLabel(self)
        self.url_note.setObjectName("subtle")
        self.url_note.setWordWrap(True)
        self.url_note.setVisible(False)
        self.key_error = self._error_label()
        self.message = QLabel(self)
        self.message.setObjectName("formError")
        self.message.setWordWrap(True)
        self.message.setVisible(False)
        self.keychain_note = QLabel(self)
        self.keychain_note.setObjectName("subtle")
        self.keychain_note.setWordWrap(True)
        self.store_in_file = QCheckBox("Store the key in a private file (readable only by me)",
                                       self)
        self.store_in_file.setObjectName("storeInFile")
        if not manager.credentials.keyring_available:
            self.keychain_note.setText(
                "No system keychain is available, so the API key will be kept for this "
                "session only. Tick the box below to keep it in a file that only your user "
                "account can read.")
        else:
            self.keychain_note.setVisible(False)
            self.store_in_file.setVisible(False)
        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setObjectName("primary")
        self.connect_button.setDefault(True)
        self.connect_button.clicked.connect(self.submit)
        self.key.returnPressed.connect(self.submit)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Server address", self._stack(self.url, self.url_note, self.url_error))
        form.addRow("API key", self._stack(self.key, self.key_error))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(form)
        layout.addWidget(self.keychain_note)
        layout.addWidget(self.store_in_file)
        layout.addWidget(self.message)
        layout.addWidget(self.connect_button)
        manager.verified.connect(self._on_verified)
        manager.verification_failed.connect(self._on_failed)
        self._waiting = False
        self.checked_url = ""

    def _error_label(self) -> QLabel:
        label = QLabel(self)
        label.setObjectName("fieldError")
        label.setWordWrap(True)
        label.setVisible(False)
        return label

    def _stack(self, *widgets: QWidget) -> QWidget:
        box = QWidget(self)
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(2)
        for widget in widgets:
            col.addWidget(widget)
        return box

    def prefill(self, record: ConnectionRecord) -> None:
        """Ask again for the key of a saved connection (e.g. a session-only key)."""
        self.name.setText(record.name)
        self.url.setText(record.base_url)
        self.key.clear()
        self.key.setFocus()

    @Slot()
    def submit(self) -> None:
        if self._waiting:
            return
        for label in (self.url_error, self.url_note, self.key_error, self.message):
            label.setVisible(False)
        self._show_address_used()
        self._waiting = True
        self.connect_button.setEnabled(False)
        self.connect_button.setText("Checking…")
        self.manager.verify_and_save(self.name.text(), self.url.text(), self.key.text(),
                                     allow_file=self.store_in_file.isChecked())

    def _show_address_used(self) -> None:
        """When ``https://`` is assumed, put the full address in the field and say so."""
        try:
            address = parse_server_address(self.url.text())
        except ValueError:
            return  # the manager reports it under the field
        self.checked_url = address.url
        if address.assumed_https:
            self.url.setText(address.url)
            self.url_note.setText(f"Using {address.url} (a secure connection). For a server "
                                  "without TLS, such as a local one, write http:// instead.")
            self.url_note.setVisible(True)

    def _done(self) -> None:
        self._waiting = False
        self.connect_button.setEnabled(True)
        self.connect_button.setText("Connect")

    @Slot(object, object)
    def _on_verified(self, record: ConnectionRecord, storage: Storage) -> None:
        if not self._waiting:
            return
        self._done()
        self.storage = storage
        self.key.clear()
        self.connected.emit(record)

    @Slot(object)
    def _on_failed(self, exc: BaseException) -> None:
        if not self._waiting:
            return
        self._done()
        if isinstance(exc, ValueError):
            target = self.key_error if "API key" in str(exc) else self.url_error
            target.setText(str(exc))
            target.setVisible(True)
        elif isinstance(exc, errors.Unauthorized):
            self.key_error.setText(f"The server at {self.checked_url} rejected this API key. "
                                   "Check that you pasted the whole key, for this server. "
                                   f"(Server said: {exc.detail or exc})")
            self.key_error.setVisible(True)
        elif isinstance(exc, errors.Forbidden):
            self.key_error.setText(describe_error(exc))
            self.key_error.setVisible(True)
        elif isinstance(exc, errors.ApiConnectionError) and "secure connection" not in str(exc):
            self.message.setText(f"Nothing answered at {self.checked_url}: is the server "
                                 "running? Check the address and port.")
            self.message.setVisible(True)
        elif isinstance(exc, errors.NotFound):
            self.url_error.setText("That address answered, but it does not look like a Relay "
                                   f"server. {describe_error(exc)}")
            self.url_error.setVisible(True)
        else:
            self.message.setText(f"Could not connect. {describe_error(exc)}")
            self.message.setVisible(True)
