"""AppContext: what the main window hands to every panel."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QThreadPool

from relay_desktop.core.paths import AppPaths
from relay_desktop.core.settings import Settings
from relay_desktop.services.activity import ActivityTracker
from relay_desktop.services.api_worker import ApiWorker

if TYPE_CHECKING:
    from relay_desktop.services.job_monitor import JobMonitor
    from relay_desktop.services.upload_manager import UploadManager


@dataclass(frozen=True)
class ConnectionInfo:
    """The server a window is connected to (never the key)."""

    name: str
    base_url: str
    is_local: bool = False
    id: str = ""


@dataclass
class AppContext:
    """Shared services of one connected window.

    ``worker`` runs API calls; ``thread_pool`` runs decode, peak and raw-window tasks
    (never on the GUI thread nor the API thread; spectrogram tiles have a pool of their
    own, ``thread_priority.background_pool``); ``activity`` feeds the status bar;
    ``uploads`` is the connection's upload queue (set once it has started);
    ``monitor`` follows processing files and running jobs (one per connection).
    """

    worker: ApiWorker
    connection: ConnectionInfo
    settings: Settings
    paths: AppPaths
    thread_pool: QThreadPool
    activity: ActivityTracker
    uploads: UploadManager | None = None
    monitor: JobMonitor | None = None
