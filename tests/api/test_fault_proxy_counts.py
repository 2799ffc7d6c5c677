"""The fault proxy counts requests at the wire and keeps their bodies when asked.

A real client talks to the shared live Relay Local through :class:`FaultProxy`:
every request is counted by route (ids written ``{id}``), faulted ones too, the
server's answer time falls within the exchange, and with ``keep_bodies`` the
request and answer bodies are the bytes that crossed the proxy.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest

from relay_desktop.api import RelayClient, RetryPolicy
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.live_server import LiveServer

SETS = "/api/v1/datasets/{id}/annotation-sets/{id}"


@pytest.fixture
def proxy(relay_server: LiveServer) -> Iterator[FaultProxy]:
    with FaultProxy(relay_server.base_url, keep_bodies=True) as running:
        yield running


def test_requests_are_counted_by_route_with_their_bodies(
        relay_server: LiveServer, proxy: FaultProxy) -> None:
    retry = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.02, jitter=0.0)
    with RelayClient(proxy.url, relay_server.api_key, retry=retry) as client:
        ds = client.datasets.create(f"proxy-count-{uuid.uuid4().hex[:6]}",
                                    artifact_types=["click"])
        audio = client.audio.request_upload(ds.id, "a.wav", "audio/wav", 1000).audio_id
        set_id = client.annotation_sets.create(ds.id).id
        since = proxy.mark()
        made = client.annotations.bulk_create(ds.id, set_id, [
            {"audio_file_id": audio, "artifact_type": "click", "start_ms": s, "end_ms": s + 50}
            for s in (0, 100)])
        first, second = (a.id for a in made.annotations)
        client.annotations.update(ds.id, set_id, first, end_ms=80)
        proxy.inject(Fault.burst("DELETE", r"/annotations/", 1, 503, retry_after="0"))
        client.annotations.delete(ds.id, set_id, second)   # 503, then retried

    assert proxy.request_counts(since) == {
        f"POST {SETS}/annotations/bulk": 1,
        f"PATCH {SETS}/annotations/{{id}}": 1,
        f"DELETE {SETS}/annotations/{{id}}": 2,
    }
    assert proxy.request_counts(since, path=r"/bulk$") == {f"POST {SETS}/annotations/bulk": 1}
    bulk, patch, refused, delete = proxy.requests(since)
    assert [a["start_ms"] for a in json.loads(bulk.request_body)["annotations"]] == [0, 100]
    assert {a["id"] for a in json.loads(bulk.response_body)["annotations"]} == {first, second}
    assert bulk.started <= bulk.upstream_answered <= bulk.ended
    assert (refused.forwarded, refused.upstream_answered, refused.answered) == (False, 0.0, 503)
    assert json.loads(patch.request_body) == {"end_ms": 80} and patch.path.endswith(first)
    assert delete.upstream_status == 204 and delete.response_body == b""


def test_bodies_are_not_kept_unless_asked(relay_server: LiveServer) -> None:
    with FaultProxy(relay_server.base_url) as proxy, \
            RelayClient(proxy.url, relay_server.api_key) as client:
        client.datasets.create(f"proxy-nobody-{uuid.uuid4().hex[:6]}")
    (exchange,) = proxy.requests()
    assert exchange.route == "POST /api/v1/datasets"
    assert exchange.upstream_answered > 0
    assert (exchange.request_body, exchange.response_body) == (b"", b"")
