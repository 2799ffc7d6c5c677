"""``relay-server worker``: consume the server's task queue from a separate process.

The worker shares the server's database (``RELAY_DATABASE_URL``), object
storage (``RELAY_STORAGE``...) and queue: the SQLite queue in the same data
folder, or Redis (``RELAY_QUEUE_URL``) from any machine. It runs the same
tasks as the server's own consumer, and a reaper that queues again the jobs
of processes that died.
"""

from __future__ import annotations

import logging

from relay_server.config import ServerSettings
from relay_server.db.session import make_engine, make_session_factory, upgrade_database
from relay_server.jobs.context import JobContext
from relay_server.jobs.queue import TaskQueue
from relay_server.jobs.recovery import Reaper, recover
from relay_server.storage import make_storage

log = logging.getLogger("relay_server.jobs")


def run_worker(settings: ServerSettings) -> int:
    """Run consumer threads on the shared queue until SIGINT/SIGTERM."""
    engine = make_engine(settings.database_url)
    upgrade_database(engine)
    ctx = JobContext(settings, make_session_factory(engine), make_storage(settings))
    queue = TaskQueue(ctx)
    recover(queue)
    reaper = Reaper(queue).start()
    threads = max(1, settings.workers)
    consumer = queue.consumer(threads, embedded=False)
    log.info("Relay Local worker consuming %s with %d thread(s)", queue.location, threads)
    try:
        consumer.run()
    finally:
        ctx.stop.set()
        reaper.stop()
        queue.close()
        engine.dispose()
    return 0
