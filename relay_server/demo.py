"""The demo dataset: "TTS Glitch Detection (demo)" from the audio shipped in resources/demo/.

``seed_demo`` is idempotent: it reuses the tenant's demo dataset, stores and
processes only the files that are missing or unfinished, and creates the
annotation set (v1, published, with the injected artifacts as ground truth)
only when the dataset has none yet, so a user's later edits are never
overwritten; the user makes their own drafts.

It also queues, for the server's workers, a training job on the ground truth
(every type, the default config) unless one exists or succeeded already, and
the ``seed_demo_inference`` task (:mod:`relay_server.jobs.demo_chain`), which
runs the resulting model over the held-out recordings once it exists. So a
first run shows a model and detections without anyone asking for them.

The held-out recordings (voices and texts the demo dataset never uses) are a
second dataset, "… (held-out)", with their injected artifacts as its own
published ground truth: the demo inference job takes its files from there, so
its detections can be reviewed into a draft and evaluated on audio the model
never saw.
"""

from __future__ import annotations

import json
import logging
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from relay_server.config import ServerSettings
from relay_server.db.base import utcnow
from relay_server.db.models import (
    Annotation,
    AnnotationSet,
    AudioFile,
    Dataset,
    Tenant,
    TrainingJob,
)
from relay_server.db.session import make_engine, make_session_factory, upgrade_database
from relay_server.jobs.context import JobContext
from relay_server.jobs.queue import TaskQueue
from relay_server.processing.pipeline import ProcessingContext, process_audio
from relay_server.routers.annotation_sets import compute_stats
from relay_server.schemas.training import TrainingConfigIn
from relay_server.storage import make_storage
from relay_server.storage.base import Storage
from relay_server.storage.keys import audio_key
from resources import resource_path

log = logging.getLogger("relay_server.demo")
DEMO_NAME = "TTS Glitch Detection (demo)"
HELDOUT_NAME = "TTS Glitch Detection (held-out)"
HELDOUT_DESCRIPTION = ("Recordings in voices and texts the demo dataset never uses, with their "
                       "injected artifacts as ground truth: the demo model is run and evaluated "
                       "on these.")


def demo_dir() -> Path:
    return resource_path("demo")


def load_manifest(folder: Path | None = None) -> dict[str, Any]:
    """The shipped manifest: artifact types, files and their injected artifacts."""
    path = (folder or demo_dir()) / "manifest.json"
    manifest: dict[str, Any] = json.loads(path.read_text())
    return manifest


def seed_demo(settings: ServerSettings, tenant: str = "default", *,
              queue_jobs: bool = True) -> uuid.UUID:
    """Create (or complete) the demo dataset for ``tenant`` and return its id.

    With ``queue_jobs`` it also queues the demo training and inference jobs.
    """
    manifest = load_manifest()
    engine = make_engine(settings.database_url)
    try:
        upgrade_database(engine)
        factory = make_session_factory(engine)
        storage = make_storage(settings)
        tenant_id = _tenant(factory, tenant)
        scratch = settings.data_dir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        ctx = ProcessingContext(factory, storage, scratch)
        dataset_id = _dataset(factory, tenant_id, DEMO_NAME, manifest["description"], manifest)
        _fill(ctx, storage, tenant_id, dataset_id, manifest["files"])
        heldout = manifest.get("heldout_files") or []
        if heldout:
            heldout_id = _dataset(factory, tenant_id, HELDOUT_NAME, HELDOUT_DESCRIPTION,
                                  manifest)
            _fill(ctx, storage, tenant_id, heldout_id, heldout)
        if queue_jobs:
            _queue_demo_jobs(JobContext(settings, factory, storage), tenant_id, dataset_id,
                             manifest)
    finally:
        engine.dispose()
    log.info("Demo dataset %s ready for tenant %r", dataset_id, tenant)
    return dataset_id


def _tenant(factory: sessionmaker[Session], name: str) -> uuid.UUID:
    with factory.begin() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == name))
        if tenant is None:
            tenant = Tenant(name=name)
            session.add(tenant)
            session.flush()
        return tenant.id


def _fill(ctx: ProcessingContext, storage: Storage, tenant_id: uuid.UUID,
          dataset_id: uuid.UUID, entries: list[dict[str, Any]]) -> None:
    """Store and process ``entries`` in the dataset; then its ground truth (once)."""
    files = _store_files(ctx.session_factory, storage, tenant_id, dataset_id, entries)
    for name, audio_id in files.items():
        status = process_audio(ctx, audio_id)
        if status != "ready":
            raise RuntimeError(f"Demo file {name} could not be processed ({status})")
    _annotation_sets(ctx.session_factory, tenant_id, dataset_id, entries, files)


def find_dataset(session: Session, tenant_id: uuid.UUID, name: str) -> Dataset | None:
    """The tenant's oldest dataset called ``name`` (the demo's, once seeded)."""
    return session.scalar(
        select(Dataset).where(Dataset.tenant_id == tenant_id, Dataset.name == name)
        .order_by(Dataset.created_at).limit(1))


def _dataset(factory: sessionmaker[Session], tenant_id: uuid.UUID, name: str,
             description: str, manifest: dict[str, Any]) -> uuid.UUID:
    with factory.begin() as session:
        existing = find_dataset(session, tenant_id, name)
        if existing is not None:
            return existing.id
        row = Dataset(tenant_id=tenant_id, name=name, description=description,
                      artifact_types=[dict(t) for t in manifest["artifact_types"]])
        session.add(row)
        session.flush()
        return row.id


