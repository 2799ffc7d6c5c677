"""Set-level operations run on the API thread: open a set, copy one into a new draft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from relay_desktop.core.annotations.diff import CLIENT_ID_KEY
from relay_desktop.core.annotations.document import (
    AnnotationDocument,
    ArtifactTypeInfo,
    Region,
    new_local_id,
)
from relay_desktop.core.journal import Journal, ServerAnnotation
from relay_desktop.core.prepublish import FileInfo

if TYPE_CHECKING:
    from relay_desktop.api import CancelToken, RelayClient


@dataclass(frozen=True)
class LoadedSet:
    """Everything an editor needs for one set, read from the server and merged with the journal."""

    dataset_id: str
    set_id: str
    version: int
    status: str
    artifact_types: list[ArtifactTypeInfo]
    files: list[FileInfo]
    regions: list[Region]

    @property
    def read_only(self) -> bool:
        return self.status != "draft"

    def document(self) -> AnnotationDocument:
        doc = AnnotationDocument(
            self.dataset_id, self.set_id, list(self.artifact_types),
            durations_ms={f.audio_file_id: f.duration_ms for f in self.files},
            filenames={f.audio_file_id: f.filename for f in self.files},
            read_only=self.read_only)
        doc.load(self.regions)
        return doc


def load_set(client: RelayClient, journal: Journal, dataset_id: str, set_id: str,
             cancel: CancelToken | None = None, base_url: str = "") -> LoadedSet:
    """Read the dataset, its files and the set; merge the set with the local journal."""
    dataset = client.datasets.get(dataset_id, cancel=cancel)
    files = [FileInfo(a.id, a.filename, a.duration_ms)
             for a in client.audio.iter_items(dataset_id, cancel=cancel)]
    detail = client.annotation_sets.get(dataset_id, set_id, cancel=cancel)
    server = [ServerAnnotation.from_api(a) for a in detail.annotations]
    if detail.status == "draft":
        regions = journal.merge_server(set_id, dataset_id, server, base_url)
    else:
        regions = [Region.from_json({"local_id": a.client_id or f"srv-{a.server_id}", **a.fields})
                   for a in server]
    types = [ArtifactTypeInfo(t.name, t.color, t.description) for t in dataset.artifact_types]
    return LoadedSet(dataset_id, set_id, detail.version, detail.status, types, files, regions)


def copy_into_new_draft(client: RelayClient, dataset_id: str, source_set_id: str | None,
                        cancel: CancelToken | None = None) -> Any:
    """Create a draft, optionally seeded with the annotations of ``source_set_id``."""
    new_set = client.annotation_sets.create(dataset_id, cancel=cancel)
    if source_set_id:
        source = client.annotation_sets.get(dataset_id, source_set_id, cancel=cancel)
        bodies = []
        for ann in source.annotations:
            bodies.append({"audio_file_id": ann.audio_file_id,
                           "artifact_type": ann.artifact_type, "start_ms": ann.start_ms,
                           "end_ms": ann.end_ms, "confidence": ann.confidence,
                           "extra_data": {CLIENT_ID_KEY: new_local_id(),
                                          "copied_from": ann.id,
                                          **({"note": ann.extra_data["note"]}
                                             if (ann.extra_data or {}).get("note") else {})}})
        for start in range(0, len(bodies), 1000):
            client.annotations.bulk_create(dataset_id, new_set.id, bodies[start:start + 1000],
                                           cancel=cancel)
        new_set = client.annotation_sets.get(dataset_id, new_set.id, cancel=cancel)
    return new_set
