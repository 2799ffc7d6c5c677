"""Getting a file ready before it is opened: its audio on this computer, its peaks cached.

The review queue knows which file comes next; :class:`AudioPrefetcher` fetches it
(a dataset file through the editor's :class:`~relay_desktop.services.audio_fetch.AudioFetcher`,
as background work on the API thread) and builds its peak pyramid into the peak
cache on a background thread of lower priority
(:func:`~relay_desktop.services.thread_priority.background_pool`), so opening it
later is a cache hit: drawn complete at once. A file is prepared once; a failure
is only logged, since opening the file for real reports it to the user.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from relay_desktop.core.audio.cache import AudioCache
from relay_desktop.core.audio.peaks import PeakCache, PeakPyramid
from relay_desktop.services import audio_tasks
from relay_desktop.services.api_worker import Priority
from relay_desktop.services.audio_fetch import AudioFetcher
from relay_desktop.services.thread_priority import background_pool, lower_this_thread

log = logging.getLogger(__name__)


class AudioPrefetcher(QObject):
    """Prepares files ahead of their opening (see the module docstring).

    Signals:
        prepared(object): the ``Path`` of a file now on this computer with its peaks cached.
    """

    prepared = Signal(object)

    def __init__(self, fetcher: AudioFetcher | None, peak_cache: PeakCache,
                 audio_cache: AudioCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fetcher = fetcher
        self._peaks = peak_cache
        self._audio = audio_cache
        self._started: set[str] = set()  # dataset audio ids and paths asked for
        self._live: set[Any] = set()     # jobs and tasks running (kept alive until they end)

    def prepare_audio(self, dataset_id: str, audio_file: Any) -> bool:
        """Fetch a dataset's ``AudioFile`` and cache its peaks; False when already asked."""
        key = f"{dataset_id}/{audio_file.id}"
        if self._fetcher is None or key in self._started:
            return False
        self._started.add(key)
        job = self._fetcher.fetch(dataset_id, audio_file, priority=Priority.BACKGROUND)
        self._live.add(job)
        job.finished.connect(lambda path, j=job: self._fetched(j, Path(str(path))))
        job.failed.connect(lambda msg, j=job: self._ended(j, f"fetching failed: {msg}"))
        job.cancelled.connect(lambda j=job: self._ended(j, "fetching was cancelled"))
        return True

    def prepare_path(self, path: Path) -> bool:
        """Cache the peaks of a file on this computer; False when already asked."""
        key = str(Path(path))
        if key in self._started:
            return False
        self._started.add(key)
        task = audio_tasks.submit(background_pool(), _build_peaks, self._peaks, Path(path),
                                  self._audio.digest_of(path),
                                  description=f"Preparing {Path(path).name}")
        self._live.add(task)
        task.finished.connect(lambda _pyramid, t=task, p=Path(path): self._built(t, p))
        task.failed.connect(lambda msg, t=task: self._ended(t, msg))
        task.cancelled.connect(lambda t=task: self._ended(t, "cancelled"))
        return True

    def _fetched(self, job: Any, path: Path) -> None:
        self._live.discard(job)
        self.prepare_path(path)

    def _built(self, task: Any, path: Path) -> None:
        self._live.discard(task)
        self.prepared.emit(path)

    def _ended(self, work: Any, why: str) -> None:
        self._live.discard(work)
        log.debug("Preparing a file ahead of its opening stopped: %s", why)

    def shutdown(self) -> None:
        """Cancel what is still running (the caller is going away)."""
        for work in list(self._live):
            work.cancel()
        self._live.clear()


def _build_peaks(cache: PeakCache, path: Path, content_hash: str | None) -> PeakPyramid:
    lower_this_thread()
    return cache.open_or_build(path, content_hash)


__all__ = ["AudioPrefetcher"]
