"""Background activity shown in the status bar: what is running right now."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QObject, Signal, Slot

from relay_desktop.services.api_worker import ApiWorker


class ActivityTracker(QObject):
    """A set of labelled activities; anything may begin/end one (GUI thread only).

    Signals:
        changed(str): a one-line summary ("" when nothing runs).
    """

    changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._active: dict[int, str] = {}
        self._api_token: int | None = None

    def begin(self, text: str) -> int:
        token = next(self._ids)
        self._active[token] = text
        self.changed.emit(self.summary())
        return token

    def end(self, token: int) -> None:
        if self._active.pop(token, None) is not None:
            self.changed.emit(self.summary())

    def update(self, token: int, text: str) -> None:
        if token in self._active:
            self._active[token] = text
            self.changed.emit(self.summary())

    def active(self) -> list[str]:
        return list(self._active.values())

    def summary(self) -> str:
        items = self.active()
        if not items:
            return ""
        if len(items) == 1:
            return items[0]
        return f"{items[-1]} (+{len(items) - 1} more)"

    def track_worker(self, worker: ApiWorker) -> None:
        """Show the API worker's current request while it is busy."""
        worker.busy.connect(self._on_api_busy)
        worker.idle.connect(self._on_api_idle)
        worker.stopped.connect(self._on_api_idle)

    @Slot(str)
    def _on_api_busy(self, description: str) -> None:
        text = description or "Talking to the server…"
        if self._api_token is None:
            self._api_token = self.begin(text)
        else:
            self.update(self._api_token, text)

    @Slot()
    def _on_api_idle(self) -> None:
        if self._api_token is not None:
            self.end(self._api_token)
            self._api_token = None
