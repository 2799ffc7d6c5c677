"""Datasets against the real Relay Local."""

from __future__ import annotations

import pytest

from relay_desktop.api import RelayClient, errors
from relay_desktop.api.models import ArtifactType, Dataset
from tests.api.conftest import unique
from tests.support.live_server import LiveServer


def test_create_get_update_delete_roundtrip(client: RelayClient) -> None:
    name = unique("tts")
    ds = client.datasets.create(
        name, [ArtifactType("glitch", "Audio pop", "#FF4444"), {"name": "long_pause"}, "click"],
        description="first")
    assert isinstance(ds, Dataset)
    assert ds.name == name and ds.description == "first"
    assert ds.type_names == ("glitch", "long_pause", "click")
    assert ds.artifact_types[0].color == "#FF4444"
    assert ds.artifact_types[1].color == "#FF0000"
    assert ds.created_at is not None and ds.created_at.tzinfo is not None

    got = client.datasets.get(ds.id)
    assert got.id == ds.id and got.type_names == ds.type_names

    renamed = client.datasets.update(ds.id, name=name + "-2")
    assert renamed.name == name + "-2"
    assert renamed.description == "first"  # untouched by a partial update
    cleared = client.datasets.update(ds.id, description=None)
    assert cleared.description is None

    client.datasets.delete(ds.id)
    with pytest.raises(errors.NotFound) as info:
        client.datasets.get(ds.id)
    assert info.value.status_code == 404
    assert "not found" in str(info.value).lower()


def test_list_and_iter_items_cover_every_page(relay_server: LiveServer) -> None:
    key = relay_server.new_key(unique("tenant"))
    with RelayClient(relay_server.base_url, key) as c:
        made = [c.datasets.create(unique(f"ds{i}"), ["glitch"]).id for i in range(5)]
        page = c.datasets.list(page=1, page_size=2)
        assert len(page.items) == 2 and page.total == 5 and page.has_more
        assert page.items[0].audio_count == 0 and page.items[0].annotation_set_count == 0
        last = c.datasets.list(page=3, page_size=2)
        assert len(last.items) == 1 and not last.has_more
        assert [d.id for d in c.datasets.iter_items(page_size=2)] == made


def test_other_tenant_sees_404(relay_server: LiveServer, client: RelayClient) -> None:
    ds = client.datasets.create(unique("mine"), ["glitch"])
    with RelayClient(relay_server.base_url, relay_server.new_key(unique("t"))) as other:
        with pytest.raises(errors.NotFound):
            other.datasets.get(ds.id)
        assert ds.id not in [d.id for d in other.datasets.iter_items()]


def test_missing_name_is_validation_failed_with_fields(client: RelayClient) -> None:
    with pytest.raises(errors.ValidationFailed) as info:
        client._request("POST", "/api/v1/datasets", json={"artifact_types": []})
    err = info.value
    assert err.status_code == 422
    assert isinstance(err.detail, list)
    assert any(f.loc[-1] == "name" for f in err.errors)
    assert "name" in str(err)


def test_bad_key_is_unauthorized(relay_server: LiveServer) -> None:
    with RelayClient(relay_server.base_url, "not-a-real-key") as c, \
            pytest.raises(errors.Unauthorized) as info:
        c.datasets.list()
    assert info.value.status_code == 401
    assert str(info.value)


def test_health_names_the_server(client: RelayClient) -> None:
    info = client.health()
    assert info["status"] == "ok" and info["server"] == "relay-local"
