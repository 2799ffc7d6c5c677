"""The inference panel's header: the job's model, config, status and counts, as text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from relay_desktop.api.models import InferenceJob
from relay_desktop.core.text import local_minutes, plural

STATUS_TEXT = {"pending": "waiting for files", "processing": "processing",
               "completed": "completed", "failed": "failed", "cancelled": "cancelled"}


def config_text(config: Mapping[str, Any]) -> str:
    """'threshold 0.5 · merge window 200 ms · minimum duration 0 ms'."""
    parts = []
    if "threshold" in config:
        parts.append(f"threshold {float(config['threshold']):g}")
    if "merge_window_ms" in config:
        parts.append(f"merge window {int(config['merge_window_ms'])} ms")
    if "min_duration_ms" in config:
        parts.append(f"minimum duration {int(config['min_duration_ms'])} ms")
    return " · ".join(parts) or "server defaults"


def counts_text(job: InferenceJob) -> str:
    """'3 of 5 files processed (1 failed) · 12 detections'."""
    text = f"{job.processed_files:,} of {plural(job.total_files, 'file')} processed"
    if job.failed_files:
        text += f" ({job.failed_files:,} failed)"
    return f"{text} · {plural(job.total_detections, 'detection')}"


def status_text(job: InferenceJob) -> str:
    """'completed 2026-12-03 16:40' / 'processing since …' / 'failed: why'."""
    status = STATUS_TEXT.get(job.status, job.status)
    if job.status in ("completed", "cancelled", "failed") and job.completed_at is not None:
        status += f" {local_minutes(job.completed_at)}"
    elif job.status == "processing" and job.started_at is not None:
        status += f" since {local_minutes(job.started_at)}"
    if job.error_message:
        status += f": {job.error_message}"
    return status
