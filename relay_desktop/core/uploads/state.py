"""Value types describing an upload queue: row state, target, one row, and queue totals.

Qt-free and immutable. They are defined beside the upload engine in
``relay_desktop.api.batch_upload`` (which the CLI shares, and which may not
import core) and re-exported here for the desktop layers.
"""

from relay_desktop.api.batch_upload.rows import (
    TargetKind,
    UploadRow,
    UploadState,
    UploadTarget,
    UploadTotals,
    compute_totals,
    new_row_id,
)

__all__ = ["TargetKind", "UploadRow", "UploadState", "UploadTarget", "UploadTotals",
           "compute_totals", "new_row_id"]
