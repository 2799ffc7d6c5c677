"""The ApiWorker: its thread, priorities, cancellation, errors and a bounded shutdown."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QThread

from relay_desktop.api import errors
from relay_desktop.services.api_worker import ApiWorker, Priority, lingering_threads
from tests.gui.conftest import wait_for
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer


def _blocker(worker: ApiWorker) -> tuple[threading.Event, threading.Event]:
    """Occupy the API thread until the returned ``release`` event is set."""
    started, release = threading.Event(), threading.Event()

    def block(_client: Any, _cancel: Any, _progress: Any) -> None:
        started.set()
        release.wait(10)

    worker.submit(block, description="blocker")
    assert started.wait(10)
    return started, release


def test_requests_run_on_the_relay_api_thread_and_results_come_back_on_the_gui_thread(
        qtbot: Any, api_worker: ApiWorker) -> None:
    seen: dict[str, Any] = {}

    def job(client: Any, _cancel: Any, _progress: Any) -> Any:
        seen["thread"] = QThread.currentThread().objectName()
        return client.datasets.list(page=1, page_size=5)

    handle = api_worker.submit(job, description="list datasets")
    gui_thread = QCoreApplication.instance().thread()
    handle.succeeded.connect(lambda _v: seen.setdefault("slot_thread", QThread.currentThread()))
    page = wait_for(qtbot, handle)
    assert seen["thread"] == "relay-api" == api_worker.thread_name
    assert seen["slot_thread"] is gui_thread
    assert page.page == 1 and isinstance(page.items, tuple)
    assert handle.outcome == "succeeded"


def test_user_actions_run_before_background_before_polling_fifo_within(
        qtbot: Any, api_worker: ApiWorker) -> None:
    order: list[str] = []
    _started, release = _blocker(api_worker)
    handles = []
    for name, prio in (("poll-1", Priority.POLL), ("bg-1", Priority.BACKGROUND),
                       ("user-1", Priority.USER), ("poll-2", Priority.POLL),
                       ("user-2", Priority.USER), ("bg-2", Priority.BACKGROUND)):
        handles.append(api_worker.submit(lambda _c, _t, _p, n=name: order.append(n),
                                         priority=prio, description=name))
    release.set()
    for handle in handles:
        wait_for(qtbot, handle)
    assert order == ["user-1", "user-2", "bg-1", "bg-2", "poll-1", "poll-2"]


def test_cancel_before_start_never_runs_the_request(qtbot: Any, api_worker: ApiWorker) -> None:
    ran: list[int] = []
    _started, release = _blocker(api_worker)
    handle = api_worker.submit(lambda _c, _t, _p: ran.append(1), description="doomed")
    cancelled: list[bool] = []
    handle.cancelled.connect(lambda: cancelled.append(True))
    handle.cancel()
    assert cancelled == [True], "a pending request is cancelled at once"
    after = api_worker.submit(lambda _c, _t, _p: "after")
    release.set()
    assert wait_for(qtbot, after) == "after"
    assert ran == []
    assert handle.outcome == "cancelled"


def test_cancel_in_flight_stops_a_cooperative_job_and_drops_a_late_result(
        qtbot: Any, api_worker: ApiWorker, relay_server: LiveServer) -> None:
    started = threading.Event()

    def cooperative(_client: Any, cancel: Any, progress: Any) -> str:
        started.set()
        for i in range(1000):
            cancel.raise_if_cancelled()
            progress(i, 1000)
            time.sleep(0.01)
        return "finished"

    handle = api_worker.submit(cooperative)
    progress: list[Any] = []
    handle.progress.connect(progress.append)
    assert started.wait(10)
    qtbot.waitUntil(lambda: bool(progress), timeout=5000)
    with qtbot.waitSignal(handle.cancelled, timeout=5000):
        handle.cancel()
    assert handle.outcome == "cancelled"
    assert all(isinstance(p, tuple) and len(p) == 2 for p in progress)

    # a real request that is already on the wire: its answer is dropped after cancel
    with FaultServer() as slow:
        slow.script("*", "*", Reply(proxy=relay_server.base_url, delay=0.5))
        worker = ApiWorker(slow.url, relay_server.api_key)
        try:
            handle = worker.submit(lambda c, _t, _p: c.datasets.list(page=1, page_size=1))
            qtbot.waitUntil(lambda: slow.count() == 1, timeout=5000)
            succeeded: list[Any] = []
            handle.succeeded.connect(succeeded.append)
            with qtbot.waitSignal(handle.cancelled, timeout=5000):
                handle.cancel()
            assert succeeded == []
        finally:
            assert worker.shutdown(5000)


def test_errors_arrive_as_failed_with_the_typed_exception(qtbot: Any,
                                                          relay_server: LiveServer) -> None:
    worker = ApiWorker(relay_server.base_url, "not-a-real-key")
    try:
        handle = worker.submit(lambda c, _t, _p: c.datasets.list())
        with pytest.raises(errors.Unauthorized):
            wait_for(qtbot, handle)
    finally:
        assert worker.shutdown(5000)


def test_unreachable_server_is_reported_once_and_recovery_is_noticed(qtbot: Any) -> None:
    with FaultServer() as fault:
        fault.script("GET", "/api/v1/datasets", Reply(drop="before_read"))
        worker = ApiWorker(fault.url, "key", timeout=(2.0, 2.0))
        try:
            lost: list[Any] = []
            worker.server_unreachable.connect(lost.append)
            first = worker.submit(lambda c, _t, _p: c.datasets.list())
            with pytest.raises(errors.ApiConnectionError):
                wait_for(qtbot, first, timeout=20000)
            assert len(lost) == 1 and isinstance(lost[0], errors.ApiConnectionError)
            assert worker.reachable is False
            fault.script("GET", "/api/v1/datasets",
                         Reply(200, json={"items": [], "total": 0, "page": 1, "page_size": 20,
                                          "has_more": False}))
            with qtbot.waitSignal(worker.server_reachable, timeout=20000):
                again = worker.submit(lambda c, _t, _p: c.datasets.list())
                wait_for(qtbot, again, timeout=20000)
            assert worker.reachable is True and len(lost) == 1
        finally:
            assert worker.shutdown(5000)


def test_busy_and_idle_follow_the_queue(qtbot: Any, api_worker: ApiWorker) -> None:
    busy: list[str] = []
    api_worker.busy.connect(busy.append)
    with qtbot.waitSignal(api_worker.idle, timeout=10000):
        api_worker.submit(lambda c, _t, _p: c.datasets.list(), description="Loading datasets")
    assert busy == ["Loading datasets"]


def test_shutdown_cancels_pending_and_waits_for_a_short_request(
        qtbot: Any, relay_server: LiveServer) -> None:
    with FaultServer() as slow:
        slow.script("*", "*", Reply(proxy=relay_server.base_url, delay=0.3))
        worker = ApiWorker(slow.url, relay_server.api_key)
        inflight = worker.submit(lambda c, _t, _p: c.datasets.list())
        qtbot.waitUntil(lambda: slow.count() == 1, timeout=5000)
        pending = worker.submit(lambda c, _t, _p: c.datasets.list())
        cancelled: list[str] = []
        pending.cancelled.connect(lambda: cancelled.append("pending"))
        t0 = time.monotonic()
        assert worker.shutdown(5000) is True
        assert time.monotonic() - t0 < 3.0
        assert cancelled == ["pending"]
        assert not worker.is_running
        qtbot.waitUntil(lambda: inflight.done, timeout=5000)
        assert inflight.outcome == "cancelled"
        assert slow.count() == 1, "the pending request never went out"
        late = worker.submit(lambda c, _t, _p: c.datasets.list())
        qtbot.waitUntil(lambda: late.done, timeout=2000)
        assert late.outcome == "cancelled"


def test_shutdown_with_a_hung_request_returns_within_the_bound(
        qtbot: Any, relay_server: LiveServer) -> None:
    with FaultServer() as hung:
        hung.script("*", "*", Reply(proxy=relay_server.base_url, delay=3.0))
        worker = ApiWorker(hung.url, relay_server.api_key, timeout=(2.0, 10.0))
        worker.submit(lambda c, _t, _p: c.datasets.list())
        qtbot.waitUntil(lambda: hung.count() == 1, timeout=5000)
        t0 = time.monotonic()
        assert worker.shutdown(300) is False
        assert time.monotonic() - t0 < 1.0, "shutdown must not wait for the read"
        assert lingering_threads() >= 1
        # the read finishes on its own (well before the read timeout) and the thread ends
        qtbot.waitUntil(lambda: not worker.is_running, timeout=10000)
        assert lingering_threads() == 0
