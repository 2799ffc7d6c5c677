"""A signed upload cannot be replayed once its file is confirmed.

A presigned POST is valid until it expires; before confirm, posting it again is
a retry (the answer to the first POST may have been lost) and must work. After
confirm the server has processed what it received, so a replay would swap the
bytes under a finished file (or an inference file's detections): the storage
endpoint refuses it as S3 refuses a bad policy, and the stored object is unchanged.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.server.conftest import Api
from tests.server.test_audio_upload import (
    make_audio,
    object_path,
    request_upload,
    storage_post,
    wait_processed,
)
from tests.server.test_inference_jobs import new_job, ticket_for
from tests.support.inference_model import install_model
from tests.support.live_server import LiveServer

ORIGINAL = make_audio(0.5)
SWAPPED = make_audio(0.5, 44_100, 2, "WAV")[:44] + bytes(len(ORIGINAL) - 44)


def _assert_replay_refused(reply: Any) -> None:
    assert reply.status_code == 403, reply.text
    assert reply.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in reply.text
    assert "already" in reply.text and "new upload URL" in reply.text


def test_a_retry_before_confirm_is_accepted(api: Api, relay_server: LiveServer,
                                            dataset: dict[str, Any]) -> None:
    ticket = request_upload(api, dataset["id"], "retry.wav", len(ORIGINAL))
    assert storage_post(ticket, SWAPPED).status_code == 204
    assert storage_post(ticket, ORIGINAL).status_code == 204  # the retry replaces it
    assert object_path(relay_server, ticket["key"]).read_bytes() == ORIGINAL


def test_dataset_audio_cannot_be_replaced_after_confirm(api: Api, relay_server: LiveServer,
                                                        dataset: dict[str, Any]) -> None:
    ticket = request_upload(api, dataset["id"], "sealed.wav", len(ORIGINAL))
    assert storage_post(ticket, ORIGINAL).status_code == 204
    confirm = api.post(f"/api/v1/datasets/{dataset['id']}/audio/confirm",
                       json={"audio_id": ticket["audio_id"]})
    assert confirm.status_code == 200, confirm.text
    assert wait_processed(api, dataset["id"], ticket["audio_id"])["processing_status"] == "ready"

    _assert_replay_refused(storage_post(ticket, SWAPPED))
    assert object_path(relay_server, ticket["key"]).read_bytes() == ORIGINAL


@pytest.fixture(scope="module")
def model_id(relay_server: LiveServer) -> str:
    return install_model(relay_server, relay_server.api_key)


def test_inference_audio_cannot_be_replaced_after_confirm(api: Api, relay_server: LiveServer,
                                                          model_id: str) -> None:
    job = new_job(api, model_id)
    ticket = ticket_for(api, job["id"], "sealed.wav", len(ORIGINAL))
    post = {"upload_url": ticket["upload_url"], "fields": ticket["upload_fields"]}
    assert storage_post(post, ORIGINAL).status_code == 204
    confirm = api.post(f"/api/v1/inference-jobs/{job['id']}/files/confirm",
                       json={"file_id": ticket["file_id"]})
    assert confirm.status_code == 200, confirm.text

    _assert_replay_refused(storage_post(post, SWAPPED))
    key = ticket["upload_fields"]["key"]
    assert object_path(relay_server, key).read_bytes() == ORIGINAL
