"""Where a model came from: its training job, dataset (by name) and annotation set version.

:func:`fetch_lineage` runs on the API thread (through the ApiWorker); each part
that cannot be read (a deleted dataset, a job another server ran) is left None
with a note, so the rest still shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from relay_desktop.api import CancelToken, RelayClient, errors
from relay_desktop.api.models import Model, TrainingJob


@dataclass(frozen=True)
class Lineage:
    """The model's origin as far as the server still knows it."""

    model_id: str
    training_job: TrainingJob | None
    dataset_id: str | None
    dataset_name: str | None
    annotation_set_id: str | None
    set_version: int | None
    notes: tuple[str, ...] = ()

    def dataset_text(self) -> str:
        if self.dataset_name is not None:
            return self.dataset_name
        return "(deleted)" if self.dataset_id else "unknown"

    def set_text(self) -> str:
        if self.set_version is not None:
            return f"v{self.set_version}"
        return "(deleted)" if self.annotation_set_id else "unknown"


def fetch_lineage(client: RelayClient, cancel: CancelToken, model: Model) -> Lineage:
    """Read the training job, the dataset's name and the set's version (API thread)."""
    notes: list[str] = []
    job: TrainingJob | None = None
    if model.training_job_id:
        try:
            job = client.training_jobs.get(model.training_job_id, cancel=cancel)
        except errors.NotFound:
            notes.append("The training job is no longer on the server.")
    dataset_id = model.dataset_id or (job.dataset_id if job else None)
    set_id = model.annotation_set_id or (job.annotation_set_id if job else None)
    name: str | None = None
    version: int | None = None
    if dataset_id:
        try:
            name = client.datasets.get(dataset_id, cancel=cancel).name
        except errors.NotFound:
            notes.append("The dataset it was trained on has been deleted.")
        if name is not None and set_id:
            for item in client.annotation_sets.iter_items(dataset_id, cancel=cancel):
                if item.id == set_id:
                    version = item.version
                    break
    return Lineage(model_id=model.id, training_job=job, dataset_id=dataset_id,
                   dataset_name=name, annotation_set_id=set_id, set_version=version,
                   notes=tuple(notes))
