"""iter_items across pages, with and without the inferred envelope fields."""

from __future__ import annotations

from typing import Any

from relay_desktop.api import RelayClient
from relay_desktop.api.models import Dataset, Page
from tests.support.fault_server import FaultServer, Reply

LIST = "/api/v1/datasets"


def ds(i: int) -> dict[str, Any]:
    return {"id": f"d{i}", "name": f"n{i}", "artifact_types": [], "extra": i}


def test_envelope_without_has_more_uses_total(fault: FaultServer,
                                              fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(200, json={"items": [ds(1), ds(2)], "total": 5}),
                               Reply(200, json={"items": [ds(3), ds(4)], "total": 5}),
                               Reply(200, json={"items": [ds(5)], "total": 5})])
    assert [d.id for d in fault_client.datasets.iter_items(page_size=2)] == [
        "d1", "d2", "d3", "d4", "d5"]
    assert [r.query["page"] for r in fault.records] == [["1"], ["2"], ["3"]]
    assert all(r.query["page_size"] == ["2"] for r in fault.records)


def test_items_only_stops_on_short_page(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(200, json={"items": [ds(1), ds(2)]}),
                               Reply(200, json={"items": [ds(3)]})])
    assert len(list(fault_client.datasets.iter_items(page_size=2))) == 3
    assert fault.count() == 2


def test_items_only_stops_on_empty_page(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", LIST, [Reply(200, json={"items": [ds(1), ds(2)]}),
                               Reply(200, json={"items": []})])
    assert len(list(fault_client.datasets.iter_items(page_size=2))) == 2
    assert fault.count() == 2


def test_server_ignoring_page_cannot_loop_forever(fault: FaultServer,
                                                  fault_client: RelayClient) -> None:
    fault.script("GET", LIST, Reply(200, json={"items": [ds(1), ds(2)], "total": 4,
                                               "has_more": True}))
    assert len(list(fault_client.datasets.iter_items(page_size=2))) == 4
    assert fault.count() == 2


def test_page_from_json_defaults() -> None:
    page = Page.from_json({"items": [ds(1)]}, Dataset.from_json, page=3, page_size=10)
    assert page.page == 3 and page.page_size == 10 and page.total is None
    assert not page.has_more
    assert page.items[0].id == "d1"
