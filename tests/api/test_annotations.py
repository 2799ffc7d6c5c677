"""Annotation sets and annotations against the real Relay Local."""

from __future__ import annotations

from pathlib import Path

import pytest

from relay_desktop.api import RelayClient, errors
from relay_desktop.api.models import AnnotationCreate, AnnotationSetDetail
from tests.api.conftest import unique


@pytest.fixture
def dataset_with_audio(client: RelayClient, wav: Path) -> tuple[str, str]:
    ds = client.datasets.create(unique("ann"), ["glitch", "long_pause"])
    conf = client.audio.upload(ds.id, wav)
    return ds.id, conf.audio_id


def test_set_lifecycle_and_annotation_crud(client: RelayClient,
                                           dataset_with_audio: tuple[str, str]) -> None:
    ds, audio = dataset_with_audio
    draft = client.annotation_sets.create(ds)
    assert draft.status == "draft" and draft.version == 1 and draft.published_at is None
    one = client.annotations.create(ds, draft.id, AnnotationCreate(audio, "glitch", 100, 250,
                                                                   0.9, {"note": "pop"}))
    assert (one.artifact_type, one.start_ms, one.end_ms, one.confidence) == (
        "glitch", 100, 250, 0.9)
    assert one.extra_data == {"note": "pop"} and one.annotation_set_id == draft.id
    bulk = client.annotations.bulk_create(ds, draft.id, [
        {"audio_file_id": audio, "artifact_type": "long_pause", "start_ms": 300, "end_ms": 900},
        AnnotationCreate(audio, "glitch", 950, 960)])
    assert bulk.created == 2 and len(bulk.annotations) == 2
    moved = client.annotations.update(ds, draft.id, one.id, start_ms=120, end_ms=260)
    assert (moved.id, moved.start_ms, moved.end_ms) == (one.id, 120, 260)
    client.annotations.delete(ds, draft.id, bulk.annotations[1].id)

    detail = client.annotation_sets.get(ds, draft.id)
    assert isinstance(detail, AnnotationSetDetail)
    assert sorted((a.artifact_type, a.start_ms, a.end_ms) for a in detail.annotations) == [
        ("glitch", 120, 260), ("long_pause", 300, 900)]

    published = client.annotation_sets.publish(ds, draft.id)
    assert published.status == "published" and published.published_at is not None
    assert published.total_annotations == 2
    assert published.total_positive_duration_ms == 140 + 600
    with pytest.raises(errors.ApiStatusError) as info:
        client.annotations.create(ds, draft.id, AnnotationCreate(audio, "glitch", 0, 10))
    assert info.value.status_code in (400, 409)

    second = client.annotation_sets.create(ds)
    assert second.version == 2
    sets = client.annotation_sets.list(ds)
    assert [s.version for s in sets.items] == [1, 2] and sets.total == 2
    assert [s.id for s in client.annotation_sets.iter_items(ds)] == [draft.id, second.id]


def test_annotation_validation_errors(client: RelayClient,
                                      dataset_with_audio: tuple[str, str]) -> None:
    ds, audio = dataset_with_audio
    draft = client.annotation_sets.create(ds)
    with pytest.raises(errors.ValidationFailed) as info:
        client.annotations.create(ds, draft.id, {"audio_file_id": audio,
                                                 "artifact_type": "glitch",
                                                 "start_ms": -5, "end_ms": 10})
    assert any("start_ms" in f.loc for f in info.value.errors)
    with pytest.raises(errors.ApiStatusError) as bad_type:
        client.annotations.create(ds, draft.id, AnnotationCreate(audio, "not-a-type", 0, 10))
    assert bad_type.value.status_code in (400, 422)
    with pytest.raises(TypeError):
        client.annotations.update(ds, draft.id, "x", colour="red")
    with pytest.raises(errors.NotFound):
        client.annotation_sets.get(ds, "00000000-0000-0000-0000-000000000000")
