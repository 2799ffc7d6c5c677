"""Background work on huey: the queue (SQLite or Redis), its tasks, leases, the reaper, workers."""
