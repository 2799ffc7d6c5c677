"""Starting a job exactly once when the answer to the create is lost (core.job_start).

A real Relay Local behind the fault proxy: the create reaches the server and
the connection is dropped before the answer (the job exists, the client never
hears of it), or is dropped before it is forwarded (nothing made). The first
must return the job the server made and leave exactly one; the second must
raise the connection error and make nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from relay_desktop.api import RelayClient, errors
from relay_desktop.core.job_start import start_inference, start_training
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.inference_model import install_model
from tests.support.live_server import LiveServer
from tests.support.trainable import trainable_dataset

CONFIG = {"threshold": 0.37, "merge_window_ms": 120, "min_duration_ms": 40}


@pytest.fixture
def proxy(fresh_server: LiveServer) -> Iterator[FaultProxy]:
    with FaultProxy(fresh_server.base_url) as running:
        yield running


@pytest.fixture
def model_id(fresh_server: LiveServer) -> str:
    return install_model(fresh_server, fresh_server.api_key)


def test_inference_created_but_unanswered_is_found_not_made_again(
        fresh_server: LiveServer, proxy: FaultProxy, model_id: str) -> None:
    with RelayClient(proxy.url, fresh_server.api_key) as client:
        earlier = client.inference_jobs.create(model_id, CONFIG)  # same model and config
        proxy.inject(Fault.drop_after("POST", r"/inference-jobs$"))
        job = start_inference(client, model_id, CONFIG, known={earlier.id})
        assert proxy.applied("drop_after") == 1
        ids = sorted(j.id for j in client.inference_jobs.iter_items())
    assert job.id != earlier.id
    assert ids == sorted([earlier.id, job.id])  # exactly one more, and it is the one returned


def test_inference_never_forwarded_raises_and_makes_nothing(
        fresh_server: LiveServer, proxy: FaultProxy, model_id: str) -> None:
    with RelayClient(proxy.url, fresh_server.api_key) as client:
        proxy.inject(Fault.drop_before("POST", r"/inference-jobs$"))
        with pytest.raises(errors.ApiConnectionError):
            start_inference(client, model_id, CONFIG)
        assert list(client.inference_jobs.iter_items()) == []


def test_training_created_but_unanswered_is_found_not_made_again(
        fresh_server: LiveServer, proxy: FaultProxy) -> None:
    demo = trainable_dataset(fresh_server.base_url, fresh_server.api_key)
    with RelayClient(proxy.url, fresh_server.api_key) as client:
        proxy.inject(Fault.drop_after("POST", r"/training-jobs$"))
        job = start_training(client, demo.dataset_id, demo.annotation_set_id,
                             {"epochs": 1, "artifact_types": ["long_pause"]})
        assert proxy.applied("drop_after") == 1
        made = [j.id for j in client.training_jobs.iter_items()]
        client.training_jobs.cancel(job.id)
    assert made == [job.id]
