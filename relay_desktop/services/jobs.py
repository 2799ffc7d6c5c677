"""JobsService: lists and follows the training and inference jobs of one connection.

Lists are read through the ApiWorker; running jobs are followed through the
connection's :class:`JobMonitor` (kinds ``training_job`` and ``inference_job``,
one group each, so one poll reads every running job of a kind). Nothing is
polled once every job is finished; while one runs, the monitor backs off
1 -> 2 -> 5 -> 10 s, and starts over whenever a job has visibly moved (a new
status or a finished epoch), so a slow job is read rarely and a quick one
shows each epoch.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api import CancelToken, RelayClient
from relay_desktop.api.errors import NotFound
from relay_desktop.api.models import InferenceJob, Page, TrainingJob
from relay_desktop.core.job_start import start_inference, start_training
from relay_desktop.services.api_worker import Priority, RequestHandle
from relay_desktop.services.context import AppContext
from relay_desktop.services.job_monitor import JobMonitor

log = logging.getLogger(__name__)

TRAINING, INFERENCE = "training", "inference"
KINDS = (TRAINING, INFERENCE)
MONITOR_KIND = {TRAINING: "training_job", INFERENCE: "inference_job"}
SCOPE = "jobs"
TERMINAL = ("completed", "failed", "cancelled")
LIST_LIMIT = 100   # newest jobs listed per kind


def poll_training_jobs(client: RelayClient, cancel: CancelToken, _scope: str,
                       ids: Sequence[str]) -> dict[str, tuple[bool, Any]]:
    """Latest state of training jobs; terminal once completed, failed or cancelled (or gone)."""
    out: dict[str, tuple[bool, Any]] = {}
    for job_id in ids:
        try:
            job = client.training_jobs.get(job_id, cancel=cancel)
        except NotFound:
            out[job_id] = (True, None)
            continue
        out[job_id] = (job.status in TERMINAL, job)
    return out


def poll_inference_jobs(client: RelayClient, cancel: CancelToken, _scope: str,
                        ids: Sequence[str]) -> dict[str, tuple[bool, Any]]:
    """Latest state of inference jobs, with their files (per-file status and counts)."""
    out: dict[str, tuple[bool, Any]] = {}
    for job_id in ids:
        try:
            job = client.inference_jobs.get(job_id, cancel=cancel)
        except NotFound:
            out[job_id] = (True, None)
            continue
        out[job_id] = (job.status in TERMINAL, job)
    return out


def newest(list_page: Callable[[int, int], Page[Any]], limit: int = LIST_LIMIT) -> list[Any]:
    """Up to ``limit`` newest items of an oldest-first list, newest first (two reads at most)."""
    first = list_page(1, limit)
    items = list(first.items)
    if first.has_more and first.total:
        last = -(-first.total // limit)
        items = list(list_page(last, limit).items)
        if len(items) < limit:
            before = first.items if last == 2 else list_page(last - 1, limit).items
            items = list(before)[len(items):] + items
    items.reverse()
    return items


class JobsService(QObject):
    """Lists and follows training and inference jobs of one connection.

    Signals:
        jobs_changed(): the lists below changed (after refresh or an update).
        job_updated(str, object): kind ("training" | "inference"), the job's latest state
            (TrainingJob, or InferenceJob WITH its files when it was fetched by id).
        job_finished(str, object): kind, the job in its final state (completed/failed/cancelled).
        failed(str): a list/refresh failed (a sentence).
    """

    jobs_changed = Signal()
    job_updated = Signal(str, object)
    job_finished = Signal(str, object)
    failed = Signal(str)

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._own_monitor = context.monitor is None
        self.monitor = context.monitor or JobMonitor(context.worker, parent=self)
        self.monitor.register(MONITOR_KIND[TRAINING], poll_training_jobs)
        self.monitor.register(MONITOR_KIND[INFERENCE], poll_inference_jobs)
        self.monitor.updated.connect(self._on_updated)
        self.monitor.finished.connect(self._on_finished)
        self._jobs: dict[str, dict[str, Any]] = {TRAINING: {}, INFERENCE: {}}
        self._tracked: dict[str, set[str]] = {TRAINING: set(), INFERENCE: set()}
        self._handles: set[RequestHandle] = set()
        self._refreshing: RequestHandle | None = None
        self._closed = False

    # ---- reading -------------------------------------------------------------------------
    def training_jobs(self) -> list[TrainingJob]:
        """Known training jobs, newest first."""
        return self._sorted(TRAINING)

    def inference_jobs(self) -> list[InferenceJob]:
        """Known inference jobs, newest first."""
        return self._sorted(INFERENCE)

    def job(self, kind: str, job_id: str) -> Any:
        """The latest known state of one job, or None."""
        return self._jobs[kind].get(job_id)

    def tracked(self, kind: str | None = None) -> int:
        """How many running jobs are followed (of ``kind``, or of both)."""
        return sum(len(self._tracked[k]) for k in KINDS if kind in (None, k))

    def _sorted(self, kind: str) -> list[Any]:
        def key(job: Any) -> tuple[float, str]:
            stamp = job.created_at.timestamp() if job.created_at is not None else 0.0
            return (stamp, job.id)
        return sorted(self._jobs[kind].values(), key=key, reverse=True)

    def refresh(self) -> None:
        """List both kinds (the newest of each); follow every one still running."""
        if self._closed:
            return
        if self._refreshing is not None and not self._refreshing.done:
            return

        def read(client: RelayClient, cancel: CancelToken, _progress: Any) -> tuple[list, list]:
            training = newest(lambda p, s: client.training_jobs.list(p, s, cancel=cancel))
            inference = newest(lambda p, s: client.inference_jobs.list(p, s, cancel=cancel))
            return training, inference

        handle = self._submit(read, "Listing jobs", Priority.BACKGROUND)
        self._refreshing = handle
        handle.succeeded.connect(self._on_listed)
        handle.failed.connect(lambda exc: self.failed.emit(f"The jobs could not be listed: "
                                                           f"{exc}"))

    def _on_listed(self, result: tuple[list[Any], list[Any]]) -> None:
        if self._closed:
            return
        lists: tuple[list[Any], list[Any]] = result
        for kind, jobs in ((TRAINING, lists[0]), (INFERENCE, lists[1])):
            fresh: dict[str, Any] = {}
            for job in jobs:
                known = self._jobs[kind].get(job.id)
                # an inference job read by id carries files; a list row does not
                if kind == INFERENCE and known is not None and known.files and not job.files:
                    job = _with_files(job, known)
                fresh[job.id] = job
            for job_id in self._tracked[kind]:   # followed jobs older than the listed ones
                if job_id not in fresh and job_id in self._jobs[kind]:
                    fresh[job_id] = self._jobs[kind][job_id]
            self._jobs[kind] = fresh
            for job in jobs:
                if job.status not in TERMINAL:
                    self.track(kind, job.id)
        self.jobs_changed.emit()

    # ---- following -----------------------------------------------------------------------
    def track(self, kind: str, job_id: str) -> None:
        """Follow a job until it is terminal (polled with backoff, only while running)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if self._closed:
            return
        self._tracked[kind].add(job_id)
        self.monitor.watch(MONITOR_KIND[kind], SCOPE, job_id)

    def _kind_of(self, monitor_kind: str) -> str | None:
        for kind, name in MONITOR_KIND.items():
            if name == monitor_kind:
                return kind
        return None

    def _on_updated(self, monitor_kind: str, scope: str, job_id: str, job: Any) -> None:
        kind = self._kind_of(monitor_kind)
        if kind is None or scope != SCOPE or job is None or job_id not in self._tracked[kind]:
            return
        before = self._jobs[kind].get(job_id)
        self._jobs[kind][job_id] = job
        if before is not None and _moved(before, job):
            # it moves: read it again soon (after the monitor has settled this poll's backoff)
            QTimer.singleShot(0, self, lambda: self._hurry(kind, job_id))
        self.job_updated.emit(kind, job)
        self.jobs_changed.emit()

    def _hurry(self, kind: str, job_id: str) -> None:
        if not self._closed and job_id in self._tracked[kind]:
            self.monitor.watch(MONITOR_KIND[kind], SCOPE, job_id)

    def _on_finished(self, monitor_kind: str, scope: str, job_id: str, job: Any) -> None:
        kind = self._kind_of(monitor_kind)
        if kind is None or scope != SCOPE or job_id not in self._tracked[kind]:
            return
        self._tracked[kind].discard(job_id)
        if job is None:   # deleted on the server
            self._jobs[kind].pop(job_id, None)
            self.jobs_changed.emit()
            return
        self._store_final(kind, job)

    def _store_final(self, kind: str, job: Any) -> None:
        self._jobs[kind][job.id] = job
        self.job_updated.emit(kind, job)
        self.job_finished.emit(kind, job)
        self.jobs_changed.emit()

    # ---- actions -------------------------------------------------------------------------
    def start_training(self, dataset_id: str, set_id: str, config: Mapping[str, Any]
                       ) -> RequestHandle:
        """Create a training job (USER priority); once created it is listed and followed.

        A create whose answer was lost is recovered, never sent twice (see
        (:mod:`relay_desktop.core.job_start`)."""
        body = dict(config)
        known = frozenset(self._jobs[TRAINING])
        handle = self._submit(
            lambda client, cancel, _p: start_training(
                client, dataset_id, set_id, body, cancel=cancel, known=known),
            "Starting training", Priority.USER)
        handle.succeeded.connect(lambda job: self._on_started(TRAINING, job))
        return handle

    def start_inference(self, model_id: str, config: Mapping[str, Any]) -> RequestHandle:
        """Create an inference job (USER priority); once created it is listed and followed.

        A create whose answer was lost is recovered, never sent twice."""
        body = dict(config)
        known = frozenset(self._jobs[INFERENCE])
        handle = self._submit(
            lambda client, cancel, _p: start_inference(client, model_id, body, cancel=cancel,
                                                       known=known),
            "Creating an inference job", Priority.USER)
        handle.succeeded.connect(lambda job: self._on_started(INFERENCE, job))
        return handle

    def _on_started(self, kind: str, job: Any) -> None:
        if self._closed:
            return
        self._jobs[kind][job.id] = job
        if job.status not in TERMINAL:
            self.track(kind, job.id)
        self.job_updated.emit(kind, job)
        self.jobs_changed.emit()

    def cancel(self, kind: str, job_id: str) -> RequestHandle:
        """Cancel a pending or running job (USER priority); its final state follows."""
        if kind == TRAINING:
            handle = self._submit(lambda client, cancel, _p: client.training_jobs.cancel(
                job_id, cancel=cancel), "Cancelling a training job", Priority.USER)
        elif kind == INFERENCE:
            handle = self._submit(lambda client, cancel, _p: client.inference_jobs.cancel(
                job_id, cancel=cancel), "Cancelling an inference job", Priority.USER)
        else:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        handle.succeeded.connect(lambda job: self._on_cancelled(kind, job))
        return handle

    def _on_cancelled(self, kind: str, job: Any) -> None:
        if self._closed:
            return
        if kind == INFERENCE:
            known = self._jobs[kind].get(job.id)
            if known is not None and known.files and not job.files:
                job = _with_files(job, known)
        if job.id in self._tracked[kind] and job.status in TERMINAL:
            self._tracked[kind].discard(job.id)
            self.monitor.unwatch(MONITOR_KIND[kind], SCOPE, job.id)
        if job.status in TERMINAL:
            self._store_final(kind, job)
        else:
            self._on_started(kind, job)

    def _submit(self, fn: Any, description: str, priority: Priority) -> RequestHandle:
        handle = self.context.worker.submit(fn, priority=priority, description=description)
        self._handles.add(handle)
        handle.finished.connect(lambda: self._handles.discard(handle))
        return handle

    def shutdown(self) -> None:
        """Stop following (requests in flight are cancelled); the lists stay readable."""
        if self._closed:
            return
        self._closed = True
        for handle in list(self._handles):
            handle.cancel()
        self._handles.clear()
        with contextlib.suppress(RuntimeError, TypeError):
            self.monitor.updated.disconnect(self._on_updated)
            self.monitor.finished.disconnect(self._on_finished)
        for kind in KINDS:
            for job_id in self._tracked[kind]:
                self.monitor.unwatch(MONITOR_KIND[kind], SCOPE, job_id)
            self._tracked[kind].clear()
        if self._own_monitor:
            self.monitor.stop()


def _moved(before: Any, after: Any) -> bool:
    """The job visibly progressed: a new status, epoch or file finished."""
    if before.status != after.status:
        return True
    if isinstance(after, TrainingJob):
        b = before.progress.epoch if before.progress else 0
        a = after.progress.epoch if after.progress else 0
        return a != b
    return bool(getattr(before, "processed_files", 0) != getattr(after, "processed_files", 0))


def _with_files(job: InferenceJob, known: InferenceJob) -> InferenceJob:
    return replace(job, files=known.files)
