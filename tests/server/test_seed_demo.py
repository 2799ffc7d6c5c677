"""``relay-server seed-demo``: the shipped demo audio becomes a ready, annotated dataset, once."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import soundfile as sf

from relay_server.demo import DEMO_NAME, HELDOUT_NAME, demo_dir, load_manifest
from tests.server.conftest import Api
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def _seed(server: LiveServer, tenant: str = "default") -> str:
    out = subprocess.run(
        [sys.executable, "-m", "relay_server", "seed-demo", "--data-dir", str(server.data_dir),
         "--tenant", tenant],
        env=server.env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout.strip().splitlines()[-1].rsplit(" ", 1)[-1]


def test_shipped_demo_audio_is_compact_real_speech() -> None:
    manifest = load_manifest()
    files = manifest["files"]
    assert 8 <= len(files) <= 12
    total_s = 0.0
    size = 0
    for entry in files:
        info = sf.info(str(demo_dir() / entry["filename"]))
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "OGG")
        assert 30 <= info.duration <= 60
        assert abs(info.duration * 1000 - entry["duration_ms"]) < 50
        total_s += info.duration
        size += (demo_dir() / entry["filename"]).stat().st_size
        for item in entry["annotations"]:
            assert 0 <= item["start_ms"] < item["end_ms"] <= entry["duration_ms"]
    assert total_s >= 360 and size < 6_000_000
    kinds = Counter(a["artifact_type"] for e in files for a in e["annotations"])
    assert set(kinds) == {"glitch", "long_pause", "click"} and min(kinds.values()) >= 8
    types = manifest["artifact_types"]
    assert [t["name"] for t in types] == ["glitch", "long_pause", "click"]
    assert len({t["color"] for t in types}) == 3 and all(t["description"] for t in types)
    pauses = [a for e in files for a in e["annotations"] if a["artifact_type"] == "long_pause"]
    assert all(a["end_ms"] - a["start_ms"] > 1000 for a in pauses)


def test_seed_demo_is_idempotent_and_ready(fresh_server: LiveServer) -> None:
    first = _seed(fresh_server)
    second = _seed(fresh_server)
    assert first == second

    api = Api(fresh_server.base_url, fresh_server.api_key)
    datasets = [d for d in api.get("/api/v1/datasets", params={"page_size": 100}).json()["items"]
                if d["name"] == DEMO_NAME]
    assert [d["id"] for d in datasets] == [first]
    dataset = api.get(f"/api/v1/datasets/{first}").json()
    assert [t["name"] for t in dataset["artifact_types"]] == ["glitch", "long_pause", "click"]

    manifest = load_manifest()
    audio = api.get(f"/api/v1/datasets/{first}/audio", params={"page_size": 100}).json()
    assert audio["total"] == len(manifest["files"])
    assert {a["processing_status"] for a in audio["items"]} == {"ready"}
    assert sum(a["duration_ms"] for a in audio["items"]) >= 360_000
    assert {(a["sample_rate"], a["channels"]) for a in audio["items"]} == {(16000, 1)}

    sets = api.get(f"/api/v1/datasets/{first}/annotation-sets").json()["items"]
    # only the ground truth: no empty draft the user did not make
    assert sorted((s["version"], s["status"]) for s in sets) == [(1, "published")]
    truth = next(s for s in sets if s["version"] == 1)
    expected = Counter(a["artifact_type"] for e in manifest["files"] for a in e["annotations"])
    assert truth["total_annotations"] == sum(expected.values())
    assert truth["annotations_by_type"] == dict(expected)
    assert truth["total_positive_duration_ms"] > 0 and truth["published_at"]
    detail = api.get(f"/api/v1/datasets/{first}/annotation-sets/{truth['id']}").json()
    by_name = {a["filename"]: a for a in audio["items"]}
    first_file = manifest["files"][0]
    mine = sorted((a["artifact_type"], a["start_ms"], a["end_ms"]) for a in detail["annotations"]
                  if a["audio_file_id"] == by_name[first_file["filename"]]["id"])
    assert mine == sorted((a["artifact_type"], a["start_ms"], a["end_ms"])
                          for a in first_file["annotations"])

    link = api.get(f"/api/v1/datasets/{first}/audio/"
                   f"{by_name[first_file['filename']]['id']}/download-url").json()
    body = requests.get(link["download_url"], timeout=30).content
    assert body == (demo_dir() / first_file["filename"]).read_bytes()

    (heldout,) = [d for d in api.get("/api/v1/datasets", params={"page_size": 100}
                                     ).json()["items"] if d["name"] == HELDOUT_NAME]
    held = api.get(f"/api/v1/datasets/{heldout['id']}/audio").json()["items"]
    assert sorted(a["filename"] for a in held) == sorted(
        e["filename"] for e in manifest["heldout_files"])
    assert {a["processing_status"] for a in held} == {"ready"}
    (held_truth,) = api.get(f"/api/v1/datasets/{heldout['id']}/annotation-sets").json()["items"]
    assert (held_truth["version"], held_truth["status"]) == (1, "published")
    assert held_truth["total_annotations"] == sum(
        len(e["annotations"]) for e in manifest["heldout_files"])

    other = _seed(fresh_server, "someone-else")  # another tenant gets a dataset of its own
    assert other != first
    api.close()


def test_heldout_recordings_use_other_voices_and_texts() -> None:
    manifest = load_manifest()
    heldout = manifest["heldout_files"]
    assert len(heldout) == 2
    names = {e["filename"] for e in manifest["files"]}
    sentences = {s.strip() for e in manifest["files"] for s in e["text"].split(". ")}
    size = 0
    for entry in heldout:
        assert entry["filename"] not in names
        assert entry["voice"] not in {e["voice"] for e in manifest["files"]}
        assert not sentences & {s.strip() for s in entry["text"].split(". ")}
        info = sf.info(str(demo_dir() / entry["filename"]))
        assert (info.samplerate, info.channels, info.format) == (16000, 1, "OGG")
        assert abs(info.duration * 1000 - entry["duration_ms"]) < 50
        size += (demo_dir() / entry["filename"]).stat().st_size
        for item in entry["annotations"]:
            assert 0 <= item["start_ms"] < item["end_ms"] <= entry["duration_ms"]
    assert size < 700_000
    kinds = Counter(a["artifact_type"] for e in heldout for a in e["annotations"])
    assert set(kinds) == {"glitch", "long_pause", "click"}


def _wait(what: str, check: Callable[[], Any], server: LiveServer, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{server.log_tail()}")


def test_seed_demo_trains_a_model_and_detects_on_heldout_audio_once(
        fresh_server: LiveServer) -> None:
    dataset_id = _seed(fresh_server)
    api = Api(fresh_server.base_url, fresh_server.api_key)
    try:
        jobs = api.get("/api/v1/training-jobs", params={"dataset_id": dataset_id}).json()["items"]
        assert len(jobs) == 1
        job = jobs[0]
        assert sorted(job["config"]["artifact_types"]) == ["click", "glitch", "long_pause"]
        assert job["status"] in ("queued", "training")
        assert _seed(fresh_server) == dataset_id  # a second seed while it trains adds nothing

        done = _wait("the demo training job", lambda: (j := api.get(
            f"/api/v1/training-jobs/{job['id']}").json())["status"] in (
            "completed", "failed", "cancelled") and j, fresh_server, 300)
        assert done["status"] == "completed", done
        model = api.get(f"/api/v1/models/{done['model_id']}").json()
        assert model["eval_metrics"]["per_class"]

        heldout = {e["filename"] for e in load_manifest()["heldout_files"]}

        def demo_inference() -> dict[str, Any] | None:
            items = api.get("/api/v1/inference-jobs").json()["items"]
            if not items:
                return None
            assert len(items) == 1
            found: dict[str, Any] = api.get(f"/api/v1/inference-jobs/{items[0]['id']}").json()
            return found if found["status"] in ("completed", "failed") else None

        inference = _wait("the demo inference job", demo_inference, fresh_server, 120)
        assert inference["model_id"] == done["model_id"]
        assert inference["status"] == "completed", inference
        assert {f["original_filename"] for f in inference["files"]} == heldout
        (held_ds,) = [d["id"] for d in api.get("/api/v1/datasets").json()["items"]
                      if d["name"] == HELDOUT_NAME]
        # taken from the held-out dataset, so they can be reviewed and evaluated there
        assert {f["source_dataset_id"] for f in inference["files"]} == {held_ds}
        assert {f["status"] for f in inference["files"]} == {"completed"}
        assert inference["total_detections"] > 0

        assert _seed(fresh_server) == dataset_id  # seeding again now creates nothing either
        time.sleep(2)
        assert len(api.get("/api/v1/training-jobs").json()["items"]) == 1
        assert len(api.get("/api/v1/inference-jobs").json()["items"]) == 1
    finally:
        api.close()


def test_manifest_is_valid_json_next_to_the_audio() -> None:
    raw = (Path(demo_dir()) / "manifest.json").read_text()
    assert json.loads(raw)["name"] == DEMO_NAME
