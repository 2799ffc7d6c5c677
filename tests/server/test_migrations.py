"""Migrations: data written at revision 0001 survives the upgrade; models match migrations."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from relay_server.db.base import Base
from relay_server.db.session import alembic_config, make_engine, upgrade_database
from tests.support.live_server import LiveServer, fresh_postgres_database


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database: PostgreSQL when RELAY_TEST_DATABASE_URL is set, else SQLite."""
    admin = os.environ.get("RELAY_TEST_DATABASE_URL")
    url = fresh_postgres_database(admin) if admin else f"sqlite:///{tmp_path / 'm.sqlite3'}"
    eng = make_engine(url)
    try:
        yield eng
    finally:
        eng.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def _current(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _head() -> str:
    cfg = alembic_config("sqlite://")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_revision_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = script.get_heads()
    assert len(heads) == 1
    revisions = list(script.walk_revisions())
    assert revisions[-1].revision == "0001" and revisions[-1].down_revision is None


def test_rows_written_at_0001_survive_upgrade_to_head(engine: Engine) -> None:
    _upgrade(engine, "0001")
    assert _current(engine) == "0001"
    ids = {name: uuid.uuid4() for name in ("tenant", "key", "ds", "audio", "set", "ann")}
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    with engine.begin() as c:
        c.execute(text("INSERT INTO tenants (id, name, created_at) VALUES (:id, 'old', :now)"),
                  {"id": _uuid(engine, ids["tenant"]), "now": now})
        c.execute(text("INSERT INTO api_keys (id, tenant_id, key_hash, prefix, created_at) "
                       "VALUES (:id, :t, :h, 'rl_x', :now)"),
                  {"id": _uuid(engine, ids["key"]), "t": _uuid(engine, ids["tenant"]),
                   "h": "a" * 64, "now": now})
        c.execute(text("INSERT INTO datasets (id, tenant_id, name, description, artifact_types,"
                       " created_at, updated_at) VALUES (:id, :t, 'Old data', NULL, :types,"
                       " :now, :now)"),
                  {"id": _uuid(engine, ids["ds"]), "t": _uuid(engine, ids["tenant"]),
                   "types": '[{"name": "glitch", "description": null, "color": "#FF0000"}]',
                   "now": now})
        c.execute(text("INSERT INTO audio_files (id, tenant_id, dataset_id, filename,"
                       " content_type, file_size, storage_key, processing_status, duration_ms,"
                       " created_at, updated_at) VALUES (:id, :t, :d, 'a.wav', 'audio/wav', 10,"
                       " 'k/a.wav', 'ready', 5000, :now, :now)"),
                  {"id": _uuid(engine, ids["audio"]), "t": _uuid(engine, ids["tenant"]),
                   "d": _uuid(engine, ids["ds"]), "now": now})
        c.execute(text("INSERT INTO annotation_sets (id, tenant_id, dataset_id, version, status,"
                       " total_annotations, total_positive_duration_ms, annotations_by_type,"
                       " created_at) VALUES (:id, :t, :d, 1, 'draft', 0, 0, '{}', :now)"),
                  {"id": _uuid(engine, ids["set"]), "t": _uuid(engine, ids["tenant"]),
                   "d": _uuid(engine, ids["ds"]), "now": now})
        c.execute(text("INSERT INTO annotations (id, annotation_set_id, audio_file_id,"
                       " artifact_type, start_ms, end_ms, confidence, extra_data, created_at)"
                       " VALUES (:id, :s, :a, 'glitch', 10, 20, 0.5, '{\"k\": 1}', :now)"),
                  {"id": _uuid(engine, ids["ann"]), "s": _uuid(engine, ids["set"]),
                   "a": _uuid(engine, ids["audio"]), "now": now})

    upgrade_database(engine)  # what the server does at start-up
    assert _current(engine) == _head() != "0001"
    with engine.connect() as c:
        counts = {t: c.execute(text(f"SELECT COUNT(*) FROM {t}")).scalar_one()
                  for t in ("tenants", "api_keys", "datasets", "audio_files",
                            "annotation_sets", "annotations")}
        row = c.execute(text("SELECT start_ms, end_ms, confidence, artifact_type"
                             " FROM annotations")).one()
    assert counts == dict.fromkeys(counts, 1)
    assert tuple(row) == (10, 20, 0.5, "glitch")
    index_names = {ix["name"] for ix in inspect(engine).get_indexes("annotations")}
    assert {"ix_annotations_audio_file", "ix_annotations_set_type"} <= index_names


def _uuid(engine: Engine, value: uuid.UUID) -> object:
    """Uuid as the dialect stores it (SQLite: 32 hex characters)."""
    return value.hex if engine.dialect.name == "sqlite" else value


def test_upgrade_is_idempotent_and_downgrade_works(engine: Engine) -> None:
    upgrade_database(engine)
    upgrade_database(engine)
    assert _current(engine) == _head()
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0001")
    assert _current(engine) == "0001"
    assert "ix_annotations_audio_file" not in {
        ix["name"] for ix in inspect(engine).get_indexes("annotations")}


def test_models_and_migrations_do_not_drift(engine: Engine) -> None:
    """The `alembic check` comparison: head schema == the SQLAlchemy models."""
    upgrade_database(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff


def test_server_data_survives_a_restart(fresh_server: LiveServer) -> None:
    import requests

    headers = {"X-API-Key": fresh_server.api_key}
    r = requests.post(fresh_server.base_url + "/api/v1/datasets", headers=headers,
                      json={"name": "durable", "artifact_types": [{"name": "glitch"}]},
                      timeout=10)
    assert r.status_code == 201
    fresh_server.stop()
    fresh_server.start()
    got = requests.get(f"{fresh_server.base_url}/api/v1/datasets/{r.json()['id']}",
                       headers=headers, timeout=10)
    assert got.status_code == 200 and got.json() == r.json()
