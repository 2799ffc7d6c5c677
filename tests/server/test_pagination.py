"""Pagination edges of the list envelope, on datasets and annotation sets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.server.conftest import Api
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def tenant(relay_server: LiveServer) -> Iterator[Api]:
    """A tenant of its own with exactly 5 datasets."""
    client = Api(relay_server.base_url, relay_server.new_key("paging"))
    for i in range(5):
        client.new_dataset(f"p{i}", exact_name=True)
    yield client
    client.close()


def _page(api: Api, **params: int) -> dict:
    r = api.get("/api/v1/datasets", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_defaults(tenant: Api) -> None:
    body = _page(tenant)
    assert (body["page"], body["page_size"], body["total"], body["has_more"]) == (1, 20, 5, False)
    assert [d["name"] for d in body["items"]] == [f"p{i}" for i in range(5)]


def test_page_size_one_walks_every_item_once(tenant: Api) -> None:
    names = []
    for page in range(1, 6):
        body = _page(tenant, page=page, page_size=1)
        assert len(body["items"]) == 1 and body["total"] == 5
        assert body["has_more"] is (page < 5)
        names.append(body["items"][0]["name"])
    assert names == [f"p{i}" for i in range(5)]


def test_page_size_100_and_partial_last_page(tenant: Api) -> None:
    assert len(_page(tenant, page_size=100)["items"]) == 5
    last = _page(tenant, page=3, page_size=2)
    assert [d["name"] for d in last["items"]] == ["p4"] and last["has_more"] is False
    middle = _page(tenant, page=2, page_size=2)
    assert middle["has_more"] is True


def test_page_beyond_the_end_is_empty(tenant: Api) -> None:
    body = _page(tenant, page=4, page_size=2)
    assert body["items"] == [] and body["total"] == 5 and body["has_more"] is False
    huge = _page(tenant, page=10**15, page_size=100)
    assert huge["items"] == [] and huge["page"] == 10**15


@pytest.mark.parametrize("params", [
    {"page_size": 0}, {"page_size": 101}, {"page": 0}, {"page": -1}, {"page": "x"},
])
def test_out_of_range_parameters_are_422(tenant: Api, params: dict) -> None:
    r = tenant.get("/api/v1/datasets", params=params)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", next(iter(params))]


def test_annotation_set_list_pages_too(tenant: Api) -> None:
    ds = tenant.new_dataset("sets")
    for _ in range(3):
        tenant.new_set(ds["id"])
    url = f"/api/v1/datasets/{ds['id']}/annotation-sets"
    body = tenant.get(url, params={"page": 2, "page_size": 1}).json()
    assert [s["version"] for s in body["items"]] == [2]
    assert body["total"] == 3 and body["has_more"] is True
    assert tenant.get(url, params={"page_size": 101}).status_code == 422
