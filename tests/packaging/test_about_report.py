"""Help > About and Help > Report a problem, against a real Relay Local."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication

from relay_desktop import __version__
from relay_desktop.api.redact import install as redact_secret
from relay_desktop.core import paths as core_paths
from relay_desktop.services import app_log, local_workspace
from relay_desktop.services.context import AppContext
from relay_desktop.services.diagnostics import redact_report
from relay_desktop.ui.about import GATHERING, AboutDialog, ReportDialog
from relay_server import __version__ as server_version
from tests.support.live_server import LiveServer

SIGNED = ("http://127.0.0.1:9/storage/relay/a.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256"
          "&X-Amz-Signature=deadbeefcafe&X-Amz-Expires=900")


def test_about_shows_the_versions_and_the_connected_servers(
        qtbot: Any, app_context: AppContext) -> None:
    dialog = AboutDialog(app_context)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: GATHERING not in dialog.text(), timeout=15000)
    values = {name: label.text() for name, label in dialog.values.items()}
    assert values["Relay Desktop"].startswith(__version__)
    assert values["Server"] == f"relay-local {server_version}"
    for name in ("Qt", "PySide6", "pyqtgraph", "libsndfile"):
        assert values[name] and "unavailable" not in values[name], (name, values[name])
    dialog.copy()
    assert f"Server: relay-local {server_version}" in QGuiApplication.clipboard().text()


def test_about_without_a_connection_says_so(qtbot: Any) -> None:
    dialog = AboutDialog(None)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: GATHERING not in dialog.text(), timeout=15000)
    assert dialog.values["Server"].text() == "not connected"


def test_the_report_has_versions_and_log_lines_without_the_key_or_signed_urls(
        qtbot: Any, app_context: AppContext, relay_server: LiveServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_log, "current_log_file", lambda: None)  # use the log view's text
    redact_secret(relay_server.api_key)
    log_text = (f"12:00:00  INFO    test: connected with key {relay_server.api_key}\n"
                f"12:00:01  INFO    test: fetching {SIGNED}\n"
                f"12:00:02  ERROR   test: it broke in {Path.home() / 'project'}\n")
    dialog = ReportDialog(app_context, log_text)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(dialog.copy_button.isEnabled, timeout=15000)
    report = dialog.report()
    assert f"Server:        relay-local {server_version}" in report
    assert "libsndfile:" in report and "Platform:" in report
    assert "it broke in ~/project" in report
    assert relay_server.api_key not in report
    assert "deadbeefcafe" not in report and "X-Amz-Signature=***" in report
    assert "X-Amz-Algorithm=***" in report
    dialog.copy()
    assert QGuiApplication.clipboard().text() == report
    assert dialog.log_folder().is_dir()


def test_the_report_reads_the_app_log_file(qtbot: Any, app_context: AppContext,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    path = app_log.install_log_file(app_context.paths)
    assert path is not None and path.parent == app_context.paths.logs
    try:
        logging.getLogger("relay_desktop.test").warning("a line for the report %s", SIGNED)
        dialog = ReportDialog(app_context, "")
        qtbot.addWidget(dialog)
        qtbot.waitUntil(dialog.copy_button.isEnabled, timeout=15000)
        report = dialog.report()
        assert "a line for the report" in report and "deadbeefcafe" not in report
        assert dialog.log_folder() == path.parent
        assert "deadbeefcafe" not in path.read_text()  # the file itself is redacted too
    finally:
        root = logging.getLogger()
        for handler in list(root.handlers):
            if getattr(handler, "baseFilename", None) == str(path):
                root.removeHandler(handler)
                handler.close()


def test_redaction_keeps_plain_urls() -> None:
    assert redact_report("GET http://h/api/v1/datasets?page=2", home="/nowhere") \
        == "GET http://h/api/v1/datasets?page=2"


def test_a_source_checkout_and_a_package_use_different_folders(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert core_paths.is_source_checkout()  # these tests run from the source tree
    assert core_paths.app_name() == "relay-desktop-source"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert core_paths.app_name() == "relay-desktop"


def test_the_frozen_app_runs_relay_local_through_its_own_binary(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert local_workspace.server_command()[1:] == ["-m", "relay_server"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert local_workspace.server_command() == [sys.executable, "--run-server"]
    assert local_workspace.server_command("/x/python") == ["/x/python", "-m", "relay_server"]
