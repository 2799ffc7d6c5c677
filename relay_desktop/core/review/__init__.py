"""Reviewing an inference job's detections: the queue (decisions, undo) and its store."""

from relay_desktop.core.review.queue import (
    ACCEPTED,
    PENDING,
    REJECTED,
    Progress,
    ReviewItem,
    ReviewQueue,
    UndoStep,
)
from relay_desktop.core.review.store import ReviewStore

__all__ = ["ACCEPTED", "PENDING", "REJECTED", "Progress", "ReviewItem", "ReviewQueue",
           "ReviewStore", "UndoStep"]
