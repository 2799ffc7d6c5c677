"""Retries and backoff against a real fault-injecting server (and the real Relay Local)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from relay_desktop.api import CancelToken, RelayClient, RetryPolicy, errors
from relay_desktop.api.retry import parse_retry_after
from tests.api.conftest import unique
from tests.support.fault_server import FaultServer, Reply
from tests.support.live_server import LiveServer

LIST = "/api/v1/datasets"
PAGE = {"items": [], "total": 0, "page": 1, "page_size": 20, "has_more": False}


def test_503_burst_then_success(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(503), Reply(502), Reply(504), Reply(200, json=PAGE)])
    page = fault_client.datasets.list()
    assert page.items == () and page.total == 0
    assert fault.count("GET", LIST) == 4


def test_retries_are_capped(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", LIST, Reply(503, json={"detail": "Service unavailable"}))
    with pytest.raises(errors.ServerError) as info:
        fault_client.datasets.list()
    assert info.value.status_code == 503
    assert fault.count("GET", LIST) == 1 + fault_client.retry.max_retries


def test_429_retried_then_reported(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(429), Reply(200, json=PAGE)])
    fault_client.datasets.list()
    assert fault.count("GET", LIST) == 2


def test_retry_after_seconds_is_honoured(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(503, retry_after="1"), Reply(200, json=PAGE)])
    start = time.monotonic()
    fault_client.datasets.list()
    elapsed = time.monotonic() - start
    first, second = fault.requests_to("GET", LIST)
    assert second.time - first.time >= 0.95
    assert elapsed < 3.0  # honoured, not multiplied


def test_retry_after_http_date_is_honoured(fault: FaultServer,
                                           fault_client: RelayClient) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=2), usegmt=True)
    fault.script("GET", LIST, [Reply(429, retry_after=when), Reply(200, json=PAGE)])
    fault_client.datasets.list()
    first, second = fault.requests_to("GET", LIST)
    assert second.time - first.time >= 0.9  # the date has 1 s resolution


def test_parse_retry_after_forms() -> None:
    now = datetime(2024, 1, 15, 10, 30, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 15 Jan 2024 10:30:05 GMT", now=now) == 5.0
    assert parse_retry_after("Mon, 15 Jan 2024 10:29:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_max=4.0, jitter=0.25)
    delays = [policy.delay(n) for n in range(1, 8)]
    assert 0.375 <= delays[0] <= 0.625
    assert 1.5 <= delays[2] <= 2.5
    assert all(d <= 5.0 for d in delays)
    assert policy.delay(1, "30") == 30.0
    assert policy.delay(1, "100000") == policy.max_retry_after


def test_post_is_not_retried_on_503(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("POST", LIST, [Reply(503), Reply(201, json={"id": "x", "name": "n"})])
    with pytest.raises(errors.ServerError):
        fault_client.datasets.create("n", ["glitch"])
    assert fault.count("POST", LIST) == 1


def test_post_not_duplicated_when_connection_drops_after_send(
        fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("POST", LIST, Reply(drop="after_read"))
    with pytest.raises(errors.ApiConnectionError) as info:
        fault_client.datasets.create("n", ["glitch"])
    assert "broke" in str(info.value)
    assert fault.count("POST", LIST) == 1


def test_post_not_duplicated_on_real_server(relay_server: LiveServer, fault: FaultServer) -> None:
    """The proxy forwards the create to Relay Local, then drops the answer: the
    dataset exists once, and the client did not send it twice."""
    key = relay_server.new_key(unique("dup"))
    fault.proxy("POST", LIST, relay_server.base_url, drop=True)
    fault.proxy("GET", LIST, relay_server.base_url)
    with RelayClient(fault.url, key, retry=RetryPolicy(backoff_base=0.01)) as c:
        with pytest.raises(errors.ApiConnectionError):
            c.datasets.create("only-once", ["glitch"])
        names = [d.name for d in c.datasets.iter_items()]
    assert names == ["only-once"]
    assert fault.count("POST", LIST) == 1


def test_get_retried_after_dropped_connection(fault: FaultServer,
                                              fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(drop="after_read"), Reply(drop="before_read"),
                               Reply(200, json=PAGE)])
    assert fault_client.datasets.list().total == 0
    assert fault.count("GET", LIST) == 3


def test_read_timeout_is_api_timeout(fault: FaultServer) -> None:
    fault.script("GET", LIST, Reply(200, json=PAGE, delay=1.0))
    with RelayClient(fault.url, "k" * 8, timeout=(1.0, 0.2), retry=RetryPolicy(max_retries=0)) \
            as c, pytest.raises(errors.ApiTimeoutError):
        c.datasets.list()


def test_connection_refused_is_connection_error() -> None:
    with FaultServer() as srv:
        url = srv.url
    with RelayClient(url, "k" * 8, retry=RetryPolicy(max_retries=1, backoff_base=0.01)) as c:
        with pytest.raises(errors.ApiConnectionError, match="not reachable"):
            c.datasets.list()
        # a POST that never reached the server is safe to retry, and is still refused
        with pytest.raises(errors.ApiConnectionError):
            c.datasets.create("n")


def test_cancel_during_backoff(fault: FaultServer) -> None:
    fault.script("GET", LIST, Reply(503, retry_after="30"))
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    with RelayClient(fault.url, "k" * 8) as c:
        start = time.monotonic()
        with pytest.raises(errors.Cancelled):
            c.datasets.list(cancel=token)
    assert time.monotonic() - start < 5
    assert fault.count("GET", LIST) == 1


def test_cancelled_before_start_sends_nothing(fault: FaultServer,
                                              fault_client: RelayClient) -> None:
    token = CancelToken()
    token.cancel()
    with pytest.raises(errors.Cancelled):
        fault_client.datasets.list(cancel=token)
    assert fault.count() == 0
