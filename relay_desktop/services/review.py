"""ReviewService: an inference job's detections for review, the audio behind them, progress.

Everything that touches the network or the disk runs off the GUI thread: the job
(with its files and detections) and the saved progress are read together on the
API thread; audio is resolved there too (a file added from a dataset opens that
dataset's audio through the editor's fetcher; an uploaded file is downloaded once
into the audio cache folder); progress is saved on the thread pool, a moment
after the last change (see :class:`~relay_desktop.core.review.ReviewStore`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api.models import AnnotationSet, InferenceFile, InferenceJob
from relay_desktop.core.review import ReviewStore
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.services.context import AppContext, ConnectionInfo

log = logging.getLogger(__name__)

SAVE_DELAY_MS = 400
DOWNLOADS = "inference"


def connection_scope(connection: ConnectionInfo) -> str:
    """A connection's identity across restarts (Relay Local changes port every launch)."""
    return connection.id if connection.is_local and connection.id else connection.base_url


def downloaded_path(cache_folder: Path, job_id: str, file: InferenceFile) -> Path:
    """Where an uploaded inference file is kept once downloaded."""
    suffix = Path(file.original_filename or "").suffix.lower()
    suffix = suffix if 1 < len(suffix) <= 6 else ".audio"
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", f"{job_id}-{file.id}")
    return cache_folder / DOWNLOADS / f"{safe}{suffix}"


def is_from_dataset(file: InferenceFile) -> bool:
    return bool(file.source_dataset_id and file.source_audio_id)


