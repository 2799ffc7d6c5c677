"""Training jobs, models and inference jobs: method, path and body shape on the wire,
and typed parsing of the documented responses (Relay Local serves these later)."""

from __future__ import annotations

from typing import Any

from relay_desktop.api import RelayClient
from tests.support.fault_server import FaultServer, Reply

JOB = {"id": "t1", "dataset_id": "d", "annotation_set_id": "s", "status": "queued",
       "config": {"artifact_types": ["glitch"], "epochs": 20}, "error_message": None,
       "model_id": None, "created_at": "2024-01-15T10:30:00Z", "started_at": None,
       "completed_at": None, "unknown_future_field": 1}
MODEL = {"id": "m1", "name": None, "description": None, "artifact_types": ["glitch"],
         "training_job_id": "t1", "is_active": True, "created_at": "2024-01-15T10:30:00Z",
         "eval_metrics": {"precision": 0.9, "recall": 0.8, "f1_score": 0.85,
                          "per_class": {"glitch": {"precision": 0.9, "support": 3}}}}
IFILE = {"id": "f1", "inference_job_id": "i1", "original_filename": "x.wav", "s3_key": "k",
         "duration_ms": 1000, "status": "completed", "error_message": None,
         "detections": [{"artifact_type": "glitch", "start_ms": 1200, "end_ms": 1450,
                         "confidence": 0.87}], "detection_count": 1,
         "processed_at": "2024-01-15T10:31:00+00:00"}
IJOB = {"id": "i1", "tenant_id": "t", "model_id": "m1", "config": {"threshold": 0.5},
        "status": "processing", "total_files": 1, "processed_files": 1, "failed_files": 0,
        "total_detections": 1, "error_message": None, "created_at": "2024-01-15T10:30:00Z",
        "started_at": "2024-01-15T10:30:01Z", "completed_at": None, "files": [IFILE]}


def page(*items: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(items), "total": len(items), "page": 1, "page_size": 20,
            "has_more": False}


def test_training_jobs(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("POST", "/api/v1/training-jobs", Reply(201, json=JOB))
    fault.script("GET", "/api/v1/training-jobs", Reply(200, json=page(JOB)))
    fault.script("GET", "/api/v1/training-jobs/t1", Reply(200, json={**JOB, "status": "completed",
                                                                     "model_id": "m1"}))
    fault.script("POST", "/api/v1/training-jobs/t1/cancel",
                 Reply(200, json={**JOB, "status": "cancelled"}))
    job = fault_client.training_jobs.create("d", "s", {"artifact_types": ["glitch"], "epochs": 5})
    assert job.id == "t1" and job.status == "queued" and not job.is_terminal
    assert fault.records[-1].json() == {"dataset_id": "d", "annotation_set_id": "s",
                                        "config": {"artifact_types": ["glitch"], "epochs": 5}}
    assert [j.id for j in fault_client.training_jobs.list(status="queued").items] == ["t1"]
    assert fault.records[-1].query["status"] == ["queued"]
    done = fault_client.training_jobs.get("t1")
    assert done.is_terminal and done.model_id == "m1"
    assert fault_client.training_jobs.cancel("t1").status == "cancelled"
    assert fault.records[-1].method == "POST" and fault.records[-1].body == b""


def test_models(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("GET", "/api/v1/models", Reply(200, json={"items": [MODEL]}))
    fault.script("GET", "/api/v1/models/m1", Reply(200, json=MODEL))
    models = list(fault_client.models.iter_items(is_active=True))
    assert fault.records[0].query["is_active"] == ["true"]
    assert models[0].artifact_types == ("glitch",) and models[0].eval_metrics["f1_score"] == 0.85
    m = fault_client.models.get("m1")
    assert m.training_job_id == "t1" and m.is_active and m.name is None


def test_inference_jobs(fault: FaultServer, fault_client: RelayClient) -> None:
    fault.script("POST", "/api/v1/inference-jobs", Reply(200, json={**IJOB, "files": []}))
    fault.script("GET", "/api/v1/inference-jobs", Reply(200, json=page(IJOB)))
    fault.script("GET", "/api/v1/inference-jobs/i1", Reply(200, json=IJOB))
    fault.script("POST", "/api/v1/inference-jobs/i1/cancel",
                 Reply(200, json={**IJOB, "status": "cancelled"}))
    fault.script("GET", "/api/v1/inference-jobs/i1/files/f1", Reply(200, json=IFILE))
    fault.script("GET", "/api/v1/inference-jobs/i1/files/f1/download-url",
                 Reply(200, json={"download_url": "http://s/x", "expires_in": 60}))
    job = fault_client.inference_jobs.create("m1", {"threshold": 0.7, "merge_window_ms": 100})
    assert fault.records[-1].json() == {"model_id": "m1",
                                        "config": {"threshold": 0.7, "merge_window_ms": 100}}
    assert job.files == ()
    fault_client.inference_jobs.create("m1")
    assert fault.records[-1].json() == {"model_id": "m1"}
    assert fault_client.inference_jobs.list().items[0].total_detections == 1
    detail = fault_client.inference_jobs.get("i1")
    (f,) = detail.files
    assert f.detections is not None and f.detections[0].start_ms == 1200
    assert f.processed_at is not None and f.processed_at.tzinfo is not None
    assert fault_client.inference_jobs.cancel("i1").is_terminal
    assert fault_client.inference_jobs.get_file("i1", "f1").detection_count == 1
    link = fault_client.inference_jobs.file_download_url("i1", "f1")
    assert link.download_url == "http://s/x" and link.expires_in == 60
