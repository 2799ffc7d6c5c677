"""The ``seed_demo_inference`` task: once the demo model exists, run it over held-out audio.

``relay-server seed-demo`` queues the demo's training job and this task. The
task waits (re-scheduling itself every few seconds) until the training job
has produced its model, then creates one inference job over the demo's
held-out recordings (manifest key ``heldout_files``: voices and texts the
dataset never uses), taken from the held-out demo dataset the way the
from-dataset extension takes them (the files reference its stored audio; one
whose dataset is missing is stored for the job instead), and queues their
``infer_file`` tasks. It is idempotent: a model that already has its
demo inference job gets no second one, whoever asks and however often.
"""

from __future__ import annotations

import logging
import uuid

from huey.api import Task
from huey.exceptions import RetryTask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from relay_server.db.base import utcnow
from relay_server.db.models import AudioFile, InferenceFile, InferenceJob, TrainingJob
from relay_server.demo import HELDOUT_NAME, demo_dir, find_dataset, load_manifest
from relay_server.inference_state import queue_file
from relay_server.jobs.context import JobContext
from relay_server.schemas.inference import InferenceConfig
from relay_server.storage.keys import inference_file_key

log = logging.getLogger("relay_server.demo")
WAIT_FOR_MODEL_S = 5


def run_seed_demo_inference(ctx: JobContext, task: Task | None, training_job_id: str) -> None:
    """Task ``seed_demo_inference``: the demo inference job, once the demo model exists."""
    with ctx.session_factory() as session:
        job = session.get(TrainingJob, uuid.UUID(training_job_id))
        status, model_id = (job.status, job.model_id) if job is not None else ("gone", None)
    if status in ("gone", "failed", "cancelled"):
        log.info("Demo training job %s is %s: no demo inference job", training_job_id, status)
        return
    if status != "completed" or model_id is None:
        raise RetryTask(delay=WAIT_FOR_MODEL_S)  # huey runs this task again in a few seconds
    file_ids = create_demo_inference(ctx, uuid.UUID(training_job_id), model_id)
    for file_id in file_ids:
        ctx.enqueue("infer_file", file_id=str(file_id))
    if file_ids:
        log.info("Demo inference job queued: %d held-out recording(s)", len(file_ids))


def create_demo_inference(ctx: JobContext, training_job_id: uuid.UUID,
                          model_id: uuid.UUID) -> list[uuid.UUID]:
    """Create the model's demo inference job unless it has one; return the files to queue."""
    heldout = load_manifest().get("heldout_files") or []
    names = [entry["filename"] for entry in heldout]
    with ctx.session_factory.begin() as session:
        # the training job's row is the lock: two of these tasks create one job between them
        session.execute(update(TrainingJob).where(TrainingJob.id == training_job_id)
                        .values(status=TrainingJob.status)
                        .execution_options(synchronize_session=False))
        if not names or _has_demo_inference(session, model_id, names):
            return []
        tenant_id = session.scalar(select(TrainingJob.tenant_id)
                                   .where(TrainingJob.id == training_job_id))
        assert tenant_id is not None
        job = InferenceJob(tenant_id=tenant_id, model_id=model_id,
                           config=InferenceConfig().model_dump(), status="pending")
        session.add(job)
        session.flush()
        heldout = _heldout_audio(session, tenant_id)
        file_ids = []
        for name in names:
            file_id = uuid.uuid4()
            audio = heldout.get(name)
            if audio is not None:  # the held-out dataset's audio, as from-dataset adds it
                session.add(InferenceFile(
                    id=file_id, tenant_id=tenant_id, inference_job_id=job.id,
                    original_filename=name, storage_key=audio.storage_key,
                    content_type=audio.content_type, file_size=audio.file_size,
                    source_audio_id=audio.id, status="pending", detection_count=0,
                    confirmed_at=utcnow()))
                size = audio.file_size
            else:
                source = demo_dir() / name
                key = inference_file_key(tenant_id, job.id, file_id, name)
                ctx.storage.put_file(key, source, "audio/ogg")
                size = source.stat().st_size
                session.add(InferenceFile(
                    id=file_id, tenant_id=tenant_id, inference_job_id=job.id,
                    original_filename=name, storage_key=key, content_type="audio/ogg",
                    file_size=size, status="pending", detection_count=0))
            session.flush()
            if queue_file(session, job.id, file_id, size):
                file_ids.append(file_id)
        return file_ids


def _heldout_audio(session: Session, tenant_id: uuid.UUID) -> dict[str, AudioFile]:
    """The ready audio of the tenant's held-out demo dataset, by file name."""
    dataset = find_dataset(session, tenant_id, HELDOUT_NAME)
    if dataset is None:
        return {}
    return {a.filename: a for a in session.scalars(select(AudioFile).where(
        AudioFile.dataset_id == dataset.id, AudioFile.processing_status == "ready"))}


def _has_demo_inference(session: Session, model_id: uuid.UUID, names: list[str]) -> bool:
    return session.scalar(
        select(InferenceFile.id)
        .join(InferenceJob, InferenceJob.id == InferenceFile.inference_job_id)
        .where(InferenceJob.model_id == model_id, InferenceFile.original_filename.in_(names))
        .limit(1)) is not None
