"""Start a training or inference job exactly once, even when the answer to the create is lost.

A create is a POST and is never retried blindly. When the connection breaks
after the request went out (or the read times out), the server may well have
made the job: the jobs created since the request (a minute's clock skew
allowed) that match what was sent and are not already known to the caller are
read back, and the newest one is taken as the answer. Only when there is none
does the original error reach the caller, so pressing Train (or Create) again
never makes a second job.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from relay_desktop.api import errors

if TYPE_CHECKING:
    from relay_desktop.api import CancelToken, RelayClient
    from relay_desktop.api.models import InferenceJob, TrainingJob

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(seconds=60)


class _Job(Protocol):
    @property
    def id(self) -> str: ...


J = TypeVar("J", bound=_Job)


def create_once(create: Callable[[], J], find_made: Callable[[datetime], J | None],
                what: str) -> J:
    """``create()``; after a lost answer, what ``find_made(since)`` finds, else the error."""
    requested_at = datetime.now(UTC)
    try:
        return create()
    except (errors.ApiConnectionError, errors.ApiTimeoutError) as lost:
        try:
            made = find_made(requested_at - CLOCK_SKEW)
        except errors.RelayError:
            raise lost from None
        if made is None:
            raise
        log.info("The answer to %s was lost; the server made job %s", what, made.id)
        return made


def _same_config(sent: Mapping[str, Any], stored: Mapping[str, Any]) -> bool:
    return all(stored.get(k) == v for k, v in sent.items())


def _since(created_at: datetime | None, since: datetime) -> bool:
    return created_at is None or created_at >= since


def start_training(client: RelayClient, dataset_id: str, set_id: str,
                   config: Mapping[str, Any], *, cancel: CancelToken | None = None,
                   known: Collection[str] = ()) -> TrainingJob:
    """Create a training job; after a lost answer, return the job the request made (if any)."""
    def find(since: datetime) -> TrainingJob | None:
        found = [job for job in client.training_jobs.iter_items(dataset_id=dataset_id,
                                                                cancel=cancel)
                 if job.annotation_set_id == set_id and job.id not in known
                 and _since(job.created_at, since) and _same_config(config, job.config)]
        return max(found, key=lambda job: job.created_at or since) if found else None

    return create_once(
        lambda: client.training_jobs.create(dataset_id, set_id, config, cancel=cancel),
        find, "starting training")


def start_inference(client: RelayClient, model_id: str, config: Mapping[str, Any], *,
                    cancel: CancelToken | None = None,
                    known: Collection[str] = ()) -> InferenceJob:
    """Create an inference job; after a lost answer, return the empty job it made (if any)."""
    def find(since: datetime) -> InferenceJob | None:
        found = [job for job in client.inference_jobs.iter_items(cancel=cancel)
                 if job.model_id == model_id and job.id not in known and job.total_files == 0
                 and _since(job.created_at, since) and _same_config(config, job.config)]
        return max(found, key=lambda job: job.created_at or since) if found else None

    return create_once(lambda: client.inference_jobs.create(model_id, config, cancel=cancel),
                       find, "creating an inference job")
