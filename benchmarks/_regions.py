"""An offline annotation session holding regions spread over one long file (Qt benchmarks).

The session runs through the real journal and SyncService, on an ApiWorker
pointed at an address nothing listens on: edits are journaled, never sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class OfflineSession:
    """The session and what it runs on; :meth:`close` stops them in order."""

    session: Any
    regions: list[Any]   # as loaded, in time order
    sync: Any
    journal: Any
    worker: Any

    def close(self) -> None:
        self.session.close()
        self.sync.close()
        self.worker.shutdown(2000)
        self.journal.close()


def regions_on_one_file(folder: Path, seconds: int, count: int) -> OfflineSession:
    """``count`` regions (300 ms, "click" or "pause") evenly over file "audio" of ``seconds``."""
    from relay_desktop.core.annotations import Region
    from relay_desktop.core.annotations.document import ArtifactTypeInfo
    from relay_desktop.core.annotations.sets import LoadedSet
    from relay_desktop.core.journal import Journal
    from relay_desktop.core.prepublish import FileInfo
    from relay_desktop.services.annotation_session import AnnotationSession
    from relay_desktop.services.api_worker import ApiWorker
    from relay_desktop.services.sync import SyncService

    worker = ApiWorker("http://127.0.0.1:9", "unused")   # never reached: no sync here
    journal = Journal(Path(folder) / "journal.sqlite3")
    sync = SyncService(worker, journal, coalesce_ms=3_600_000)
    session = AnnotationSession(sync, "ds", "set")
    spacing = seconds * 1000 // count
    regions = [Region(f"r{i}", "audio", "click" if i % 3 else "pause",
                      i * spacing, i * spacing + 300) for i in range(count)]
    session.load(LoadedSet("ds", "set", 1, "draft",
                           [ArtifactTypeInfo("click", "#e53935"),
                            ArtifactTypeInfo("pause", "#43a047")],
                           [FileInfo("audio", "hour.wav", seconds * 1000)], regions))
    return OfflineSession(session, regions, sync, journal, worker)
