"""Where the GUI thread spends a stall: stack samples and GC pauses (benchmark diagnostics).

:class:`StallWatch` is fed by a GUI-thread heartbeat (:meth:`StallWatch.beat`,
called on every tick of the gui_stall probe). A daemon thread samples the GUI
thread's Python stack (``sys._current_frames()``) every ``sample_ms`` while the
heartbeat is more than ``threshold_ms`` late, and a ``gc.callbacks`` hook times
every collection that runs on the GUI thread. Each stall over the threshold is
kept with its samples and the GC time inside it, so a report can say what the
GUI thread was doing (the innermost project frame seen most often).

Only for benchmarks and diagnostics: it installs a process-wide GC callback
while started.
"""

from __future__ import annotations

import collections
import gc
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

PROJECT_MARKERS = ("relay_desktop", "benchmarks", "pyqtgraph", "tests/support")
STACK_DEPTH = 14   # innermost frames kept per sample
WAITING = frozenset({"wait", "acquire", "get", "select", "poll", "readinto", "recv_into",
                     "accept", "sleep", "_wait_for_tstate_lock", "join", "run_forever",
                     "_run_once", "exec", "exec_"})


@dataclass
class Stall:
    """One late heartbeat: its length, the scenario, GC time inside it and stack samples."""

    gap_ms: float
    scenario: str
    cpu_ms: float = 0.0   # CPU time the GUI thread itself used in the gap (less: it waited)
    process_cpu_ms: float = 0.0   # CPU time of the whole process (every thread) in the gap
    gc_ms: float = 0.0
    samples: list[tuple[str, ...]] = field(default_factory=list)
    others: collections.Counter[str] = field(default_factory=collections.Counter)

    def hotspot(self) -> str:
        """The innermost project frame seen most often in the samples ('' if none)."""
        counts: collections.Counter[str] = collections.Counter()
        for stack in self.samples:
            counts[_innermost_project_frame(stack)] += 1
        if not counts:
            return "gc" if self.gc_ms >= self.gap_ms / 2 else ""
        return counts.most_common(1)[0][0]

    def summary(self) -> dict[str, Any]:
        busy = self.others.most_common(1)
        return {"ms": round(self.gap_ms, 1), "gui_cpu_ms": round(self.cpu_ms, 1),
                "process_cpu_ms": round(self.process_cpu_ms, 1),
                "gc_ms": round(self.gc_ms, 1), "samples": len(self.samples),
                "at": self.hotspot(), "other_threads_at": busy[0][0] if busy else ""}


def _innermost_project_frame(stack: tuple[str, ...]) -> str:
    for line in reversed(stack):
        if any(marker in line for marker in PROJECT_MARKERS) and "_stall_watch" not in line:
            return line
    return stack[-1] if stack else ""


def _short(frame: traceback.FrameSummary) -> str:
    path = frame.filename
    for marker in (*PROJECT_MARKERS, "site-packages/"):
        at = path.find(marker)
        if at >= 0:
            path = path[at:].removeprefix("site-packages/")
            break
    return f"{path}:{frame.lineno} {frame.name}"


