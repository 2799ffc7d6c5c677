"""DraftWriter: review decisions written as regions of a draft annotation set.

Each dataset of the reviewed files has a target draft (chosen, or created on the
first accept through the worker). The draft is opened in the Labels dock
(LabellingPanel), so its regions are edited through the AnnotationSession: the
journal keeps them and the sync sends them, like any edit. A decision is written
once that session is loaded; until then its key waits in :attr:`pending` (kept
with the review's progress, so nothing is lost across a restart). Writing is
idempotent: an accepted item has exactly one region (its ``region_id``), any
other decision none.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Signal

from relay_desktop.api.models import AnnotationSet, Dataset, InferenceFile
from relay_desktop.core.annotations.document import Region, new_local_id
from relay_desktop.core.review.queue import ACCEPTED, Key, ReviewItem, ReviewQueue
from relay_desktop.services.review import ReviewService, is_from_dataset


class DraftWriter(QObject):
    """Keeps each dataset's draft in line with the decisions (see the module doc).

    Signals:
        message(str): something to tell the user (a new draft, a refused edit...).
        targets_changed(): the drafts listed or chosen changed.
        changed(): what is kept of the review changed (a draft chosen, a decision written).
    """

    message = Signal(str)
    targets_changed = Signal()
    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service: ReviewService | None = None
        self.labelling: Any = None
        self.queue: ReviewQueue | None = None
        self.files: dict[str, InferenceFile] = {}
        self.datasets: dict[str, Dataset] = {}
        self.draft_sets: dict[str, list[AnnotationSet]] = {}
        #: dataset id -> the draft accepted detections go to (absent: a new one)
        self.drafts: dict[str, str] = {}
        #: decisions not yet written to their draft
        self.pending: set[Key] = set()
        self.audio_by_file: dict[str, Any] = {}
        self.shown_file_id: str | None = None
        self._creating: set[str] = set()
        self._session: Any = None
        self._ready_set: str | None = None

    # -- wiring ------------------------------------------------------------------------
    def set_service(self, service: ReviewService | None) -> None:
        self.service = service

    def set_labelling(self, labelling: Any) -> None:
        if self.labelling is not None:
            self.labelling.session_changed.disconnect(self._session_changed)
        self.labelling = labelling
        if labelling is not None:
            labelling.session_changed.connect(self._session_changed)
            self._session_changed(labelling.session)

    def start(self, queue: ReviewQueue, files: Mapping[str, InferenceFile],
              drafts: Mapping[str, str], pending: Iterable[Key]) -> None:
        """A job's review begins (new containers: a snapshot of the last job stays intact)."""
        self.queue = queue
        self.files = dict(files)
        self.drafts = dict(drafts)
        self.pending = set(pending)
        self.datasets, self.draft_sets, self.audio_by_file = {}, {}, {}
        self.shown_file_id = None
        self.targets_changed.emit()

    def clear(self) -> None:
        self.queue = None
        self.files = {}
        self.drafts, self.pending = {}, set()
        self.datasets, self.draft_sets, self.audio_by_file = {}, {}, {}
        self.targets_changed.emit()

    # -- what the panel learns ---------------------------------------------------------
    def add_dataset(self, dataset: Dataset) -> None:
        self.datasets[dataset.id] = dataset
        self.targets_changed.emit()
        self.sync(dataset.id)

    def add_drafts(self, dataset_id: str, sets: list[AnnotationSet]) -> None:
        self.draft_sets[dataset_id] = list(sets)
        chosen = self.drafts.get(dataset_id)
        if chosen is not None and chosen not in {s.id for s in sets}:
            self.drafts.pop(dataset_id)  # deleted or published since
            self.changed.emit()
        self.targets_changed.emit()
        self.sync(dataset_id)

    def file_shown(self, file_id: str | None, audio: Any = None) -> None:
        """The editor shows this file (its dataset AudioFile when it has one)."""
        self.shown_file_id = file_id
        if file_id is not None and audio is not None:
            self.audio_by_file[file_id] = audio
        self._tell_labelling_audio()

    # -- targets -----------------------------------------------------------------------
    def dataset_of(self, file_id: str) -> str | None:
        file = self.files.get(file_id)
        return str(file.source_dataset_id) if file is not None and is_from_dataset(
            file) else None

    def sets_of(self, dataset_id: str) -> list[AnnotationSet]:
        return list(self.draft_sets.get(dataset_id, []))

    def chosen(self, dataset_id: str) -> str | None:
        return self.drafts.get(dataset_id)

    def choose(self, dataset_id: str, set_id: str | None) -> None:
        """Accepted detections of the dataset go to ``set_id`` (None: a new draft)."""
        if set_id:
            self.drafts[dataset_id] = set_id
        else:
            self.drafts.pop(dataset_id, None)
        self.changed.emit()
        if set_id:
            self.sync(dataset_id, open_draft=True)

    # -- writing -----------------------------------------------------------------------
    def mark(self, key: Key) -> None:
        """The decision on ``key`` changed: write it (now, or once its draft is open)."""
        ds = self.dataset_of(key[0])
        item = self.queue.get(key) if self.queue is not None else None
        if ds is None or item is None or (item.decision != ACCEPTED and not item.region_id):
            return  # nothing to write: no region was ever made for it
        self.pending.add(key)
        self.sync(ds, open_draft=True)

    def sync(self, dataset_id: str, open_draft: bool = False) -> None:
        """Write the dataset's pending decisions if its draft is open; else open it when
        ``open_draft`` or something waits."""
        if self.labelling is None or self.queue is None:
            return
        keys = [k for k in self.pending if self.dataset_of(k[0]) == dataset_id]
        if not keys and not open_draft:
            return
        session = self._ready_session(dataset_id)
        if session is None:
            return
        for key in keys:
            self._write(session, self.queue.item(key))
            self.pending.discard(key)
        if keys:
            self.changed.emit()

    def _ready_session(self, dataset_id: str) -> Any:
        """The loaded session of the dataset's draft; else open it (None meanwhile)."""
        set_id = self.drafts.get(dataset_id)
        session = self.labelling.session
        if set_id is not None and session is not None and session.set_id == set_id:
            return session if self._ready_set == set_id else None
        if self.service is None:
            return None
        if set_id is None:
            if dataset_id not in self._creating:
                self._creating.add(dataset_id)
                handle = self.service.create_draft(dataset_id)
                handle.succeeded.connect(lambda s, ds=dataset_id: self._created(ds, s))
                handle.failed.connect(lambda exc, ds=dataset_id: self._create_failed(ds, exc))
            return None
        dataset = self.datasets.get(dataset_id)
        aset = next((s for s in self.draft_sets.get(dataset_id, []) if s.id == set_id), None)
        if dataset is not None and aset is not None:  # else: add_dataset/add_drafts retry
            self._ready_set = None
            self.labelling.set_dataset(dataset)
            self.labelling.open_set(aset)
        return None

    def _created(self, dataset_id: str, new_set: AnnotationSet) -> None:
        self._creating.discard(dataset_id)
        self.draft_sets.setdefault(dataset_id, []).insert(0, new_set)
        self.drafts[dataset_id] = new_set.id
        self.targets_changed.emit()
        self.changed.emit()
        self.message.emit(f"Accepted detections go to the new draft v{new_set.version}.")
        self.sync(dataset_id, open_draft=True)

    def _create_failed(self, dataset_id: str, exc: BaseException) -> None:
        self._creating.discard(dataset_id)
        self.message.emit(f"A draft could not be created: {exc}")

    def _session_changed(self, session: Any) -> None:
        if session is self._session:
            return
        self._session = session
        self._ready_set = None
        if session is None:
            return
        session.loaded.connect(lambda s=session: self._session_loaded(s))
        session.rejected_edit.connect(self._refused)
        if session.document.artifact_types:  # opened (and loaded) before we watched it
            self._ready_set = session.set_id

    def _refused(self, text: str) -> None:
        if self._session is not None and self._session.set_id in self.drafts.values():
            self.message.emit(text)

    def _session_loaded(self, session: Any) -> None:
        if session is not self._session:
            return
        self._ready_set = session.set_id
        self._tell_labelling_audio()
        for ds, set_id in list(self.drafts.items()):
            if set_id == session.set_id:
                self.sync(ds)

    def _tell_labelling_audio(self) -> None:
        """Let the Labels dock draw the open draft's regions on the file shown."""
        lab, fid = self.labelling, self.shown_file_id
        audio = self.audio_by_file.get(fid) if fid is not None else None
        file = self.files.get(fid) if fid is not None else None
        if lab is None or audio is None or file is None:
            return
        if lab.dataset is not None and lab.dataset.id == file.source_dataset_id:
            lab.show_audio(audio)

    def _write(self, session: Any, item: ReviewItem) -> None:
        file = self.files[item.file_id]
        doc = session.document
        rid = item.region_id
        if item.decision == ACCEPTED:
            if not rid:
                rid = new_local_id()
                if self.queue is not None:
                    self.queue.set_region_id(item.key, rid)
            region = Region(rid, str(file.source_audio_id), item.artifact_type, item.start_ms,
                            item.end_ms, confidence=round(item.confidence, 4))
            existing = doc.get(rid)
            if existing is None:
                session.add([region], f"Accept {item.artifact_type} detection")
            elif existing.fields() != region.fields():
                session.edit(rid, "edit", artifact_type=region.artifact_type,
                             start_ms=region.start_ms, end_ms=region.end_ms)
        elif rid and rid in doc:
            session.delete([rid])
