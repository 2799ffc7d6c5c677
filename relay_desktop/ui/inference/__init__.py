"""The Inference view: new jobs, per-file progress, adding files, export."""

from relay_desktop.ui.inference.dataset_files_dialog import DatasetFilesDialog
from relay_desktop.ui.inference.export_dialog import ExportDetectionsDialog
from relay_desktop.ui.inference.new_job_dialog import NewInferenceJobDialog
from relay_desktop.ui.inference.panel import InferencePanel

__all__ = ["DatasetFilesDialog", "ExportDetectionsDialog", "InferencePanel",
           "NewInferenceJobDialog"]
