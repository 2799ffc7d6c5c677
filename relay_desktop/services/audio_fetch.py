"""Fetching a dataset's audio file into the local content-addressed cache.

Order of preference: a cached copy of the same server file; a download through
the server's download URL (``client.audio.download`` on the ApiWorker, with
progress and cancel); the local copy recorded at upload time
(``AudioCache.remember_local``). The downloaded file is hashed and moved into
the cache on the thread pool, never on the GUI or API thread.

Usage::

    fetcher = AudioFetcher(context.worker, AudioCache(context.paths.audio_cache),
                           context.connection.base_url, context.thread_pool)
    job = fetcher.fetch(dataset_id, audio_file)
    job.progress.connect(...); job.finished.connect(open_path); job.failed.connect(show)
    job.cancel()
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal

from relay_desktop.core.audio.cache import AudioCache, remote_key
from relay_desktop.services import audio_tasks
from relay_desktop.services.api_worker import Priority

_DOWNLOAD_UNAVAILABLE = ("NotSupported", "NotFound", "Conflict")


def _suffix(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    return suffix if 1 < len(suffix) <= 6 else ".audio"


class FetchJob(QObject):
    """One fetch in progress.

    Signals:
        progress(int, int): bytes done, bytes total (total 0 when unknown).
        finished(object): the local ``Path`` of the audio.
        failed(str): why the file cannot be fetched, as a sentence.
        cancelled(): the user cancelled.
    """

    progress = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, description: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.description = description
        #: the local copy when the file was already in the audio cache (no download;
        #: ``finished`` still follows, on the next event-loop turn)
        self.cached_path: Path | None = None
        self._handle: Any = None
        self._cancelled = False
        self.done = False
        for sig in (self.finished, self.failed, self.cancelled):
            sig.connect(self._mark_done)

    def _mark_done(self, *_: object) -> None:
        self.done = True

    def cancel(self) -> None:
        """Stop the download (cooperatively; the partial file is discarded)."""
        if self.done or self._cancelled:
            return
        self._cancelled = True
        if self._handle is not None:
            self._handle.cancel()
        self.cancelled.emit()

    @property
    def is_cancelled(self) -> bool:
        return self._cancelled


class AudioFetcher(QObject):
    """Gets dataset audio files onto the local disk (see the module docstring).

    Signals:
        (none of its own; each :class:`FetchJob` has its signals)
    """

    def __init__(self, worker: Any, cache: AudioCache, base_url: str,
                 pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self.cache = cache
        self._base_url = base_url
        self._pool = pool or QThreadPool.globalInstance()
        self._jobs: set[FetchJob] = set()

    def fetch(self, dataset_id: str, audio_file: Any,
              priority: Priority = Priority.USER) -> FetchJob:
        """Start fetching ``audio_file`` (a ``models.AudioFile``) of ``dataset_id``.

        ``priority``: the download's place in the API thread's queue (BACKGROUND for a
        file fetched ahead of its opening).
        """
        audio_id = str(audio_file.id)
        name = getattr(audio_file, "filename", audio_id)
        job = FetchJob(f"Downloading {name}", self)
        self._jobs.add(job)
        for sig in (job.finished, job.failed, job.cancelled):
            sig.connect(lambda *_a, j=job: self._jobs.discard(j))
        key = remote_key(self._base_url, dataset_id, audio_id, getattr(audio_file, "file_size", 0))
        cached = self.cache.lookup_remote(key)
        if cached is not None:
            job.cached_path = cached
            QTimer.singleShot(0, lambda: job.finished.emit(cached))
            return job
        if self._worker is None:
            QTimer.singleShot(0, lambda: self._fallback(job, dataset_id, audio_id, None))
            return job
        parts = self.cache.root / ".downloads"
        dest = parts / f"{uuid.uuid4().hex}{_suffix(name)}"

        def download(client: Any, cancel: Any, progress: Any) -> Path:
            parts.mkdir(parents=True, exist_ok=True)
            try:
                return Path(client.audio.download(dataset_id, audio_id, dest,
                                                  progress=progress, cancel=cancel))
            except BaseException:
                dest.unlink(missing_ok=True)
                raise

        handle = self._worker.submit(download, priority=priority,
                                     description=job.description)
        job._handle = handle
        handle.progress.connect(lambda p, j=job: self._progress(j, p))
        handle.succeeded.connect(lambda path, j=job: self._downloaded(j, key, path))
        handle.failed.connect(lambda exc, j=job: self._download_failed(j, dataset_id, audio_id,
                                                                       exc))
        handle.cancelled.connect(lambda j=job: None if j.done else j.cancelled.emit())
        return job

    def _progress(self, job: FetchJob, value: object) -> None:
        if isinstance(value, tuple) and len(value) == 2:
            job.progress.emit(int(value[0]), int(value[1] or 0))

    def _downloaded(self, job: FetchJob, key: str, path: Path) -> None:
        if job.is_cancelled:
            Path(path).unlink(missing_ok=True)
            return
        task = audio_tasks.submit(self._pool, self.cache.store_remote, key, Path(path),
                                  description="Storing the download")
        task.finished.connect(lambda stored: None if job.done else job.finished.emit(stored))
        task.failed.connect(lambda msg: None if job.done else job.failed.emit(msg))

    def _download_failed(self, job: FetchJob, dataset_id: str, audio_id: str,
                         exc: object) -> None:
        if job.done:
            return
        if type(exc).__name__ == "Cancelled":
            job.cancelled.emit()
            return
        self._fallback(job, dataset_id, audio_id, exc)

    def _fallback(self, job: FetchJob, dataset_id: str, audio_id: str, exc: object) -> None:
        local = self.cache.local_copy(dataset_id, audio_id)
        if local is not None:
            job.finished.emit(local)
            return
        if exc is None or type(exc).__name__ in _DOWNLOAD_UNAVAILABLE:
            job.failed.emit("This audio file cannot be opened: the server offers no download "
                            "for it and there is no local copy from its upload."
                            + (f" ({exc})" if exc is not None else ""))
        else:
            job.failed.emit(f"Downloading the audio failed: {exc}")
