"""EvaluationService: an inference job's detections scored against a ground-truth set.

Reading runs on the API thread (the job with its files and detections, its
model's artifact types, the annotation sets of the datasets its files came
from, then the chosen set's annotations); matching, scores and the threshold
sweep run on the thread pool (:mod:`relay_desktop.core.evaluation`), never on
the GUI thread. Only files added from the set's dataset that finished are
evaluated: their labels are the set's annotations of the same audio file.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QTimer, Signal

from relay_desktop.api import RelayClient, errors
from relay_desktop.api.cancel import CancelToken
from relay_desktop.api.models import AnnotationSet, InferenceFile, InferenceJob
from relay_desktop.core.evaluation import (
    Matching,
    Scores,
    Span,
    SweepPoint,
    all_types,
    best_f1,
    match_files,
    scores_of,
    sweep,
)
from relay_desktop.services import audio_tasks
from relay_desktop.services.api_worker import Job, Priority, RequestHandle
from relay_desktop.services.context import AppContext

log = logging.getLogger(__name__)

RECOMPUTE_DELAY_MS = 150


@dataclass(frozen=True)
class JobSources:
    """What an evaluation of one job can choose from."""

    job: InferenceJob
    model_types: tuple[str, ...]
    sets: tuple[AnnotationSet, ...]  # of every dataset the job's files came from
    dataset_names: dict[str, str] = field(default_factory=dict)

    def evaluable_files(self, dataset_id: str) -> list[InferenceFile]:
        """Finished files of the job added from ``dataset_id``."""
        return evaluable_files(self.job, dataset_id)


@dataclass(frozen=True)
class FileResult:
    """One inference file's matching (spans keyed by the inference file's id)."""

    file: InferenceFile
    matching: Matching
    scores: Scores

    @property
    def audio_id(self) -> str:
        return self.file.source_audio_id or ""

    @property
    def dataset_id(self) -> str:
        return self.file.source_dataset_id or ""


@dataclass(frozen=True)
class EvaluationResult:
    """Figures of one job against one set at one overlap tolerance."""

    job_id: str
    annotation_set: AnnotationSet
    tolerance_ms: int
    types: tuple[str, ...]
    overall: Scores
    per_type: dict[str, Scores]
    files: tuple[FileResult, ...]
    sweep: tuple[SweepPoint, ...]
    best: SweepPoint | None

    def file(self, file_id: str) -> FileResult | None:
        return next((f for f in self.files if f.file.id == file_id), None)


def evaluable_files(job: InferenceJob, dataset_id: str) -> list[InferenceFile]:
    return [f for f in job.files
            if f.source_dataset_id == dataset_id and f.source_audio_id
            and f.status == "completed" and f.detections is not None]


def spans_of(job: InferenceJob, annotation_set_id: str, dataset_id: str,
             annotations: Sequence[object]) -> tuple[list[InferenceFile], list[Span], list[Span]]:
    """The files evaluated, their labels and their detections, keyed by inference file id."""
    files = evaluable_files(job, dataset_id)
    by_audio: dict[str, list[object]] = {}
    for a in annotations:
        by_audio.setdefault(str(getattr(a, "audio_file_id", "")), []).append(a)
    truth: list[Span] = []
    detections: list[Span] = []
    for f in files:
        for a in by_audio.get(f.source_audio_id or "", ()):
            truth.append(Span(f.id, str(getattr(a, "artifact_type", "")),
                              int(getattr(a, "start_ms", 0)), int(getattr(a, "end_ms", 0))))
        for d in f.detections or ():
            detections.append(Span(f.id, d.artifact_type, d.start_ms, d.end_ms,
                                   float(d.confidence)))
    return files, truth, detections


def compute(job: InferenceJob, annotation_set: AnnotationSet, annotations: Sequence[object],
            model_types: Sequence[str], tolerance_ms: int) -> EvaluationResult:
    """Everything the panel shows (runs on the thread pool)."""
    files, truth, detections = spans_of(job, annotation_set.id, annotation_set.dataset_id,
                                        annotations)
    types = list(model_types) or all_types(truth, detections)
    matchings = match_files(truth, detections, types, tolerance_ms)
    empty = Matching([], [], [])
    overall, per_type = scores_of(matchings.values(), types)
    results = []
    for f in files:
        m = matchings.get(f.id, empty)
        results.append(FileResult(f, m, scores_of([m], types)[0]))
    points = sweep(truth, detections, tolerance_ms=tolerance_ms, types=types)
    return EvaluationResult(job.id, annotation_set, int(tolerance_ms), tuple(types), overall,
                            per_type, tuple(results), tuple(points), best_f1(points))


def _load_sources(client: RelayClient, cancel: CancelToken, job_id: str) -> JobSources:
    job = client.inference_jobs.get(job_id, cancel=cancel)
    types: tuple[str, ...] = ()
    try:
        types = tuple(client.models.get(job.model_id, cancel=cancel).artifact_types)
    except errors.NotFound:  # a deleted model: score every type seen
        log.info("model %s of job %s is gone", job.model_id, job.id)
    dataset_ids = sorted({f.source_dataset_id for f in job.files if f.source_dataset_id})
    sets: list[AnnotationSet] = []
    names: dict[str, str] = {}
    for ds in dataset_ids:
        try:
            names[ds] = client.datasets.get(ds, cancel=cancel).name
            sets.extend(client.annotation_sets.iter_items(ds, cancel=cancel))
        except errors.NotFound:  # the dataset was deleted since
            continue
    sets.sort(key=lambda s: (s.dataset_id, s.status != "published", -s.version))
    return JobSources(job, types, tuple(sets), names)


class EvaluationService(QObject):
    """Loads an inference job and a ground-truth set; computes figures off the GUI thread.

    Signals:
        sources_loaded(object): a :class:`JobSources` (the job, its model's types and the
            sets it can be evaluated against).
        result_ready(object): an :class:`EvaluationResult` for the current job, set and
            tolerance (stale results are dropped).
        busy(bool): loading or computing started (True) / ended (False).
        failed(str, object): what failed (a phrase, e.g. "Loading the job") and the error.
    """

    sources_loaded = Signal(object)
    result_ready = Signal(object)
    busy = Signal(bool)
    failed = Signal(str, object)

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._context = context
        self._sources: JobSources | None = None
        self._set: AnnotationSet | None = None
        self._annotations: tuple[object, ...] | None = None
        self._tolerance_ms = 0
        self._generation = 0
        self._pending: list[RequestHandle] = []
        self._task: audio_tasks.TaskHandle | None = None
        self._result: EvaluationResult | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RECOMPUTE_DELAY_MS)
        self._timer.timeout.connect(self._compute)

    # -- state --------------------------------------------------------------------------------
    def sources(self) -> JobSources | None:
        return self._sources

    def annotation_set(self) -> AnnotationSet | None:
        return self._set

    def tolerance_ms(self) -> int:
        return self._tolerance_ms

    def result(self) -> EvaluationResult | None:
        return self._result

    # -- actions ------------------------------------------------------------------------------
    def load_job(self, job_id: str) -> RequestHandle:
        """Read the job (files and detections), its model's types and candidate sets."""
        self._cancel_all()
        self._generation += 1
        self._sources, self._set, self._annotations, self._result = None, None, None, None
        gen = self._generation
        handle = self._submit(lambda client, cancel, _p: _load_sources(client, cancel, job_id),
                              f"Load inference job {job_id} for evaluation")
        handle.succeeded.connect(lambda s, g=gen: self._sources_loaded(g, s))
        handle.failed.connect(lambda exc: self.failed.emit("Loading the inference job", exc))
        return handle

    def reload(self) -> RequestHandle | None:
        """Read the current job and set again (new detections or labels)."""
        if self._sources is None:
            return None
        chosen = self._set
        handle = self.load_job(self._sources.job.id)
        if chosen is not None:
            handle.succeeded.connect(lambda _s: self.choose_set(chosen))
        return handle

    def choose_set(self, annotation_set: AnnotationSet) -> RequestHandle:
        """Use ``annotation_set`` as ground truth (its annotations are read, then scored)."""
        for h in self._pending:
            h.cancel()
        self._generation += 1
        gen = self._generation
        self._set, self._annotations, self._result = annotation_set, None, None
        ds, sid = annotation_set.dataset_id, annotation_set.id
        handle = self._submit(
            lambda client, cancel, _p: client.annotation_sets.get(ds, sid, cancel=cancel),
            f"Load annotation set v{annotation_set.version} for evaluation")
        handle.succeeded.connect(lambda detail, g=gen: self._set_loaded(g, detail))
        handle.failed.connect(lambda exc: self.failed.emit("Loading the ground-truth set", exc))
        return handle

    def set_tolerance(self, tolerance_ms: int) -> None:
        """Change the overlap tolerance; figures follow a moment later."""
        tolerance_ms = max(0, int(tolerance_ms))
        if tolerance_ms == self._tolerance_ms:
            return
        self._tolerance_ms = tolerance_ms
        if self._annotations is not None:
            self._timer.start()

    def recompute_now(self) -> None:
        """Compute at once (skips the tolerance debounce)."""
        self._timer.stop()
        self._compute()

    def fetch_audio(self, dataset_id: str, audio_id: str) -> RequestHandle:
        """The dataset AudioFile behind an evaluated file (to open it in an editor)."""
        return self._context.worker.submit(
            lambda client, cancel, _p: client.audio.get(dataset_id, audio_id, cancel=cancel),
            priority=Priority.USER, description="Read an audio file to open it")

    def shutdown(self) -> None:
        self._timer.stop()
        self._cancel_all()
        self._generation += 1

    # -- internals ----------------------------------------------------------------------------
    def _submit(self, fn: Job, description: str) -> RequestHandle:
        handle = self._context.worker.submit(fn, priority=Priority.USER, description=description)
        self._pending.append(handle)
        self.busy.emit(True)
        handle.finished.connect(lambda h=handle: self._done(h))
        return handle

    def _done(self, handle: RequestHandle) -> None:
        if handle in self._pending:
            self._pending.remove(handle)
        if not self._pending and self._task is None:
            self.busy.emit(False)

    def _cancel_all(self) -> None:
        for h in list(self._pending):
            h.cancel()
        self._pending.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _sources_loaded(self, gen: int, sources: JobSources) -> None:
        if gen != self._generation:
            return
        self._sources = sources
        self.sources_loaded.emit(sources)

    def _set_loaded(self, gen: int, detail: object) -> None:
        if gen != self._generation:
            return
        self._annotations = tuple(getattr(detail, "annotations", ()) or ())
        self._compute()

    def _compute(self) -> None:
        sources, chosen, annotations = self._sources, self._set, self._annotations
        if sources is None or chosen is None or annotations is None:
            return
        if self._task is not None:
            self._task.cancel()
        self._generation += 1
        gen = self._generation
        task = audio_tasks.submit(self._context.thread_pool, compute, sources.job, chosen,
                                  annotations, sources.model_types, self._tolerance_ms,
                                  description="Evaluating detections")
        self._task = task
        self.busy.emit(True)
        task.finished.connect(lambda r, g=gen, t=task: self._computed(g, t, r))
        task.failed.connect(lambda msg, t=task: self._compute_failed(t, msg))
        task.cancelled.connect(lambda t=task: self._task_ended(t))

    def _task_ended(self, task: audio_tasks.TaskHandle) -> None:
        if task is self._task:
            self._task = None
            if not self._pending:
                self.busy.emit(False)

    def _computed(self, gen: int, task: audio_tasks.TaskHandle,
                  result: EvaluationResult) -> None:
        self._task_ended(task)
        if gen != self._generation:
            return
        self._result = result
        self.result_ready.emit(result)

    def _compute_failed(self, task: audio_tasks.TaskHandle, message: str) -> None:
        self._task_ended(task)
        self.failed.emit("Evaluating the detections", RuntimeError(message))