def _store_files(factory: sessionmaker[Session], storage: Storage, tenant_id: uuid.UUID,
                 dataset_id: uuid.UUID, entries: list[dict[str, Any]]
                 ) -> dict[str, uuid.UUID]:
    """Make sure every manifest file has a confirmed row and a stored object."""
    out: dict[str, uuid.UUID] = {}
    with factory.begin() as session:
        rows = {r.filename: r for r in session.scalars(
            select(AudioFile).where(AudioFile.dataset_id == dataset_id))}
        for entry in entries:
            name = entry["filename"]
            source = demo_dir() / name
            row = rows.get(name)
            if row is None:
                audio_id = uuid.uuid4()
                row = AudioFile(id=audio_id, tenant_id=tenant_id, dataset_id=dataset_id,
                                filename=name, content_type="audio/ogg",
                                file_size=source.stat().st_size,
                                storage_key=audio_key(tenant_id, dataset_id, audio_id, name),
                                processing_status="pending", confirmed_at=utcnow())
                session.add(row)
            if not storage.exists(row.storage_key):
                storage.put_file(row.storage_key, source, "audio/ogg")
            if row.confirmed_at is None:
                row.confirmed_at = utcnow()
            out[name] = row.id
    return out


def _annotation_sets(factory: sessionmaker[Session], tenant_id: uuid.UUID,
                     dataset_id: uuid.UUID, entries: list[dict[str, Any]],
                     files: dict[str, uuid.UUID]) -> None:
    """v1 (published ground truth), once; no draft is made on the user's behalf."""
    with factory.begin() as session:
        if session.scalar(select(AnnotationSet.id)
                          .where(AnnotationSet.dataset_id == dataset_id).limit(1)):
            return
        durations = dict(session.execute(
            select(AudioFile.id, AudioFile.duration_ms)
            .where(AudioFile.dataset_id == dataset_id)).tuples().all())
        now = utcnow()
        truth = AnnotationSet(tenant_id=tenant_id, dataset_id=dataset_id, version=1,
                              status="published", created_at=now, published_at=now,
                              total_annotations=0, total_positive_duration_ms=0,
                              annotations_by_type={})
        session.add(truth)
        session.flush()
        for entry in entries:
            audio_id = files[entry["filename"]]
            limit = durations.get(audio_id) or entry["duration_ms"]
            for item in entry["annotations"]:
                end = min(int(item["end_ms"]), int(limit))
                start = min(int(item["start_ms"]), end - 1)
                session.add(Annotation(
                    annotation_set_id=truth.id, audio_file_id=audio_id,
                    artifact_type=item["artifact_type"], start_ms=start, end_ms=end,
                    confidence=1.0, extra_data={"source": "injected", "kind": item["kind"]}))
        session.flush()
        stats = compute_stats(session, [truth.id])[truth.id]
        truth.total_annotations = stats.total_annotations
        truth.total_positive_duration_ms = stats.total_positive_duration_ms
        truth.annotations_by_type = stats.annotations_by_type


def _queue_demo_jobs(ctx: JobContext, tenant_id: uuid.UUID, dataset_id: uuid.UUID,
                     manifest: dict[str, Any]) -> uuid.UUID | None:
    """The demo training job and its chained inference task, each queued once.

    A training job on the ground truth that is queued, running or completed
    is reused; one that failed or was cancelled is replaced. Returns the
    training job's id (None when the user removed the published ground truth).
    """
    with ctx.session_factory.begin() as session:
        truth = session.scalar(select(AnnotationSet.id).where(
            AnnotationSet.dataset_id == dataset_id, AnnotationSet.version == 1,
            AnnotationSet.status == "published"))
        if truth is None:
            return None
        job = session.scalar(
            select(TrainingJob)
            .where(TrainingJob.dataset_id == dataset_id, TrainingJob.annotation_set_id == truth,
                   TrainingJob.status.not_in(("failed", "cancelled")))
            .order_by(TrainingJob.created_at).limit(1))
        created = job is None
        if job is None:
            types = [t["name"] for t in manifest["artifact_types"]]
            config = TrainingConfigIn.model_validate({"artifact_types": types}).model_dump()
            job = TrainingJob(tenant_id=tenant_id, dataset_id=dataset_id,
                              annotation_set_id=truth, config=config, status="pending",
                              progress={"epoch": 0, "epochs": config["epochs"],
                                        "train_loss": [], "validation_loss": []},
                              attempts=0, created_at=utcnow())
            session.add(job)
            session.flush()
        job_id = job.id
    queue = TaskQueue(ctx)
    try:
        if created:
            queue.enqueue("train_model", job_id=str(job_id))
            with ctx.session_factory.begin() as session:
                session.execute(update(TrainingJob)
                                .where(TrainingJob.id == job_id, TrainingJob.status == "pending")
                                .values(status="queued")
                                .execution_options(synchronize_session=False))
            log.info("Demo training job %s queued", job_id)
        chained = {str(kw.get("training_job_id"))
                   for kw in queue.pending_kwargs("seed_demo_inference")}
        if str(job_id) not in chained:
            queue.enqueue("seed_demo_inference", training_job_id=str(job_id))
    finally:
        queue.close()
    return job_id
