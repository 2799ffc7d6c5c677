"""FastAPI application factory for Relay Local."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from relay_server import __version__
from relay_server.auth import ApiKeyMiddleware
from relay_server.config import ServerSettings
from relay_server.db.session import make_engine, make_session_factory, upgrade_database
from relay_server.errors import install_error_handlers
from relay_server.jobs import runtime
from relay_server.keys import marker_path
from relay_server.routers import (
    annotation_sets,
    annotations,
    audio,
    datasets,
    health,
    inference_jobs,
    models,
    storage_endpoint,
    training_jobs,
)
from relay_server.storage import make_storage

log = logging.getLogger("relay_server")


def create_app(settings: ServerSettings) -> FastAPI:
    """Build the API: database (migrated), storage, task queue and routers."""
    engine = make_engine(settings.database_url)
    upgrade_database(engine)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.start(app)
        try:
            yield
        finally:
            runtime.stop(app)
            engine.dispose()

    app = FastAPI(
        title="Relay Local",
        version=__version__,
        summary="A complete implementation of the Relay API on your own machine.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.storage = make_storage(settings)
    install_error_handlers(app)
    app.add_middleware(ApiKeyMiddleware, prefix="/api/", cache_ttl_s=settings.key_cache_ttl_s,
                       revocations=marker_path(settings.data_dir))
    for module in (health, datasets, audio, annotation_sets, annotations, storage_endpoint,
                   training_jobs, models, inference_jobs):
        app.include_router(module.router)
    return app
