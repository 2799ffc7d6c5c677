"""The API key goes only to the API's own origin, never into logs or reprs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from relay_desktop.api import RelayClient, errors
from relay_desktop.api.redact import SecretRedactingFilter
from tests.support.fault_server import FaultServer, Reply

LIST = "/api/v1/datasets"
PAGE = {"items": [], "total": 0, "page": 1, "page_size": 20, "has_more": False}
KEY = "relay-secret-key-0123456789"


def test_key_sent_to_api(fault: FaultServer) -> None:
    fault.script("GET", LIST, Reply(200, json=PAGE))
    with RelayClient(fault.url, KEY) as c:
        c.datasets.list()
    assert fault.records[0].header("X-API-Key") == KEY


def test_same_origin_redirect_keeps_key(fault: FaultServer) -> None:
    fault.script("GET", LIST, Reply.redirect(fault.url + "/api/v1/datasets2"))
    fault.script("GET", "/api/v1/datasets2", Reply(200, json=PAGE))
    with RelayClient(fault.url, KEY) as c:
        c.datasets.list()
    assert [r.header("X-API-Key") for r in fault.records] == [KEY, KEY]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_cross_port_redirect_drops_key(fault: FaultServer, other_host: FaultServer,
                                       status: int) -> None:
    fault.script("GET", LIST, Reply.redirect(other_host.url + LIST + "?page=1", status))
    other_host.script("GET", LIST, Reply(200, json=PAGE))
    with RelayClient(fault.url, KEY) as c:
        c.datasets.list()
    assert fault.records[0].header("X-API-Key") == KEY
    (hop,) = other_host.records
    assert hop.header("X-API-Key") is None
    assert KEY not in str(hop.headers) and KEY.encode() not in hop.body


def test_cross_host_redirect_drops_key(fault: FaultServer) -> None:
    """localhost and 127.0.0.1 are different hosts to the client, even on one port."""
    fault.script("GET", LIST, Reply.redirect(f"http://localhost:{fault.port}/elsewhere"))
    fault.script("GET", "/elsewhere", Reply(200, json=PAGE))
    with RelayClient(fault.url, KEY) as c:
        c.datasets.list()
    first, hop = fault.records
    assert first.header("X-API-Key") == KEY
    assert hop.path == "/elsewhere" and hop.header("X-API-Key") is None


def test_post_303_redirect_becomes_get_without_body(fault: FaultServer,
                                                    other_host: FaultServer) -> None:
    fault.script("POST", LIST, Reply.redirect(other_host.url + "/created", 303))
    other_host.script("GET", "/created", Reply(200, json={"id": "d", "name": "n"}))
    with RelayClient(fault.url, KEY) as c:
        assert c.datasets.create("n").id == "d"
    (hop,) = other_host.records
    assert hop.method == "GET" and hop.body == b"" and hop.header("X-API-Key") is None


def test_redirect_loop_is_an_error(fault: FaultServer) -> None:
    fault.script("GET", LIST, Reply.redirect(fault.url + LIST))
    with RelayClient(fault.url, KEY) as c, pytest.raises(errors.ApiConnectionError,
                                                         match="redirected"):
        c.datasets.list()


def test_key_never_sent_to_storage(fault: FaultServer, other_host: FaultServer,
                                   tmp_path: Path) -> None:
    """Storage on another port (S3-like) and storage on the API's own origin (Relay Local)."""
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"RIFF" + b"\0" * 1000)
    for storage in (other_host, fault):
        target = storage.sink("/storage/upload")
        fault.script("POST", "/api/v1/datasets/d/audio/upload-url", Reply(200, json={
            "upload_url": target, "fields": {"key": "k/a.wav", "policy": "p"},
            "key": "k/a.wav", "expires_in": 3600, "audio_id": "a1"}))
        fault.script("POST", "/api/v1/datasets/d/audio/confirm", Reply(200, json={
            "audio_id": "a1", "status": "pending", "message": "queued"}))
        with RelayClient(fault.url, KEY) as c:
            assert c.audio.upload("d", audio).audio_id == "a1"
        (upload,) = storage.requests_to("POST", "/storage/upload")
        assert upload.header("X-API-Key") is None
        assert KEY.encode() not in upload.headers.__repr__().encode()
    api_calls = fault.requests_to(path="/api/v1/datasets/d/audio/upload-url")
    assert all(r.header("X-API-Key") == KEY for r in api_calls)


def test_repr_hides_key() -> None:
    c = RelayClient("http://127.0.0.1:1", KEY)
    assert KEY not in repr(c) and KEY not in repr(c.datasets) and KEY not in str(vars(c.session))
    c.close()


def test_key_redacted_from_the_library_log_records(fault: FaultServer,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    fault.script("GET", LIST, Reply(200, json=PAGE))
    with caplog.at_level(logging.DEBUG), RelayClient(fault.url, KEY) as c:
        c.datasets.list()
        logging.getLogger("relay_desktop.api.client").warning("key is %s", KEY)
        logging.getLogger("relay_desktop.api").error("headers: {'X-API-Key': 'other-secret'}")
        logging.getLogger("urllib3.connectionpool").debug(f"sent {KEY}")
    assert caplog.records
    assert KEY not in caplog.text
    assert "other-secret" not in caplog.text
    assert caplog.text.count("***") == 3


def test_the_library_changes_no_process_wide_logging_state(fault: FaultServer) -> None:
    """Importing and using the client leaves the record factory and foreign loggers alone."""
    factory = logging.getLogRecordFactory()
    foreign = logging.getLogger("someone.elses.app")
    with RelayClient(fault.url, KEY):
        pass
    assert logging.getLogRecordFactory() is factory
    assert not foreign.filters and not logging.getLogger().filters


def test_filter_redacts_on_any_handler() -> None:
    filt = SecretRedactingFilter()
    filt.add_secret("abcd1234")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "k=%s", ("abcd1234",), None)
    assert filt.filter(record)
    assert record.getMessage() == "k=***"


def test_tls_verification_stays_on() -> None:
    with RelayClient("https://127.0.0.1:1", KEY) as c:
        assert c.session.verify is True
