"""A trainable dataset on a live server, built over HTTP the way a user builds one.

The demo recordings shipped in ``resources/demo`` (about 7 minutes, with the
injected artifacts of their manifest as labels) are uploaded with the real
three-step flow, processed by the server, labelled with one bulk request and
published. :func:`trainable_dataset` does it once per server and tenant.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from resources import resource_path

DEMO_TYPES = ("glitch", "long_pause", "click")


@dataclass(frozen=True)
class Trainable:
    """A dataset whose published set meets every training precondition."""

    dataset_id: str
    annotation_set_id: str
    set_version: int
    dataset_name: str
    audio_ids: tuple[str, ...]


_CACHE: dict[tuple[str, str], Trainable] = {}


def trainable_dataset(base_url: str, api_key: str, name: str = "Trainable demo") -> Trainable:
    """The demo recordings as a published, trainable dataset (made once per server+key)."""
    cached = _CACHE.get((base_url, api_key))
    if cached is None:
        cached = _CACHE[(base_url, api_key)] = build_trainable(base_url, api_key, name)
    return cached


def _call(session: requests.Session, method: str, url: str, expect: int,
          **kwargs: Any) -> Any:
    r = session.request(method, url, timeout=60, **kwargs)
    assert r.status_code == expect, f"{method} {url}: {r.status_code} {r.text}"
    return r.json() if r.content else None


def build_trainable(base_url: str, api_key: str, name: str,
                    timeout_s: float = 300.0) -> Trainable:
    """Upload, process, label and publish the demo recordings; return the ids."""
    folder = resource_path("demo")
    manifest = json.loads((folder / "manifest.json").read_text())
    api = base_url + "/api/v1"
    with requests.Session() as s:
        s.headers["X-API-Key"] = api_key
        dataset = _call(s, "POST", f"{api}/datasets", 201, json={
            "name": name, "artifact_types": [{"name": t} for t in DEMO_TYPES]})
        ds = dataset["id"]
        audio_by_name: dict[str, str] = {}
        for entry in manifest["files"]:
            audio_by_name[entry["filename"]] = _upload(s, api, ds, folder / entry["filename"])
        deadline = time.monotonic() + timeout_s
        for audio_id in audio_by_name.values():
            while True:
                item = _call(s, "GET", f"{api}/datasets/{ds}/audio/{audio_id}", 200)
                if item["processing_status"] == "ready":
                    break
                assert item["processing_status"] != "failed", item
                assert time.monotonic() < deadline, f"processing took over {timeout_s} s"
                time.sleep(0.2)
        labelled = _call(s, "POST", f"{api}/datasets/{ds}/annotation-sets", 201)
        annotations = [
            {"audio_file_id": audio_by_name[entry["filename"]], "artifact_type":
             a["artifact_type"], "start_ms": a["start_ms"], "end_ms": a["end_ms"]}
            for entry in manifest["files"] for a in entry["annotations"]]
        set_url = f"{api}/datasets/{ds}/annotation-sets/{labelled['id']}"
        _call(s, "POST", f"{set_url}/annotations/bulk", 201, json={"annotations": annotations})
        _call(s, "POST", f"{set_url}/publish", 200)
    return Trainable(dataset_id=ds, annotation_set_id=labelled["id"],
                     set_version=int(labelled["version"]), dataset_name=name,
                     audio_ids=tuple(audio_by_name.values()))


def _upload(s: requests.Session, api: str, dataset_id: str, path: Path) -> str:
    data = path.read_bytes()
    ticket = _call(s, "POST", f"{api}/datasets/{dataset_id}/audio/upload-url", 201, json={
        "filename": path.name, "content_type": "audio/ogg", "file_size": len(data)})
    stored = requests.post(ticket["upload_url"], data=ticket["fields"],
                           files={"file": (path.name, data, "audio/ogg")}, timeout=60)
    assert stored.status_code == 204, stored.text
    _call(s, "POST", f"{api}/datasets/{dataset_id}/audio/confirm", 200,
          json={"audio_id": ticket["audio_id"]})
    return str(ticket["audio_id"])


def wait_for_job(session: requests.Session, base_url: str, job_id: str,
                 statuses: tuple[str, ...] = ("completed", "failed", "cancelled"),
                 timeout_s: float = 300.0, poll_s: float = 0.1) -> dict[str, Any]:
    """Poll a training job until its status is one of ``statuses``; return it."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = session.get(f"{base_url}/api/v1/training-jobs/{job_id}", timeout=30)
        assert r.status_code == 200, r.text
        job: dict[str, Any] = r.json()
        if job["status"] in statuses:
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {timeout_s} s"
        time.sleep(poll_s)
