"""``relay-server worker``: consume the server's task queue from a separate process."""

from __future__ import annotations

import logging

from relay_server.config import ServerSettings
from relay_server.db.session import make_engine, make_session_factory, upgrade_database
from relay_server.jobs.queue import JobContext, TaskQueue
from relay_server.jobs.recovery import recover
from relay_server.storage import make_storage

log = logging.getLogger("relay_server.jobs")


def run_worker(settings: ServerSettings) -> int:
    """Run consumer threads on the queue in ``settings.data_dir`` until SIGINT/SIGTERM."""
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    ctx = JobContext(settings, make_session_factory(engine), make_storage(settings))
    queue = TaskQueue(ctx)
    recover(queue)
    consumer = queue.consumer(max(1, settings.workers), embedded=False)
    log.info("Relay Local worker consuming %s with %d thread(s)", settings.queue_path,
             max(1, settings.workers))
    try:
        consumer.run()
    finally:
        ctx.stop.set()
        engine.dispose()
    return 0
