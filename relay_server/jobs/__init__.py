"""Background work on huey: the queue, its tasks, the in-process consumer, the worker CLI."""
