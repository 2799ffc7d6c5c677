"""The upload GUI: the queue dock, its table model, drop targets and the File menu actions."""

from relay_desktop.ui.uploads.actions import UploadActions
from relay_desktop.ui.uploads.drop import DropSpot, FileDropTarget
from relay_desktop.ui.uploads.model import ROW_ROLE, UploadQueueModel
from relay_desktop.ui.uploads.panel import UploadQueuePanel

__all__ = ["ROW_ROLE", "DropSpot", "FileDropTarget", "UploadActions", "UploadQueueModel",
           "UploadQueuePanel"]
