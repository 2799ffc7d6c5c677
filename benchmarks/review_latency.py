"""review_latency: from a review key to the next detection drawn and playing, 5,000 detections.

A live Relay Local holds an inference job of 5,000 detections over 50 files
(taken from a dataset of three demo recordings; the job's rows are inserted into
the server's database directly, as a finished job leaves them). The ReviewPanel
reviews it in time order next to an AudioEditor (offscreen, 1600x1000): each
step is a key press (A accept, otherwise N next) on the queue table, then events
are processed until the panel reports the next detection shown (view zoomed,
``play_range`` called) and the editor's view is repainted. Accepts write regions
into a new draft through the Labels dock (journal and sync), as in use.

value: p99 of the step latency in ms (target < 50 ms); also p50, and the steps
that stay in a file apart from those that open the next file. baseline: p99 of a
bare table selection change (QTableView over 5,000 rows, select the next row +
repaint) in the same run; ratio = value / baseline.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from benchmarks import qt_app, result

FILES, PER_FILE = 50, 100
TYPES = ("glitch", "long_pause", "click")
COLORS = ("#e53935", "#43a047", "#1e88e5")
TARGET_MS = 50.0


def build_review_job(server: Any, client: Any, *, files: int = FILES,
                     per_file: int = PER_FILE, sources: int = 3) -> tuple[str, str]:
    """A finished inference job of ``files * per_file`` detections; (job id, dataset id).

    Its files are taken from a new dataset of ``sources`` demo recordings (uploaded
    over HTTP), the job's rows inserted straight into the server's database.
    """
    from sqlalchemy import create_engine, select
    from sqlalchemy.orm import Session

    from relay_server.auth import hash_key
    from relay_server.db.base import utcnow
    from relay_server.db.models import ApiKey, AudioFile, InferenceFile, InferenceJob, Model
    from tests.support.inference_model import DEMO_DIR, demo_manifest, server_database_url

    ds = client.datasets.create(f"review-bench-{uuid.uuid4().hex[:8]}",
                                [{"name": t, "color": c} for t, c in zip(TYPES, COLORS,
                                                                         strict=True)])
    entries = demo_manifest()[:sources]
    audio_ids = [client.audio.upload(ds.id, DEMO_DIR / e["filename"]).audio_id
                 for e in entries]
    deadline = time.monotonic() + 120
    while any(client.audio.get(ds.id, a).processing_status != "ready" for a in audio_ids):
        if time.monotonic() > deadline:
            raise RuntimeError("the benchmark's audio never became ready")
        time.sleep(0.2)
    rng = random.Random(7)
    engine = create_engine(server_database_url(server))
    try:
        with Session(engine) as session:
            tenant_id = session.scalar(select(ApiKey.tenant_id)
                                       .where(ApiKey.key_hash == hash_key(server.api_key)))
            audio = {str(a.id): a for a in session.scalars(
                select(AudioFile).where(AudioFile.id.in_([uuid.UUID(i) for i in audio_ids])))}
            model = Model(tenant_id=tenant_id, name="review benchmark", artifact_types=list(TYPES),
                          eval_metrics={}, is_active=True, storage_key="bench/unused-model.bin")
            session.add(model)
            session.flush()
            now = utcnow()
            job = InferenceJob(tenant_id=tenant_id, model_id=model.id, status="completed",
                               config={"threshold": 0.3, "merge_window_ms": 200,
                                       "min_duration_ms": 50},
                               total_files=files, processed_files=files,
                               total_detections=files * per_file, started_at=now,
                               completed_at=now)
            session.add(job)
            session.flush()
            for n in range(files):
                source = audio[audio_ids[n % len(audio_ids)]]
                duration = int(source.duration_ms or 60_000)
                starts = sorted(rng.randrange(0, max(1, duration - 1000)) for _ in range(per_file))
                dets = [{"artifact_type": rng.choice(TYPES), "start_ms": s,
                         "end_ms": s + rng.randrange(60, 900),
                         "confidence": round(rng.uniform(0.3, 1.0), 4)} for s in starts]
                session.add(InferenceFile(
                    tenant_id=tenant_id, inference_job_id=job.id,
                    original_filename=f"take_{n:02d}_{source.filename}",
                    storage_key=source.storage_key, content_type=source.content_type,
                    file_size=source.file_size, source_audio_id=source.id,
                    duration_ms=duration, status="completed", detections=dets,
                    detection_count=len(dets), processed_at=now, confirmed_at=now))
            session.commit()
            return str(job.id), ds.id
    finally:
        engine.dispose()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _baseline(app: Any, rows: int, steps: int) -> list[float]:
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QTableView

    model = QStandardItemModel(rows, 6)
    for r in range(rows):
        for c in range(6):
            model.setItem(r, c, QStandardItem(f"{r}:{c}"))
    table = QTableView()
    table.setModel(model)
    table.resize(600, 400)
    table.show()
    app.processEvents()
    out = []
    for n in range(steps):
        t0 = time.perf_counter()
        table.selectRow(n + 1)
        table.scrollTo(model.index(n + 1, 0))
        table.viewport().repaint()
        app.processEvents()
        out.append((time.perf_counter() - t0) * 1000)
    table.close()
    return out


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()
    from PySide6.QtWidgets import QHBoxLayout, QWidget

    from benchmarks._bench_context import bench_context
    from relay_desktop.api import RelayClient
    from relay_desktop.ui.labelling import LabellingPanel
    from relay_desktop.ui.review.panel import ReviewPanel
    from relay_desktop.ui.waveform.editor import AudioEditor
    from tests.support.live_server import LiveServer

    steps = 150 if quick else 600
    with tempfile.TemporaryDirectory() as tmp, LiveServer(Path(tmp) / "server") as server:
        with RelayClient(server.base_url, server.api_key) as client:
            job_id, _ds = build_review_job(server, client)
        context = bench_context(server.base_url, server.api_key, Path(tmp), threads=2)
        worker, pool = context.worker, context.thread_pool
        window = QWidget()
        row = QHBoxLayout(window)
        editor, labelling, panel = AudioEditor(context), LabellingPanel(), ReviewPanel()
        row.addWidget(panel, 1)
        row.addWidget(editor, 3)
        row.addWidget(labelling, 1)
        labelling.set_context(context)
        labelling.set_audio_editor(editor)
        panel.set_context(context)
        panel.set_editor(editor)
        panel.set_labelling(labelling)
        window.resize(1600, 1000)
        window.show()

        shown: list[object] = []
        panel.item_shown.connect(shown.append)

        def wait(count: int, timeout: float = 60.0) -> None:
            deadline = time.monotonic() + timeout
            while len(shown) < count:
                if time.monotonic() > deadline:
                    raise RuntimeError("the review panel never showed the detection: "
                                       f"{panel.message.text()!r} {editor.view.message()!r}")
                app.processEvents()
                time.sleep(0.0005)

        panel.review_job(job_id)
        wait(1)
        queue = panel.queue
        assert queue is not None and queue.total() == FILES * PER_FILE
        panel.order.setCurrentIndex(panel.order.findData("time"))
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        # warm up: the first file switch and the first accept (draft creation, first open)
        for key in (Qt.Key.Key_A, Qt.Key.Key_N):
            count = len(shown)
            QTest.keyClick(panel.table, key)
            wait(count + 1)
        time.sleep(1.0)
        for _ in range(20):
            app.processEvents()

        latencies: list[float] = []
        switching: list[bool] = []
        for n in range(steps):
            before = queue.current()
            count = len(shown)
            key = Qt.Key.Key_A if n % 4 == 0 else Qt.Key.Key_N
            t0 = time.perf_counter()
            QTest.keyClick(panel.table, key)
            wait(count + 1)
            editor.view.repaint()
            latencies.append((time.perf_counter() - t0) * 1000)
            after = queue.current()
            switching.append(before is not None and after is not None
                             and before.file_id != after.file_id)
        accepted = queue.progress().accepted
        base = _baseline(app, FILES * PER_FILE, min(steps, 300))
        panel.shutdown()
        panel.set_context(None)
        labelling.set_context(None)
        editor.shutdown()
        window.close()
        worker.shutdown(5000)
        pool.waitForDone(5000)

    within = [v for v, s in zip(latencies, switching, strict=True) if not s]
    across = [v for v, s in zip(latencies, switching, strict=True) if s]
    p99 = _percentile(latencies, 99)
    base_p99 = _percentile(base, 99)
    return result(
        "review_latency", p99, base_p99, "ms", f"p99 < {TARGET_MS:g} ms", p99 < TARGET_MS,
        p50=round(_percentile(latencies, 50), 3), p99=round(p99, 3),
        within_file_p50=round(_percentile(within, 50), 3),
        within_file_p99=round(_percentile(within, 99), 3),
        file_switch_steps=len(across),
        file_switch_p50=round(_percentile(across, 50), 3),
        file_switch_max=round(max(across, default=0.0), 3),
        baseline_p50=round(_percentile(base, 50), 3), steps=steps, accepted=accepted,
        detections=FILES * PER_FILE, files=FILES)