class ReviewService(QObject):
    """Loads jobs for review, opens their files in an editor and keeps review progress.

    Signals:
        job_loaded(object, object): the InferenceJob (with files and detections) and the
            saved review state (a dict, or None when the job was never reviewed here).
        file_opening(object, object): an InferenceFile is being opened in the editor,
            with its dataset AudioFile (None for an uploaded file).
        failed(str): loading a job, resolving a file or saving progress failed (a sentence).
    """

    job_loaded = Signal(object, object)
    file_opening = Signal(object, object)
    failed = Signal(str)

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.scope = connection_scope(context.connection)
        self.store = ReviewStore(context.paths.data)
        self._open_seq = 0
        self.closed = False
        self._audio: dict[tuple[str, str], Any] = {}
        #: model id -> its artifact types (what 1-9 choose for a file not from a dataset)
        self.model_types: dict[str, list[str]] = {}
        self._downloaded: dict[str, Path] = {}
        self._prepared: set[str] = set()  # inference file ids made ready ahead of opening
        self._pending: dict[str, Mapping[str, Any] | Callable[[], Mapping[str, Any]]] = {}
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SAVE_DELAY_MS)
        self._timer.timeout.connect(self._save_pending)

    # -- jobs ----------------------------------------------------------------------------
    def load_job(self, job_id: str) -> RequestHandle:
        """Fetch the job with its files and detections, and the saved progress."""
        store, scope = self.store, self.scope

        types = self.model_types

        def job(client: Any, cancel: Any, _progress: Any) -> tuple[InferenceJob, Any]:
            found = client.inference_jobs.get(job_id, cancel=cancel)
            if found.model_id not in types:
                try:
                    model = client.models.get(found.model_id, cancel=cancel)
                    types[found.model_id] = list(model.artifact_types)
                except Exception as exc:  # the model may be gone: the detections still are
                    log.info("Model %s of job %s not read: %s", found.model_id, job_id, exc)
            return found, store.load(scope, job_id)

        handle = self.context.worker.submit(job, priority=Priority.USER,
                                            description="Loading detections for review")
        handle.succeeded.connect(self._loaded)
        handle.failed.connect(lambda exc: self._fail(
            f"The inference job could not be loaded: {exc}"))
        return handle

    def _loaded(self, result: tuple[InferenceJob, Any]) -> None:
        if not self.closed:
            self.job_loaded.emit(*result)

    def _fail(self, text: str) -> None:
        if not self.closed:
            self.failed.emit(text)

    # -- files ---------------------------------------------------------------------------
    def prefetch(self, job: InferenceJob) -> RequestHandle | None:
        """Read, in the background, the dataset audio records of a job's files, so that
        moving to another file opens it without a request."""
        wanted = sorted({(str(f.source_dataset_id), str(f.source_audio_id)) for f in job.files
                         if is_from_dataset(f)} - set(self._audio))
        if not wanted:
            return None

        def job_fn(client: Any, cancel: Any, _p: Any) -> dict[tuple[str, str], Any]:
            found = {}
            for ds, audio_id in wanted:
                cancel.raise_if_cancelled()
                found[(ds, audio_id)] = client.audio.get(ds, audio_id, cancel=cancel)
            return found

        handle = self.context.worker.submit(job_fn, priority=Priority.BACKGROUND,
                                            description="Reading the detections' audio files")
        handle.succeeded.connect(self._audio.update)
        return handle

    def open_file(self, editor: Any, job_id: str, file: InferenceFile,
                  at: tuple[float, float] | None = None) -> RequestHandle | None:
        """Open ``file`` in ``editor`` (an AudioEditor): its dataset audio, or a download.

        ``at`` (start_s, end_s): the window to show first (a detection's), read before
        the rest of the file is decoded.
        Only the latest request opens anything: a quick succession of files opens the last.
        Returns the request made (None when what was needed was known: opened at once).
        """
        self._open_seq += 1
        seq = self._open_seq

        def wanted() -> bool:
            return seq == self._open_seq and not self.closed

        def open_audio(dataset_id: str, audio: Any) -> None:
            if wanted():
                self.file_opening.emit(file, audio)
                editor.open_audio(dataset_id, audio, at=at)

        def open_path(path: Path) -> None:
            if wanted():
                self.file_opening.emit(file, None)
                editor.open_file(path, display_name=file.original_filename, at=at)

        handle = self._resolve(job_id, file, Priority.USER, open_audio, open_path)
        if handle is not None:
            handle.failed.connect(lambda exc: self._fail(
                f"{file.original_filename} could not be opened: {exc}"))
        return handle

    def prepare_file(self, editor: Any, job_id: str, file: InferenceFile) -> None:
        """Get ``file`` ready in ``editor`` before it is opened (its audio on this computer,
        its peaks cached: see ``editor.prefetcher``), as background work; once per file."""
        if file.id in self._prepared or self.closed:
            return
        self._prepared.add(file.id)
        handle = self._resolve(job_id, file, Priority.BACKGROUND,
                               editor.prefetcher.prepare_audio, editor.prefetcher.prepare_path)
        if handle is not None:  # opening it for real will say what went wrong
            handle.failed.connect(lambda exc: log.debug("Preparing %s failed: %s",
                                                        file.original_filename, exc))

    def _resolve(self, job_id: str, file: InferenceFile, priority: Priority,
                 on_audio: Callable[[str, Any], Any],
                 on_path: Callable[[Path], Any]) -> RequestHandle | None:
        """Find ``file``'s audio: ``on_audio(dataset_id, AudioFile)`` for a dataset's file,
        ``on_path(path)`` for an uploaded one once downloaded into the audio cache folder.

        At once (returning None) when known; else the request made, at ``priority``.
        """
        if is_from_dataset(file):
            ds, audio_id = str(file.source_dataset_id), str(file.source_audio_id)

            def fetched(audio: Any) -> None:
                self._audio[(ds, audio_id)] = audio
                on_audio(ds, audio)

            known = self._audio.get((ds, audio_id))
            if known is not None:
                fetched(known)
                return None
            handle = self.context.worker.submit(
                lambda client, cancel, _p: client.audio.get(ds, audio_id, cancel=cancel),
                priority=priority, description="Reading a detection's audio record")
            handle.succeeded.connect(fetched)
            return handle
        dest = downloaded_path(self.context.paths.audio_cache, job_id, file)

        def downloaded(path: Path) -> None:
            self._downloaded[file.id] = path
            on_path(path)

        if file.id in self._downloaded:
            downloaded(self._downloaded[file.id])
            return None

        def download(client: Any, cancel: Any, progress: Any) -> Path:
            if dest.exists():
                return dest
            dest.parent.mkdir(parents=True, exist_ok=True)
            part = dest.with_name(dest.name + ".part")
            client.inference_jobs.download_file(job_id, file.id, part, progress=progress,
                                                cancel=cancel)
            part.replace(dest)
            return dest

        handle = self.context.worker.submit(download, priority=priority,
                                            description="Downloading an inference file")
        handle.succeeded.connect(downloaded)
        return handle

    # -- drafts ------------------------------------------------------------------------
    def dataset(self, dataset_id: str) -> RequestHandle:
        return self.context.worker.submit(
            lambda client, cancel, _p: client.datasets.get(dataset_id, cancel=cancel),
            priority=Priority.USER, description="Reading the dataset")

    def drafts(self, dataset_id: str) -> RequestHandle:
        """The dataset's draft annotation sets (newest version first)."""
        def job(client: Any, cancel: Any, _p: Any) -> list[AnnotationSet]:
            sets = [s for s in client.annotation_sets.iter_items(dataset_id, cancel=cancel)
                    if s.status == "draft"]
            return sorted(sets, key=lambda s: -s.version)

        return self.context.worker.submit(job, priority=Priority.USER,
                                          description="Listing draft annotation sets")

    def create_draft(self, dataset_id: str) -> RequestHandle:
        return self.context.worker.submit(
            lambda client, cancel, _p: client.annotation_sets.create(dataset_id, cancel=cancel),
            priority=Priority.USER, description="Creating a draft annotation set")

    # -- progress ----------------------------------------------------------------------
    def save_later(self, job_id: str,
                   state: Mapping[str, Any] | Callable[[], Mapping[str, Any]]) -> None:
        """Keep ``state`` as the job's review progress, written shortly off the GUI thread.

        ``state`` may be a function: it is called once when the write is due, so a burst
        of changes costs one snapshot.
        """
        self._pending[job_id] = state
        if not self._timer.isActive():
            self._timer.start()

    def _snapshot(self) -> dict[str, dict[str, Any]]:
        pending, self._pending = self._pending, {}
        return {job_id: dict(state() if callable(state) else state)
                for job_id, state in pending.items()}

    def _save_pending(self) -> None:
        snapshot = self._snapshot()
        if snapshot:
            self.context.thread_pool.start(lambda: self._write(snapshot))

    def _write(self, snapshot: Mapping[str, Mapping[str, Any]]) -> None:
        with self._lock:  # one write at a time: a later snapshot never lands first
            for job_id, state in snapshot.items():
                try:
                    self.store.save(self.scope, job_id, state)
                except OSError as exc:
                    log.warning("Review progress of job %s not saved: %s", job_id, exc)

    def flush(self) -> None:
        """Write what is pending now (on close: the panel is going away)."""
        self._timer.stop()
        self._write(self._snapshot())

    def shutdown(self) -> None:
        """Save what is pending; answers still in flight are dropped."""
        self.flush()
        self.closed = True
