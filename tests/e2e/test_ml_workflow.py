"""The whole machine-learning workflow through the client library, on a real server.

Create a dataset, upload generated speech with injected artifacts (the demo
recordings: espeak-ng voices with clicks, glitches and long pauses put in by
scripts/make_demo_audio.py, their positions in resources/demo/manifest.json),
wait until it is processed, label it in a draft with one bulk call, publish,
train a detector, then run it over recordings it never saw and check that the
injected long pauses are found with sensible boundaries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from relay_desktop.api import RelayClient
from relay_desktop.api.models import InferenceJob, TrainingJob
from tests.support.inference_model import DEMO_DIR, demo_manifest
from tests.support.live_server import LiveServer

TRAIN = 8  # recordings 1-8 (5.8 minutes: over the 5 minutes training needs) train; 9-10 are new
EDGE_TOLERANCE_MS = 150
T = TypeVar("T")


def poll(fetch: Callable[[], T], done: Callable[[T], bool], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return min(a[1], b[1]) - max(a[0], b[0])


@pytest.mark.slow
def test_label_train_and_detect_long_pauses(fresh_server: LiveServer) -> None:
    manifest = demo_manifest()
    train, new = manifest[:TRAIN], manifest[TRAIN:]
    with RelayClient(fresh_server.base_url, fresh_server.api_key,
                     timeout=(5.0, 60.0)) as client:
        dataset = client.datasets.create("Generated speech", [
            {"name": "glitch"}, {"name": "long_pause"}, {"name": "click"}])
        audio_ids = {e["filename"]: client.audio.upload(dataset.id, DEMO_DIR / e["filename"])
                     .audio_id for e in train}
        for audio_id in audio_ids.values():
            audio = poll(lambda a=audio_id: client.audio.get(dataset.id, a),  # type: ignore[misc]
                         lambda a: a.processing_status in ("ready", "failed"), 120)
            assert audio.processing_status == "ready", audio.error_message

        draft = client.annotation_sets.create(dataset.id)
        labels: list[dict[str, Any]] = [
            {"audio_file_id": audio_ids[e["filename"]], "artifact_type": a["artifact_type"],
             "start_ms": a["start_ms"], "end_ms": a["end_ms"]}
            for e in train for a in e["annotations"]]
        created = client.annotations.bulk_create(dataset.id, draft.id, labels)
        assert created.created == len(labels)
        published = client.annotation_sets.publish(dataset.id, draft.id)
        assert published.status == "published" and published.total_annotations == len(labels)

        training = client.training_jobs.create(dataset.id, published.id, {
            "artifact_types": ["glitch", "long_pause", "click"], "epochs": 4})
        trained: TrainingJob = poll(lambda: client.training_jobs.get(training.id),
                                    lambda j: j.is_terminal, 300)
        assert trained.status == "completed", trained.error_message
        assert trained.model_id is not None
        model = client.models.get(trained.model_id)
        assert set(model.artifact_types) == {"glitch", "long_pause", "click"}
        assert "long_pause" in model.eval_metrics["per_class"]

        job = client.inference_jobs.create(model.id, {"threshold": 0.5, "merge_window_ms": 200,
                                                      "min_duration_ms": 500})
        for entry in new:
            client.inference_jobs.upload_file(job.id, DEMO_DIR / entry["filename"])
        done: InferenceJob = poll(lambda: client.inference_jobs.get(job.id),
                                  lambda j: j.is_terminal, 120)
        assert done.status == "completed", done.error_message
        assert (done.total_files, done.processed_files, done.failed_files) == (len(new),
                                                                               len(new), 0)
        assert done.total_detections == sum(f.detection_count for f in done.files)

        by_name = {f.original_filename: f for f in done.files}
        for entry in new:
            result = by_name[entry["filename"]]
            assert result.status == "completed" and result.detections is not None
            assert abs((result.duration_ms or 0) - entry["duration_ms"]) <= 50
            found = [(d.start_ms, d.end_ms) for d in result.detections
                     if d.artifact_type == "long_pause"]
            for a in entry["annotations"]:
                if a["artifact_type"] != "long_pause":
                    continue
                truth = (a["start_ms"], a["end_ms"])
                hits = [d for d in found if overlap(d, truth) > 0]
                assert hits, f"{entry['filename']}: the pause at {truth} was not found ({found})"
                best = max(hits, key=lambda d: overlap(d, truth))
                assert abs(best[0] - truth[0]) <= EDGE_TOLERANCE_MS, (truth, best)
                assert abs(best[1] - truth[1]) <= EDGE_TOLERANCE_MS, (truth, best)
