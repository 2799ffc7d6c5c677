"""Choosing a server: the first-run screen, the server form and the connections dialog."""

from relay_desktop.ui.connection.first_run import FirstRunScreen
from relay_desktop.ui.connection.manager_dialog import ConnectionsDialog
from relay_desktop.ui.connection.server_form import ServerForm

__all__ = ["ConnectionsDialog", "FirstRunScreen", "ServerForm"]
