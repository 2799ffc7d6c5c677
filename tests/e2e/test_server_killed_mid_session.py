"""The server SIGKILLed while the app edits, uploads and follows a training job, then started
again: every edit and every upload is on the server exactly once and the job ends.

The Application talks to Relay Local through a forwarding proxy on a fixed address (a
restarted server listens on a new port; while it is dead the proxy's upstream refuses
connections as a stopped server does). At the moment of the kill a training job is
running on the server, uploads are half done (the proxy holds each storage POST for a
while) and new regions are being synced; while the server is dead the user goes on
editing. After the restart the app must finish all of it on its own: the regions as the
user left them, once each; every file once and ready; the job "completed" (its lease was
held by the dead process, so the restarted server's reaper queues it again).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from relay_desktop.api import RelayClient
from relay_desktop.api.batch_upload.rows import UploadState
from tests.e2e.conftest import Setup, draw_spans
from tests.gui.test_regions import click, drag
from tests.support.app_driver import (
    open_draft,
    open_training_dialog,
    running_app,
    wait_for_app,
)
from tests.support.fault_proxy import Fault, FaultProxy
from tests.support.live_server import LiveServer

EPOCHS = 12          # long enough that the kill lands mid-training
DOWN_S = 2.0         # how long the server stays dead
FINAL = ("completed", "failed", "cancelled")


def test_server_killed_mid_session_then_restarted_loses_and_duplicates_nothing(
        qtbot: Any, tmp_path: Path, proxied: tuple[LiveServer, FaultProxy, Setup]) -> None:
    server, proxy, setup = proxied
    with running_app(qtbot, tmp_path) as shell:
        window = shell.window
        sets_panel = shell.labelling.sets_panel
        assert sets_panel is not None

        # -- a training job, running on the server ------------------------------------------
        trained = setup.trained
        training = open_training_dialog(qtbot, shell, trained.dataset_id,
                                        trained.annotation_set_id, EPOCHS)
        created: list[Any] = []
        training.job_created.connect(created.append)
        training.train_button.click()
        qtbot.waitUntil(lambda: bool(created), timeout=15_000)
        job_id = created[0].id
        jobs = shell.loop.jobs.jobs
        assert jobs is not None

        def job_status() -> str | None:
            job = jobs.job("training", job_id)
            return None if job is None else job.status

        wait_for_app(qtbot, lambda: job_status() == "training", 30, lambda: f"job {job_status()}")

        # -- uploads half done: each storage POST is held by the proxy -----------------------
        proxy.inject(Fault.latency("POST", r"^/storage/", 1.5, times=100))
        assert window.datasets.select_dataset(setup.upload_dataset_id)
        rows = window.uploads.model.rows
        window.upload_actions.add_files(setup.files)
        wait_for_app(qtbot, lambda: any(r.state is UploadState.UPLOADING for r in rows()), 20,
              lambda: f"uploads {[(r.filename, r.state.name) for r in rows()]}")

        # -- labelling: three new regions being synced ---------------------------------------
        session, editor = open_draft(qtbot, shell, setup.label_dataset_id, setup.audio,
                                     setup.draft_id)
        qtbot.waitUntil(lambda: session.document.type_names() == ["glitch", "click"],
                        timeout=15_000)
        plot = draw_spans(editor)
        view = editor.view
        assert len(session.document) == 3

        # -- SIGKILL, with all three in flight -----------------------------------------------
        states = [r.state for r in rows()]
        assert job_status() == "training", job_status()
        assert UploadState.READY not in states or any(
            s in (UploadState.WAITING, UploadState.UPLOADING) for s in states), states
        server.kill()
        killed_at = time.monotonic()

        # -- the user goes on while it is dead: move one region, delete another, draw one ----
        first, _second, third = sorted(session.document, key=lambda r: r.start_ms)
        mid = (first.start_ms + first.end_ms) / 2000
        drag(plot, mid, mid + 0.25)
        click(plot, (third.start_ms + third.end_ms) / 2000)
        assert session.selection == [third.local_id]
        QTest.keyClick(view, Qt.Key.Key_Delete)
        drag(plot, 3.3, 3.7)
        assert len(session.document) == 3
        qtbot.wait(int(max(0.0, DOWN_S - (time.monotonic() - killed_at)) * 1000))

        # -- started again on the same data folder (a new port behind the same proxy) --------
        server.start()
        proxy.upstream = server.base_url
        proxy.clear()

        def progress() -> str:
            return (f"sync {session.state}; uploads "
                    f"{[(r.filename, r.state.name, r.reason) for r in rows()]}; "
                    f"job {job_status()}; server log:\n{server.log_tail(15)}")

        wait_for_app(qtbot, lambda: session.state.kind == "saved"
              and all(r.state is UploadState.READY for r in rows())
              and job_status() in FINAL, 120, progress,
              failed=lambda: any(r.state in (UploadState.FAILED, UploadState.CANCELLED)
                                 for r in rows()))
        assert f"Queued TrainingJob {job_id} again" in server.log_tail(400), progress()
        final_regions = {r.local_id: (r.artifact_type, r.start_ms, r.end_ms)
                         for r in session.document}

    # -- the server holds exactly what the user made (read directly) --------------------------
    with RelayClient(server.base_url, server.api_key) as client:
        setup.assert_regions(client, final_regions)
        setup.assert_files(client)

        made = list(client.training_jobs.iter_items())
        assert [(j.id, j.status) for j in made] == [(job_id, "completed")], made
        assert [m.id for m in client.models.iter_items()] == [
            client.training_jobs.get(job_id).model_id]
