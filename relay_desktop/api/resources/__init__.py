"""One thin class per API resource; all of them go through ``RelayClient._request``."""

from relay_desktop.api.resources.annotation_sets import AnnotationSetsResource
from relay_desktop.api.resources.annotations import AnnotationsResource
from relay_desktop.api.resources.audio import AudioResource
from relay_desktop.api.resources.datasets import DatasetsResource
from relay_desktop.api.resources.inference_jobs import InferenceJobsResource
from relay_desktop.api.resources.models import ModelsResource
from relay_desktop.api.resources.training_jobs import TrainingJobsResource

__all__ = [
    "AnnotationSetsResource",
    "AnnotationsResource",
    "AudioResource",
    "DatasetsResource",
    "InferenceJobsResource",
    "ModelsResource",
    "TrainingJobsResource",
]
