"""Spectrogram tiles on a thread pool: visible tiles first, the rest in the background.

:class:`TileScheduler` runs ``TileSource.load_or_compute`` for one file at a
time. Visible tiles go to the pool at once, ahead of anything else queued there,
in the order asked (nearest the centre first). Background tiles (the neighbours
of the view, the whole file at the overview zoom) wait in a queue of their own:
one runs at a time, at a low priority, and none starts while a visible tile is
in flight, so background work never holds a thread that visible work needs.
While the file is still being decoded for its waveform
(:meth:`TileScheduler.hold_background`) background tiles wait too: they would
take a core from the decoding the user is watching. The waveform view gives the
scheduler a pool of its own whose threads run below normal priority
(``lower_priority``; :mod:`~relay_desktop.services.thread_priority`).
Everything is cancellable; a new file (or none) cancels all and drops late
results of the old one. Given a :class:`Colouring` (:meth:`TileScheduler.set_colouring`)
the worker also colours each tile it makes, so the GUI thread only draws it.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from PySide6.QtCore import QObject, Qt, QThreadPool, Signal

from relay_desktop.core.audio.decode import CancelFlag
from relay_desktop.core.audio.spectrogram import Tile, TileKey
from relay_desktop.core.audio.spectrogram_cache import TileSource
from relay_desktop.core.audio.spectrogram_colours import Colouring
from relay_desktop.services.audio_tasks import outcome_of
from relay_desktop.services.thread_priority import lower_this_thread

VISIBLE_PRIORITY = 2
BACKGROUND_PRIORITY = -2
BACKGROUND_LANES = 1


@dataclass(eq=False)
class _Job:
    key: TileKey
    source: TileSource
    generation: int
    background: bool
    colouring: Colouring | None = None
    flag: CancelFlag = field(default_factory=CancelFlag)

    def make(self) -> Tile:
        """The tile (loaded or computed), coloured when the job has a colouring."""
        tile = self.source.load_or_compute(self.key, self.flag)
        if self.colouring is None or not tile.columns:
            return tile
        return replace(tile, pixels=self.colouring.pixels(tile.db), colouring=self.colouring)


class TileScheduler(QObject):
    """Computes (or loads) spectrogram tiles of one file on a QThreadPool.

    Signals:
        tile_ready(object): a :class:`Tile` of the current file, on the GUI thread.
        tile_failed(object, str): (key, sentence) when a tile could not be made.
    """

    tile_ready = Signal(object)
    tile_failed = Signal(object, str)
    _outcome = Signal(object, str, object)  # worker -> GUI thread (queued)

    def __init__(self, pool: QThreadPool, parent: QObject | None = None, *,
                 lower_priority: bool = False) -> None:
        """``lower_priority``: jobs lower their thread's CPU priority (only for a pool
        kept for background work, see :mod:`~relay_desktop.services.thread_priority`)."""
        super().__init__(parent)
        self._pool = pool
        self._lower = lower_priority
        self._source: TileSource | None = None
        self._generation = 0
        self._visible: dict[TileKey, _Job] = {}
        self._running_background: dict[TileKey, _Job] = {}
        self._queue: deque[TileKey] = deque()
        self._held = False
        self._colouring: Colouring | None = None
        self._outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # -- control ---------------------------------------------------------------------------

    def set_source(self, source: TileSource | None) -> None:
        """Work on ``source`` from now on (None: stop); everything of the old one stops."""
        self.cancel_all()
        self._generation += 1
        self._source = source

    def cancel_all(self) -> None:
        """Cancel visible and background work alike."""
        for job in [*self._visible.values(), *self._running_background.values()]:
            job.flag.cancel()
        self._visible.clear()
        self._running_background.clear()
        self._queue.clear()

    def request_visible(self, keys: Iterable[TileKey]) -> None:
        """Compute ``keys`` now, in this order; visible tiles not among them are cancelled."""
        wanted = list(dict.fromkeys(keys))
        keep = set(wanted)
        for key in [k for k in self._visible if k not in keep]:
            self._visible.pop(key).flag.cancel()
        for key in wanted:
            if key in self._visible:
                continue
            running = self._running_background.pop(key, None)
            if running is not None:  # already being computed: now it is a visible one
                running.background = False
                self._visible[key] = running
            else:
                self._start(key, background=False)
        self._pump()

    def set_background(self, keys: Iterable[TileKey]) -> None:
        """Replace the background queue by ``keys`` (in order); running ones not in it stop."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self._visible]
        keep = set(wanted)
        for key in [k for k in self._running_background if k not in keep]:
            self._running_background.pop(key).flag.cancel()
        self._queue = deque(k for k in wanted if k not in self._running_background)
        self._pump()

    def hold_background(self, held: bool) -> None:
        """Start no background tile while ``held`` (queued ones wait; running ones finish)."""
        self._held = held
        self._pump()

    def set_colouring(self, colouring: Colouring | None) -> None:
        """Colour the tiles started from now on with ``colouring`` (None: as dB values only)."""
        self._colouring = colouring

    @property
    def background_held(self) -> bool:
        return self._held

    @property
    def pool(self) -> QThreadPool:
        return self._pool

    @property
    def lowers_priority(self) -> bool:
        """Whether its jobs lower their thread's priority."""
        return self._lower

    # -- state -----------------------------------------------------------------------------

    def visible_pending(self) -> int:
        return len(self._visible)

    def background_pending(self) -> int:
        """Background tiles queued or running."""
        return len(self._queue) + len(self._running_background)

    def pending(self) -> int:
        return self.visible_pending() + self.background_pending()

    def in_flight(self) -> set[TileKey]:
        return set(self._visible) | set(self._running_background)

    # -- running -------------------------------------------------------------------------

    def _pump(self) -> None:
        while (self._queue and not self._visible and not self._held
               and len(self._running_background) < BACKGROUND_LANES):
            self._start(self._queue.popleft(), background=True)

    def _start(self, key: TileKey, background: bool) -> None:
        source = self._source
        if source is None:
            return
        job = _Job(key, source, self._generation, background, self._colouring)
        (self._running_background if background else self._visible)[key] = job
        emit = self._outcome.emit
        lower = self._lower

        def run() -> None:
            if lower:
                lower_this_thread()
            _run_job(job, emit)

        self._pool.start(run, BACKGROUND_PRIORITY if background else VISIBLE_PRIORITY)

    def _deliver(self, job: _Job, kind: str, value: object) -> None:
        table = self._running_background if job.background else self._visible
        if table.get(job.key) is job:
            del table[job.key]
        current = job.generation == self._generation and not job.flag.is_cancelled
        if current and kind == "finished":
            self.tile_ready.emit(value)
        elif current and kind == "failed":
            if job.background:  # the file went away, most likely: stop guessing ahead
                self._queue.clear()
            self.tile_failed.emit(job.key, str(value))
        self._pump()


def _run_job(job: _Job, send: Callable[[_Job, str, object], None]) -> None:
    """On a pool thread: make the tile and hand the outcome to the GUI thread."""
    kind: str
    value: object
    if job.flag.is_cancelled:
        kind, value = "cancelled", None
    else:
        kind, value = outcome_of(job.make, "The spectrogram")
    with contextlib.suppress(RuntimeError):  # the scheduler is gone (its view closed)
        send(job, kind, value)
