"""The annotation document, its edit commands, validation and the diff to API operations."""

from relay_desktop.core.annotations.commands import (
    AddRegions,
    Batch,
    Command,
    DeleteRegions,
    UpdateRegion,
    fmt_ms,
    update,
)
from relay_desktop.core.annotations.document import (
    AnnotationDocument,
    ArtifactTypeInfo,
    DocumentChange,
    Region,
    new_local_id,
)
from relay_desktop.core.annotations.validation import Problem, validate_region

__all__ = [
    "AddRegions", "AnnotationDocument", "ArtifactTypeInfo", "Batch", "Command", "DeleteRegions",
    "DocumentChange", "Problem", "Region", "UpdateRegion", "fmt_ms", "new_local_id", "update",
    "validate_region",
]
