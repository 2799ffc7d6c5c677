"""Qt-free upload queue: row/target/totals value types and where the queue is stored."""

from relay_desktop.core.uploads.state import (
    UploadRow,
    UploadState,
    UploadTarget,
    UploadTotals,
    compute_totals,
    new_row_id,
)

__all__ = ["UploadRow", "UploadState", "UploadTarget", "UploadTotals", "compute_totals",
           "new_row_id"]
