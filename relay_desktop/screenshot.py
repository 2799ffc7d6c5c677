"""``--screenshot``: wait for the workspace's data (bounded), render the main window, save a PNG.

It selects the demo dataset, opens its first ready file in the editor and the
newest published annotation set in the Labels dock, so the picture shows what a
user sees while labelling. With a ``view`` other than "label" it then shows that
step of the model loop (``screenshot_views``) before the grab.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from relay_desktop.api.models import Dataset
from relay_desktop.screenshot_views import ViewDriver

if TYPE_CHECKING:
    from relay_desktop.app import Application

log = logging.getLogger(__name__)

EDITOR_WAIT_MS = 30000


class Screenshot(QObject):
    """Drives ``--screenshot``: waits for the data (bounded), renders the window, saves a PNG.

    Signals:
        done(int): the exit status (0 written, 1 failed).
    """

    done = Signal(int)

    def __init__(self, app: Application, path: Path, timeout_s: float = 150.0,
                 view: str = "label") -> None:
        super().__init__(app)
        self.app = app
        self.path = path
        self._view: ViewDriver | None = None
        if view != "label":
            self._view = ViewDriver(app, view)
            self._view.ready.connect(self._grab_now)
            self._view.failed.connect(lambda msg: self._finish(1, msg))
        self.window = app.window
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self._finish(1, "timed out waiting for the data"))
        self._timer.start(int(timeout_s * 1000))
        self.window.datasets.datasets_loaded.connect(self._on_datasets)
        self.window.audio_list.model.page_loaded.connect(self._on_page)
        self.window.datasets.load_failed.connect(
            lambda exc: self._finish(1, f"loading datasets failed: {exc}"))
        app.connection_failed.connect(lambda msg: self._finish(1, msg))
        self._finished = False

    @Slot(object)
    def _on_datasets(self, datasets: list[Dataset]) -> None:
        if not datasets:
            log.warning("The workspace has no datasets; the screenshot shows an empty list")
            QTimer.singleShot(300, self._grab)
            return
        seeded = self.app.local.demo_dataset_id if self.app.local is not None else None
        demo = (next((d for d in datasets if d.id == seeded), None)
                or next((d for d in datasets if "demo" in d.name.lower()), datasets[0]))
        if not self.window.datasets.select_dataset(demo.id):
            self._finish(1, "the demo dataset could not be selected")

    @Slot(int, int)
    def _on_page(self, page: int, _rows: int) -> None:
        if page != 1:
            return
        model = self.window.audio_list.model
        ready = next((r for r in range(model.rowCount())
                      if (f := model.file_at(r)) is not None and f.processing_status == "ready"),
                     None)
        editor = self.app.editor
        opened = getattr(editor, "file_opened", None)
        failed = getattr(editor, "error", None)
        if ready is None or opened is None:
            if model.rowCount():
                self.window.audio_list.table.selectRow(0)
            QTimer.singleShot(300, self._grab)
            return
        # open the first ready file so the editor shows a waveform (bounded wait)
        self.window.audio_list.table.selectRow(ready)
        opened.connect(lambda _info: self._open_labels())
        if failed is not None:
            failed.connect(lambda _msg: QTimer.singleShot(300, self._grab))
        QTimer.singleShot(EDITOR_WAIT_MS, self._grab)
        audio = model.file_at(ready)
        assert audio is not None
        self.window.audio_file_activated.emit(audio)

    def _open_labels(self) -> None:
        """Open the newest published set so the shot shows labelled regions (bounded wait)."""
        labelling = self.app.labelling
        sets = labelling.sets_panel.sets if labelling.sets_panel is not None else []
        published = [s for s in sets if s.status == "published"]
        if not published:
            QTimer.singleShot(800, self._grab)
            return
        labelling.open_set(max(published, key=lambda s: s.version))
        if labelling.session is None:
            QTimer.singleShot(800, self._grab)
            return
        labelling.session.loaded.connect(lambda: QTimer.singleShot(800, self._grab))
        labelling.session.load_failed.connect(lambda _msg: QTimer.singleShot(300, self._grab))

    def _grab(self) -> None:
        """The labelling view is ready: grab it, or go on to the model-loop view asked for."""
        if self._view is not None:
            self._view.start()
            return
        self._grab_now()

    def _grab_now(self) -> None:
        if self._finished:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        ok = self.window.grab().save(str(self.path), "PNG")
        self._finish(0 if ok else 1, "" if ok else f"could not write {self.path}")

    def _finish(self, code: int, message: str) -> None:
        if self._finished:
            return
        self._finished = True
        self._timer.stop()
        if message:
            print(f"relay-desktop --screenshot: {message}", file=sys.stderr)
        else:
            print(f"Wrote {self.path}", flush=True)
        self.done.emit(code)
