"""A real, migrated database with leased rows (training jobs, inference files) for job tests.

SQLite in the test's folder, or a fresh PostgreSQL database when
``RELAY_TEST_DATABASE_URL`` is set, so the lease SQL is proven on both.
"""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session, sessionmaker

from relay_server.config import ServerSettings
from relay_server.db.base import utcnow
from relay_server.db.models import (
    AnnotationSet,
    Dataset,
    InferenceFile,
    InferenceJob,
    Model,
    Tenant,
    TrainingJob,
)
from relay_server.db.session import make_engine, make_session_factory, upgrade_database
from relay_server.jobs.context import JobContext
from relay_server.storage import make_storage
from tests.support.live_server import fresh_postgres_database


def database_url(folder: Path) -> str:
    admin = os.environ.get("RELAY_TEST_DATABASE_URL")
    return fresh_postgres_database(admin) if admin else f"sqlite:///{folder / 'jobs.sqlite3'}"


def job_context(folder: Path, url: str, **settings: object) -> tuple[JobContext, Engine]:
    """A JobContext on a migrated database at ``url`` (settings overridable)."""
    folder.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    upgrade_database(engine)
    config = ServerSettings(data_dir=folder, database_url=url, secret="s" * 32,
                            **settings)  # type: ignore[arg-type]
    return JobContext(config, make_session_factory(engine), make_storage(config)), engine


def add_training_job(factory: sessionmaker[Session], status: str = "queued",
                     **values: object) -> uuid.UUID:
    """A tenant, dataset, published set and one training job; returns the job's id."""
    with factory.begin() as session:
        tenant = Tenant(name=f"t-{uuid.uuid4().hex[:8]}")
        session.add(tenant)
        session.flush()
        dataset = Dataset(tenant_id=tenant.id, name="d", artifact_types=[{"name": "glitch"}])
        session.add(dataset)
        session.flush()
        aset = AnnotationSet(tenant_id=tenant.id, dataset_id=dataset.id, version=1,
                             status="published", published_at=utcnow())
        session.add(aset)
        session.flush()
        job = TrainingJob(tenant_id=tenant.id, dataset_id=dataset.id, annotation_set_id=aset.id,
                          config={}, status=status, progress={},
                          created_at=utcnow() - timedelta(minutes=1), **values)
        session.add(job)
        session.flush()
        return job.id


def add_inference_files(factory: sessionmaker[Session], count: int,
                        status: str = "queued") -> tuple[uuid.UUID, list[uuid.UUID]]:
    """An inference job (and the model it needs) with ``count`` confirmed files."""
    with factory.begin() as session:
        tenant = Tenant(name=f"t-{uuid.uuid4().hex[:8]}")
        session.add(tenant)
        session.flush()
        model = Model(tenant_id=tenant.id, name="m", artifact_types=["glitch"],
                      storage_key="models/x.bin", eval_metrics={})
        session.add(model)
        session.flush()
        job = InferenceJob(tenant_id=tenant.id, model_id=model.id, config={},
                           status="processing", total_files=count)
        session.add(job)
        session.flush()
        earlier = utcnow() - timedelta(minutes=1)
        files = [InferenceFile(tenant_id=tenant.id, inference_job_id=job.id,
                               original_filename=f"f{i}.wav", storage_key=f"inf/{i}",
                               content_type="audio/wav", file_size=10, status=status,
                               confirmed_at=earlier, created_at=earlier)
                 for i in range(count)]
        session.add_all(files)
        session.flush()
        return job.id, [f.id for f in files]


def set_lease(factory: sessionmaker[Session], model: type[TrainingJob] | type[InferenceFile],
              row_id: uuid.UUID, owner: str | None, expires_in_s: float | None,
              **values: object) -> None:
    """Write a row's lease as another process would have left it."""
    expires = None if expires_in_s is None else utcnow() + timedelta(seconds=expires_in_s)
    with factory.begin() as session:
        session.execute(update(model).where(model.id == row_id)
                        .values(lease_owner=owner, lease_expires_at=expires, **values))


def load(factory: sessionmaker[Session], model: type[TrainingJob] | type[InferenceFile]
         | type[InferenceJob], row_id: uuid.UUID) -> dict[str, object]:
    """The row's columns as a dict (a fresh read)."""
    with factory() as session:
        row = session.get(model, row_id)
        assert row is not None
        return {c.name: getattr(row, c.key) for c in row.__table__.columns}  # type: ignore[attr-defined]
