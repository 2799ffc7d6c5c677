"""Error mapping: status codes, detail string or list, non-JSON bodies, extensions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relay_desktop.api import RelayClient, errors
from tests.support.fault_server import FaultServer, Reply

DS = "/api/v1/datasets/abc"


@pytest.mark.parametrize(("status", "cls"), [
    (400, errors.BadRequest), (401, errors.Unauthorized), (403, errors.Forbidden),
    (404, errors.NotFound), (409, errors.Conflict), (422, errors.ValidationFailed),
    (500, errors.ServerError),
])
def test_status_maps_to_error_class(fault: FaultServer, fault_client: RelayClient, status: int,
                                    cls: type[errors.ApiStatusError]) -> None:
    fault.script("GET", DS, Reply(status, json={"detail": f"Reason {status}"}))
    with pytest.raises(cls) as info:
        fault_client.datasets.get("abc")
    assert info.value.status_code == status
    assert info.value.detail == f"Reason {status}"
    assert str(info.value) == f"Reason {status}."
    assert isinstance(info.value, errors.ApiStatusError)
    assert isinstance(info.value, errors.RelayError)


def test_422_list_detail_carries_field_errors(fault: FaultServer,
                                              fault_client: RelayClient) -> None:
    detail = [{"loc": ["body", "name"], "msg": "field required", "type": "value_error.missing"},
              {"loc": ["body", "artifact_types", 0, "color"], "msg": "bad colour",
               "type": "value_error"}]
    fault.script("POST", "/api/v1/datasets", Reply(422, json={"detail": detail}))
    with pytest.raises(errors.ValidationFailed) as info:
        fault_client.datasets.create("x", [])
    err = info.value
    assert err.detail == detail
    assert [f.loc for f in err.errors] == [("body", "name"), ("body", "artifact_types", 0, "color")]
    assert err.errors[0].msg == "field required" and err.errors[0].type == "value_error.missing"
    assert "name: field required" in str(err)
    assert "artifact_types.0.color: bad colour" in str(err)


def test_list_detail_on_400_is_still_readable(fault: FaultServer,
                                              fault_client: RelayClient) -> None:
    fault.script("GET", DS, Reply(400, json={"detail": [{"loc": ["query", "page"],
                                                          "msg": "too big", "type": "x"}]}))
    with pytest.raises(errors.BadRequest) as info:
        fault_client.datasets.get("abc")
    assert "page: too big" in str(info.value)


def test_non_json_error_body_gives_readable_message(fault: FaultServer,
                                                    fault_client: RelayClient) -> None:
    fault.script("GET", DS, Reply(500, body=b"<html><h1>Bad Gateway Exploded</h1></html>",
                                  content_type="text/html"))
    with pytest.raises(errors.ServerError) as info:
        fault_client.datasets.get("abc")
    assert info.value.detail is None
    msg = str(info.value)
    assert "HTTP 500" in msg and "Bad Gateway Exploded" in msg


def test_empty_error_body_gives_generic_message(fault: FaultServer,
                                                fault_client: RelayClient) -> None:
    fault.script("GET", DS, Reply(403))
    with pytest.raises(errors.Forbidden) as info:
        fault_client.datasets.get("abc")
    assert "does not allow" in str(info.value) and "403" in str(info.value)


def test_success_body_that_is_not_json_is_a_relay_error(fault: FaultServer,
                                                        fault_client: RelayClient) -> None:
    fault.script("GET", DS, Reply(200, body=b"hello", content_type="text/plain"))
    with pytest.raises(errors.RelayError, match="not JSON"):
        fault_client.datasets.get("abc")


def test_create_accepts_200_and_201(fault: FaultServer, fault_client: RelayClient) -> None:
    body = {"id": "d1", "name": "n", "artifact_types": [{"name": "glitch"}],
            "created_at": "2024-01-15T10:30:00Z", "updated_at": "2024-01-15T10:30:00Z",
            "surprise": {"nested": True}}
    fault.script("POST", "/api/v1/datasets", [Reply(201, json=body), Reply(200, json=body)])
    first = fault_client.datasets.create("n", ["glitch"])
    second = fault_client.datasets.create("n", ["glitch"])
    assert first == second
    assert first.description is None and first.audio_count is None
    assert first.created_at is not None and first.created_at.utcoffset() == timedelta(0)


# -- Relay Local extensions: route missing vs resource missing ------------------

AUDIO = "/api/v1/datasets/d/audio/a"


@pytest.mark.parametrize("reply", [
    Reply(405, json={"detail": "Method Not Allowed"}),
    Reply(404, json={"detail": "Not Found"}),           # FastAPI/Starlette: no such route
    Reply(404, body=b"<html>404</html>", content_type="text/html"),
    Reply(404),
], ids=["405", "starlette-404", "html-404", "empty-404"])
def test_extension_missing_route_is_not_supported(fault: FaultServer, fault_client: RelayClient,
                                                  reply: Reply) -> None:
    fault.script("*", AUDIO, reply)
    fault.script("GET", AUDIO + "/download-url", reply)
    fault.script("POST", "/api/v1/training-jobs/j/cancel", reply)
    with pytest.raises(errors.NotSupported, match="not supported by this server"):
        fault_client.audio.get("d", "a")
    with pytest.raises(errors.NotSupported):
        fault_client.audio.delete("d", "a")
    with pytest.raises(errors.NotSupported):
        fault_client.audio.download_url("d", "a")
    with pytest.raises(errors.NotSupported, match="Cancelling a training job"):
        fault_client.training_jobs.cancel("j")


def test_extension_missing_resource_is_not_found(fault: FaultServer,
                                                 fault_client: RelayClient) -> None:
    fault.script("GET", AUDIO, Reply(404, json={"detail": "Audio file not found"}))
    with pytest.raises(errors.NotFound, match="Audio file not found"):
        fault_client.audio.get("d", "a")


def test_extension_real_server_not_found(client: RelayClient) -> None:
    """On Relay Local an unknown dataset is a NotFound, never a NotSupported."""
    with pytest.raises(errors.NotFound):
        client.audio.get("00000000-0000-0000-0000-000000000000",
                         "00000000-0000-0000-0000-000000000001")


def test_ids_cannot_change_the_path(fault: FaultServer, fault_client: RelayClient) -> None:
    with pytest.raises(errors.NotFound):
        fault_client.datasets.get("../../x?y")
    assert fault.records[-1].path == "/api/v1/datasets/..%2F..%2Fx%3Fy"