class StallWatch:
    """Samples the GUI thread while its heartbeat is late; times GC pauses on it."""

    def __init__(self, threshold_ms: float = 16.0, sample_ms: float = 2.0,
                 keep: int = 40) -> None:
        self.threshold_ms = threshold_ms
        self.sample_ms = sample_ms
        self.keep = keep
        self.scenario = ""
        self.stalls: list[Stall] = []
        self.gc_pauses: list[tuple[str, int, float]] = []   # (scenario, generation, ms)
        self.tracked: dict[str, int] = {}   # objects the GC tracked as each scenario began
        # the most CPU the GUI thread itself spent between two heartbeats, per scenario:
        # its own work, whatever else the machine was doing (wall-clock gaps also count
        # time it waited for a core or for the interpreter lock)
        self.busiest: dict[str, float] = {}
        self.counts: collections.Counter[str] = collections.Counter()   # stalls per scenario
        self.waited: collections.Counter[str] = collections.Counter()   # ... mostly waiting
        self._lock = threading.RLock()
        self._last = 0.0
        self._last_cpu = 0.0
        self._last_process = 0.0
        self._others: dict[float, collections.Counter[str]] = {}
        self._armed = False
        self._samples: dict[float, list[tuple[str, ...]]] = {}
        self._gc_spans: list[tuple[float, float]] = []
        self._gc_started = 0.0
        self._gui_id = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- GUI thread -----------------------------------------------------------------------
    def start(self) -> None:
        self._gui_id = threading.get_ident()
        self._last = time.perf_counter()
        self._stop.clear()
        gc.callbacks.append(self._on_gc)
        self._thread = threading.Thread(target=self._sample_loop, name="stall-watch",
                                         daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def set_scenario(self, name: str) -> None:
        self.scenario = name
        self.tracked[name] = len(gc.get_objects())

    def arm(self) -> None:
        """Judge the gaps from now on (a probe started)."""
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._last_process = time.process_time()
        self._armed = True

    def disarm(self) -> None:
        """Stop judging (the probe stopped: set-up between scenarios is not a stall)."""
        self._armed = False

    def beat(self) -> None:
        """The heartbeat ticked (GUI thread): file the gap that ended, if it was a stall."""
        now, cpu, process = time.perf_counter(), time.thread_time(), time.process_time()
        began, self._last = self._last, now
        cpu_ms, self._last_cpu = (cpu - self._last_cpu) * 1000.0, cpu
        process_ms, self._last_process = (process - self._last_process) * 1000.0, process
        gap = (now - began) * 1000.0
        with self._lock:
            samples = self._samples.pop(began, [])
            others = self._others.pop(began, collections.Counter())
            self._samples.clear()
            self._others.clear()
        spans, self._gc_spans = self._gc_spans, []
        if not self._armed:
            return
        if cpu_ms > self.busiest.get(self.scenario, 0.0):
            self.busiest[self.scenario] = cpu_ms
        if gap <= self.threshold_ms:
            return
        gc_ms = sum(max(0.0, min(end, now) - max(start, began)) for start, end in spans) * 1e3
        self.stalls.append(Stall(gap, self.scenario, cpu_ms, process_ms, gc_ms, samples,
                                 others))
        self.counts[self.scenario] += 1
        if cpu_ms < gap / 3:
            self.waited[self.scenario] += 1
        if len(self.stalls) > self.keep * 4:
            self.stalls = sorted(self.stalls, key=lambda s: -s.gap_ms)[:self.keep]

    def worst(self, scenario: str, n: int = 3) -> list[Stall]:
        return sorted((s for s in self.stalls if s.scenario == scenario),
                      key=lambda s: -s.gap_ms)[:n]

    def stall_summary(self, scenario: str) -> dict[str, Any]:
        """How many stalls, how many of them mostly waiting, and the GUI's busiest gap."""
        return {"stalls": self.counts[scenario], "mostly_waiting": self.waited[scenario],
                "busiest_gui_cpu_ms": round(self.busiest.get(scenario, 0.0), 1)}

    def gc_summary(self, scenario: str) -> dict[str, Any]:
        pauses = [(ms, gen) for name, gen, ms in self.gc_pauses if name == scenario]
        longest, generation = max(pauses, default=(0.0, -1))
        return {"collections": len(pauses), "longest_ms": round(longest, 1),
                "longest_generation": generation,
                "tracked_objects": self.tracked.get(scenario, 0)}

    def report(self, scenarios: list[str], stream: Any = None) -> None:
        """Print the worst stalls of each scenario with their stack samples."""
        out = stream or sys.stderr
        for name in scenarios:
            for stall in self.worst(name):
                print(f"--- {name}: {stall.gap_ms:.1f} ms (CPU: GUI thread "
                      f"{stall.cpu_ms:.1f} ms, process {stall.process_cpu_ms:.1f} ms; "
                      f"gc {stall.gc_ms:.1f} ms; {len(stall.samples)} samples)", file=out)
                for line, count in stall.others.most_common(3):
                    print(f"  other thread busy x{count}: {line}", file=out)
                seen: collections.Counter[tuple[str, ...]] = collections.Counter(stall.samples)
                for stack, count in seen.most_common(4):
                    print(f"  x{count}", file=out)
                    for line in stack:
                        print(f"    {line}", file=out)

    # -- other threads --------------------------------------------------------------------
    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if threading.get_ident() != self._gui_id:
            return
        now = time.perf_counter()
        if phase == "start":
            self._gc_started = now
            return
        if self._gc_started and self._armed:   # set-up between scenarios is not judged
            # no lock here: a collection can start while this thread holds it (in beat)
            self._gc_spans.append((self._gc_started, now))
            self.gc_pauses.append((self.scenario, int(info.get("generation", -1)),
                                   (now - self._gc_started) * 1000.0))
            self._gc_started = 0.0

    def _sample_loop(self) -> None:
        interval = self.sample_ms / 1000.0
        while not self._stop.wait(interval):
            began = self._last
            if not self._armed or (time.perf_counter() - began) * 1000.0 < self.threshold_ms * 0.75:
                continue
            frames = sys._current_frames()
            frame = frames.pop(self._gui_id, None)
            if frame is None:
                continue
            stack = tuple(_short(f) for f in traceback.extract_stack(frame)[-STACK_DEPTH:])
            busy = [_busy_frame(f) for tid, f in frames.items() if tid != threading.get_ident()]
            del frame, frames
            with self._lock:
                self._samples.setdefault(began, []).append(stack)
                counter = self._others.setdefault(began, collections.Counter())
                counter.update(b for b in busy if b)


def _busy_frame(frame: Any) -> str:
    """Where another thread runs Python ('' when it waits: a lock, queue, socket, sleep)."""
    innermost = traceback.extract_stack(frame, limit=1)
    if not innermost:
        return ""
    name = innermost[-1].name
    if name in WAITING or innermost[-1].filename.endswith(("threading.py", "queue.py",
                                                          "selectors.py", "socket.py")):
        return ""
    if name == "_worker" and innermost[-1].filename.endswith("futures/thread.py"):
        return ""   # an idle pool thread, in the C-level queue get
    inner = _short(innermost[-1])
    for summary in reversed(traceback.extract_stack(frame)[-STACK_DEPTH:]):
        if "relay_desktop" in summary.filename:
            return f"{_short(summary)} > {inner}"
    return inner


def enabled_stack_report() -> bool:
    """``GUI_STALL_STACKS=1`` prints the worst stalls' stacks to stderr."""
    return os.environ.get("GUI_STALL_STACKS", "") not in ("", "0")
