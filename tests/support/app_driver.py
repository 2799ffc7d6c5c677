"""Drive the whole Application in e2e tests: start it on a server, open a draft in the editor.

The app reads its connection from RELAY_BASE_URL / RELAY_API_KEY (set by the test),
keeps its folders under ``tmp_path`` and is shut down however the test ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtWidgets import QApplication

from relay_desktop.api.models import AudioFile
from relay_desktop.app import Application, default_editor_factory
from relay_desktop.core.paths import AppPaths
from relay_desktop.services.annotation_session import AnnotationSession
from relay_desktop.ui.training.dialog import TrainingDialog
from relay_desktop.ui.waveform.editor import AudioEditor

W = TypeVar("W")


@contextmanager
def running_app(qtbot: Any, tmp_path: Path, size: tuple[int, int] = (1400, 900)
                ) -> Iterator[Application]:
    """The Application shown at ``size``, started, its datasets listed; shut down after."""
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    paths = AppPaths(tmp_path / "data", tmp_path / "cache", tmp_path / "config").ensure()
    shell = Application(qapp, paths, editor_factory=default_editor_factory())
    qtbot.addWidget(shell.window)
    shell.window.resize(*size)
    shell.window.show()
    try:
        with qtbot.waitSignal(shell.window.datasets.datasets_loaded, timeout=15_000):
            shell.start(restore_layout=False)
        yield shell
    finally:
        shell.shutdown()


def open_draft(qtbot: Any, shell: Application, dataset_id: str, audio: AudioFile,
               set_id: str) -> tuple[AnnotationSession, AudioEditor]:
    """Select the dataset, open ``audio`` in the editor and the set ``set_id`` on it."""
    sets_panel = shell.labelling.sets_panel
    assert sets_panel is not None
    with qtbot.waitSignal(sets_panel.sets_loaded, timeout=15_000):
        assert shell.window.datasets.select_dataset(dataset_id)
    editor = shell.editor
    assert isinstance(editor, AudioEditor)
    with qtbot.waitSignal(editor.file_opened, timeout=30_000):
        shell.window.audio_file_activated.emit(audio)
    shell.labelling.open_set(next(s for s in sets_panel.sets if s.id == set_id))
    session = shell.labelling.session
    assert session is not None
    return session, editor


def wait_for_app(qtbot: Any, done: Callable[[], bool], timeout_s: float,
                 what: Callable[[], str], failed: Callable[[], bool] = lambda: False) -> None:
    """Wait on app state only (no HTTP from the test), failing early when ``failed()``."""
    try:
        qtbot.waitUntil(lambda: done() or failed(), timeout=int(timeout_s * 1000))
    except Exception:
        raise AssertionError(f"timed out after {timeout_s:g} s: {what()}") from None
    assert not failed(), what()


def shown_dialog(qtbot: Any, kind: type[W]) -> W:
    """The visible top-level dialog of ``kind`` (opened by the window, not by the test)."""
    found: list[W] = []

    def shown() -> bool:
        found[:] = [w for w in QApplication.topLevelWidgets()
                    if isinstance(w, kind) and w.isVisible()]
        return bool(found)

    qtbot.waitUntil(shown, timeout=15_000)
    return found[-1]


def open_training_dialog(qtbot: Any, shell: Application, dataset_id: str, set_id: str,
                         epochs: int) -> TrainingDialog:
    """"Train model…" on a published set in the Labels dock; the form ready, ``epochs`` set."""
    sets_panel = shell.labelling.sets_panel
    assert sets_panel is not None
    with qtbot.waitSignal(sets_panel.sets_loaded, timeout=15_000):
        assert shell.window.datasets.select_dataset(dataset_id)
    sets_panel.select_set(set_id)
    assert sets_panel.train_action.isEnabled()
    sets_panel.train_action.trigger()
    training = shown_dialog(qtbot, TrainingDialog)
    qtbot.waitUntil(lambda: training.data is not None
                    and training.train_button.isEnabled(), timeout=15_000)
    training.set_value("epochs", epochs)
    return training
