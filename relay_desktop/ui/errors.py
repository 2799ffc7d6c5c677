"""Turning API errors into sentences, field errors into labels, and showing error dialogs.

Dialogs are opened with ``open()`` (never ``exec()``) so nothing spins a nested
event loop; ``set_dialog_hook`` lets tests see every dialog as it is created.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from relay_desktop.api import errors

log = logging.getLogger(__name__)

_dialog_hook: Callable[[QMessageBox], None] | None = None


def set_dialog_hook(hook: Callable[[QMessageBox], None] | None) -> None:
    """Call ``hook(box)`` for every error dialog before it is shown (tests use it)."""
    global _dialog_hook
    _dialog_hook = hook


def _detail(exc: errors.ApiStatusError) -> str:
    detail = exc.detail
    if isinstance(detail, str) and detail.strip():
        text = detail.strip()
    elif isinstance(detail, list) and isinstance(exc, errors.ValidationFailed):
        text = "; ".join(str(f) for f in exc.errors)
    else:
        text = str(exc)
    return text if text.endswith((".", "!", "?")) else text + "."


def is_connection_problem(exc: BaseException) -> bool:
    """True when the server could not be reached (a retry may help)."""
    return isinstance(exc, errors.ApiConnectionError | errors.ApiTimeoutError)


def describe_error(exc: BaseException) -> str:
    """A sentence for a person, with the server's ``detail`` where there is one."""
    if isinstance(exc, errors.Unauthorized):
        return ("Your API key was rejected by the server. Check the key under "
                f"File > Connections. (Server said: {_detail(exc)})")
    if isinstance(exc, errors.Forbidden):
        return f"Your API key is not allowed to do this. (Server said: {_detail(exc)})"
    if isinstance(exc, errors.NotFound):
        return ("The server could not find it; it may have been deleted. "
                f"(Server said: {_detail(exc)})")
    if isinstance(exc, errors.ValidationFailed):
        return f"Some values were not accepted: {_detail(exc)}"
    if isinstance(exc, errors.Conflict):
        return f"That is not possible right now: {_detail(exc)}"
    if isinstance(exc, errors.ServerError):
        return (f"The server failed (HTTP {exc.status_code}). Try again in a moment. "
                f"(Server said: {_detail(exc)})")
    if isinstance(exc, errors.ApiStatusError):
        return f"The server refused the request (HTTP {exc.status_code}): {_detail(exc)}"
    if isinstance(exc, errors.ApiTimeoutError):
        return f"The server did not answer in time. {exc}"
    if isinstance(exc, errors.ApiConnectionError):
        return f"The connection to the server was lost. {exc}"
    if isinstance(exc, errors.RelayError | ValueError):
        return str(exc)
    return f"Something unexpected went wrong: {exc.__class__.__name__}: {exc}"


def field_errors(exc: BaseException) -> dict[str, str]:
    """422 field errors by dotted field name (``name``, ``artifact_types.0.color``)."""
    if not isinstance(exc, errors.ValidationFailed):
        return {}
    out: dict[str, str] = {}
    for item in exc.errors:
        loc = [str(x) for x in item.loc if x not in ("body", "query", "path")]
        key = ".".join(loc) or "_"
        out[key] = f"{out[key]}; {item.msg}" if key in out else item.msg
    return out


def apply_field_errors(exc: BaseException, labels: Mapping[str, QLabel],
                       general: QLabel | None = None) -> bool:
    """Show each field error in the label of its field (longest matching prefix).

    Errors with no label go to ``general`` together with the sentence. Returns
    True when the error was a 422 that was shown next to fields.
    """
    for label in labels.values():
        label.clear()
        label.setVisible(False)
    found = field_errors(exc)
    leftovers: list[str] = []
    for key, msg in found.items():
        parts = key.split(".")
        target = None
        for n in range(len(parts), 0, -1):
            target = labels.get(".".join(parts[:n]))
            if target is not None:
                break
        if target is None:
            leftovers.append(f"{key}: {msg}")
            continue
        where = ".".join(parts[1:]) if len(parts) > 1 else ""
        text = f"{where}: {msg}" if where else msg
        target.setText(f"{target.text()}\n{text}" if target.text() else text)
        target.setVisible(True)
    if general is not None:
        if found and not leftovers:
            general.setText("Please correct the highlighted fields.")
        else:
            general.setText(describe_error(exc) if not found else "; ".join(leftovers))
        general.setVisible(True)
    return bool(found)


def show_error(parent: QWidget | None, exc: BaseException, *, title: str = "Relay Desktop",
               action: str = "", retry: Callable[[], None] | None = None) -> QMessageBox:
    """Show a non-blocking error dialog; a Retry button appears for lost connections."""
    text = describe_error(exc)
    if action:
        text = f"{action} failed. {text}"
    log.warning("%s", text)
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.NoButton,
                      parent)
    box.setObjectName("errorDialog")
    box.setTextFormat(Qt.TextFormat.PlainText)
    retry_button = None
    if retry is not None and is_connection_problem(exc):
        retry_button = box.addButton("Retry", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)

    def clicked(button: object) -> None:
        if retry_button is not None and button is retry_button:
            retry()  # type: ignore[misc]

    box.buttonClicked.connect(clicked)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    if _dialog_hook is not None:
        _dialog_hook(box)
    box.open()
    return box
