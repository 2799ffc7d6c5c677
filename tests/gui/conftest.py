"""Fixtures for GUI tests: an ApiWorker and an AppContext on the live Relay Local.

Reuse them in other GUI tests::

    def test_something(qtbot, app_context):
        handle = app_context.worker.submit(lambda client, cancel, progress: ...)
        result = wait_for(qtbot, handle)
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QThreadPool

from benchmarks.gui_stall import insert_audio_rows
from relay_desktop.api import RelayClient
from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings
from relay_desktop.services.activity import ActivityTracker
from relay_desktop.services.api_worker import ApiWorker, RequestHandle
from relay_desktop.services.context import AppContext, ConnectionInfo
from relay_desktop.services.qt_compat import pin_bool_singletons
from tests.support.live_server import LiveServer

pin_bool_singletons()  # PySide6 6.12 drops a reference to True on every emit()
WORKER_SHUTDOWN_MS = 5000


def wait_for(qtbot: Any, handle: RequestHandle, timeout: int = 15000) -> Any:
    """Wait for ``handle`` to finish; return its result or raise its error."""
    outcome: dict[str, Any] = {}
    handle.succeeded.connect(lambda value: outcome.setdefault("value", value))
    handle.failed.connect(lambda exc: outcome.setdefault("error", exc))
    handle.cancelled.connect(lambda: outcome.setdefault("cancelled", True))
    if not handle.done:
        qtbot.waitUntil(lambda: bool(outcome), timeout=timeout)
    if "error" in outcome:
        raise outcome["error"]
    if "cancelled" in outcome:
        raise AssertionError("the request was cancelled")
    return outcome.get("value")


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def gui_paths(tmp_path: Path) -> AppPaths:
    """Private data/cache/config folders for one test."""
    return AppPaths(tmp_path / "data", tmp_path / "cache", tmp_path / "config").ensure()


@pytest.fixture
def api_worker(qtbot: Any, relay_server: LiveServer) -> Iterator[ApiWorker]:
    """An ApiWorker on the shared live server, shut down (bounded) at teardown."""
    worker = ApiWorker(relay_server.base_url, relay_server.api_key, timeout=(5.0, 30.0))
    try:
        yield worker
    finally:
        assert worker.shutdown(WORKER_SHUTDOWN_MS), "the API thread did not stop in time"


@pytest.fixture
def app_context(api_worker: ApiWorker, relay_server: LiveServer, gui_paths: AppPaths
                ) -> Iterator[AppContext]:
    """What the main window hands to panels, connected to the shared live server."""
    pool = QThreadPool()
    pool.setMaxThreadCount(2)
    context = AppContext(
        worker=api_worker,
        connection=ConnectionInfo("Test server", relay_server.base_url, False, "test"),
        settings=Settings(gui_paths.config / "settings.json"),
        paths=gui_paths, thread_pool=pool, activity=ActivityTracker())
    context.activity.track_worker(api_worker)
    yield context
    pool.clear()
    pool.waitForDone(5000)


@pytest.fixture
def live_client(relay_server: LiveServer) -> Iterator[RelayClient]:
    """A plain client of the shared live server, to arrange and check data from tests."""
    with RelayClient(relay_server.base_url, relay_server.api_key) as client:
        yield client


@pytest.fixture
def bulk_audio() -> Callable[..., None]:
    """``bulk_audio(server, dataset_id, count, statuses=("ready",))`` inserts rows quickly."""
    def insert(server: LiveServer, dataset_id: str, count: int,
               statuses: tuple[str, ...] = ("ready",)) -> None:
        insert_audio_rows(server.data_dir, server.env, dataset_id, count, statuses)
    return insert


@pytest.fixture(autouse=True)
def _restore_application_look(qapp: Any) -> Iterator[None]:
    """A test that applies a theme must not restyle the tests that follow it."""
    style = qapp.style().name()
    yield
    if qapp.styleSheet():
        qapp.setStyleSheet("")
    qapp.setPalette(qapp.style().standardPalette())
    if qapp.style().name() != style:
        qapp.setStyle(style)
