"""The content hash extension: processing stores each upload's SHA-256; the list filters on it."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sqlalchemy import Engine

from tests.server.conftest import Api, add_audio
from tests.server.test_audio_upload import make_audio, upload, wait_processed


def _list(api: Api, dataset_id: str, **params: Any) -> Any:
    return api.get(f"/api/v1/datasets/{dataset_id}/audio", params=params)


def test_processing_stores_the_sha256_and_the_list_filters_on_it(
        api: Api, dataset: dict[str, Any]) -> None:
    first, second = make_audio(0.5), make_audio(0.7)
    a = upload(api, dataset["id"], first, "a.wav")
    b = upload(api, dataset["id"], second, "b.wav")
    copy = upload(api, dataset["id"], first, "copy of a.wav")
    done = {i: wait_processed(api, dataset["id"], i) for i in (a, b, copy)}
    assert {d["processing_status"] for d in done.values()} == {"ready"}
    digest = hashlib.sha256(first).hexdigest()
    assert done[a]["content_sha256"] == digest
    assert done[copy]["content_sha256"] == digest
    assert done[b]["content_sha256"] == hashlib.sha256(second).hexdigest()

    r = _list(api, dataset["id"], content_sha256=digest.upper())
    assert r.status_code == 200, r.text
    assert sorted(i["id"] for i in r.json()["items"]) == sorted([a, copy])
    assert r.json()["total"] == 2
    none = _list(api, dataset["id"], content_sha256="0" * 64).json()
    assert none["items"] == [] and none["total"] == 0


def test_a_failed_file_still_gets_its_hash(api: Api, dataset: dict[str, Any]) -> None:
    data = b"plain text, not audio\n" * 50
    audio_id = upload(api, dataset["id"], data, "notes.wav")
    item = wait_processed(api, dataset["id"], audio_id)
    assert item["processing_status"] == "failed"
    assert item["content_sha256"] == hashlib.sha256(data).hexdigest()


def test_files_without_a_hash_show_null(api: Api, server_db: Engine,
                                        dataset: dict[str, Any]) -> None:
    [old] = add_audio(server_db, dataset["id"], 1)
    item = api.get(f"/api/v1/datasets/{dataset['id']}/audio/{old}").json()
    assert item["content_sha256"] is None
    unconfirmed = upload(api, dataset["id"], make_audio(0.2), confirm=False)
    listed = {i["id"]: i for i in _list(api, dataset["id"]).json()["items"]}
    assert listed[unconfirmed]["content_sha256"] is None


def test_malformed_hash_filter_is_422_at_the_query(api: Api, dataset: dict[str, Any]) -> None:
    for bad in ("abc", "g" * 64, "0" * 65):
        r = _list(api, dataset["id"], content_sha256=bad)
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["query", "content_sha256"]


def test_the_filter_never_shows_another_tenants_files(api: Api, other_api: Api,
                                                      dataset: dict[str, Any]) -> None:
    data = make_audio(0.3)
    mine = upload(api, dataset["id"], data, "mine.wav")
    wait_processed(api, dataset["id"], mine)
    theirs = other_api.new_dataset(f"other-{uuid.uuid4().hex[:6]}")
    r = _list(other_api, dataset["id"], content_sha256=hashlib.sha256(data).hexdigest())
    assert r.status_code == 404
    r = _list(other_api, theirs["id"], content_sha256=hashlib.sha256(data).hexdigest())
    assert r.status_code == 200 and r.json()["items"] == []
