"""region_drag: frame time while dragging a region edge on a 1-hour file with 2,000 regions.

A real WaveformView shows a 1-hour file (8 kHz mono) with its spectrogram
shown (the app's default; its tiles for the window are computed first),
zoomed to one minute; an AnnotationEditor (the labelling panel: table,
history, type picker) puts 2,000 regions (one every 1.8 s) on it through its
RegionLayer, as the app does. The mouse moves onto one region's end edge,
presses and drags it in 240 small steps; each frame is the synthetic move
event, our snapping and layer updates, and the repaint Qt schedules for it
(``processEvents`` paints the dirty area; a full repaint of the whole view is
reported as ``full_repaint_ms`` for reference). The release is timed as a
frame of its own: the snap to a zero crossing, the edit through the
AnnotationSession (undo stack, the journal write queued to the sync thread,
the table's update) and the layer's refresh and repaint.

``value`` is the worst frame, the release included; also reported: the move
frames' p99 and median, and the release. Baseline: the same drag of a bare
``pg.LinearRegionItem`` on the same view with no annotation layer (its worst
frame, release included). Target: worst frame under 16 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import qt_app
from benchmarks._regions import regions_on_one_file

TARGET_MS = 16.0


def write_hour(path: Path, seconds: int, sr: int = 8000) -> None:
    import numpy as np
    import soundfile as sf

    rng = np.random.default_rng(7)
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for _ in range(seconds // 60):
            f.write((rng.standard_normal(sr * 60) * 0.1).astype(np.float32))


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run(quick: bool) -> dict[str, Any]:
    app = qt_app()
    import pyqtgraph as pg
    from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, QThreadPool
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    import benchmarks
    from relay_desktop.core.audio.decode import probe
    from relay_desktop.core.audio.peaks import PeakPyramid
    from relay_desktop.ui.annotations.editor import AnnotationEditor
    from relay_desktop.ui.waveform.view import WaveformView

    pg.setConfigOption("mouseRateLimit", -1)
    seconds = 600 if quick else 3600
    regions_n = 2000 * seconds // 3600           # the same density in quick mode
    steps = 120 if quick else 240
    left = Qt.MouseButton.LeftButton

    def send(vp: Any, kind: QEvent.Type, pos: QPoint, button: Any, buttons: Any) -> None:
        ev = QMouseEvent(kind, QPointF(pos), QPointF(vp.mapToGlobal(pos)), button, buttons,
                         Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(vp, ev)

    def drag_frames(view: WaveformView, t0: float, t1: float) -> tuple[list[float], float]:
        """Move frames (ms) of a drag from ``t0`` to ``t1``, and the release's."""
        plot = view.plots()[0]
        gv = plot.scene().views()[0]
        vp = gv.viewport()
        vb = plot.getViewBox()
        y = sum(vb.viewRange()[1]) / 2

        def px(t: float) -> QPoint:
            return gv.mapFromScene(vb.mapViewToScene(QPointF(t, y)))

        a, b = px(t0), px(t1)
        send(vp, QEvent.Type.MouseMove, a, Qt.MouseButton.NoButton, Qt.MouseButton.NoButton)
        app.processEvents()  # the pointer arrives over the edge first, as a real one does
        send(vp, QEvent.Type.MouseButtonPress, a, left, left)
        app.processEvents()
        frames = []
        for i in range(1, steps + 1):
            x = round(a.x() + (b.x() - a.x()) * i / steps)
            start = time.perf_counter()
            send(vp, QEvent.Type.MouseMove, QPoint(x, a.y()), Qt.MouseButton.NoButton, left)
            app.processEvents()  # the update Qt schedules for the moved item is painted here
            frames.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        send(vp, QEvent.Type.MouseButtonRelease, b, left, Qt.MouseButton.NoButton)
        app.processEvents()
        release = (time.perf_counter() - start) * 1000
        return frames, release

    with tempfile.TemporaryDirectory(prefix="relay-bench-") as tmp:
        wav = Path(tmp) / "hour.wav"
        write_hour(wav, seconds)
        info = probe(wav)
        pyramid = PeakPyramid.from_file(wav)
        view = WaveformView(QThreadPool.globalInstance())
        view.resize(1280, 480)
        view.show()
        view.set_audio(wav, info, pyramid)
        w0 = float(seconds // 6)                   # a one-minute window 1/6 into the file
        view.set_view_range(w0, w0 + 60.0)
        for _ in range(20):
            QThreadPool.globalInstance().waitForDone()   # the spectrogram tiles of the window
            app.processEvents()

        # baseline: a bare LinearRegionItem, no annotation layer
        bare = pg.LinearRegionItem(values=(w0 + 20.0, w0 + 20.3))
        view.plots()[0].addItem(bare)
        app.processEvents()
        drag_frames(view, w0 + 20.3, w0 + 21.8)   # warm-up (first paints, caches)
        drag_frames(view, w0 + 21.8, w0 + 20.3)
        baseline_frames, baseline_release = drag_frames(view, w0 + 20.3, w0 + 21.8)
        view.plots()[0].removeItem(bare)
        vp = view.plots()[0].scene().views()[0].viewport()
        start = time.perf_counter()
        vp.repaint()
        full_repaint_ms = (time.perf_counter() - start) * 1000

        # the annotation layer with 2,000 regions on the hour
        offline = regions_on_one_file(Path(tmp), seconds, regions_n)
        session, sync, journal = offline.session, offline.sync, offline.journal
        regions = offline.regions
        editor = AnnotationEditor(session)
        editor.resize(400, 600)
        editor.show()
        layer = editor.attach_waveform(view)
        editor.set_audio_file("audio", seconds * 1000)
        app.processEvents()
        painted = layer.painted_count()
        # warm-up on another region (first paints of the live items, the table's first update)
        other = next(r for r in regions if r.start_ms >= (w0 + 40.0) * 1000)
        drag_frames(view, other.end_ms / 1000, other.end_ms / 1000 + 0.5)
        target = next(r for r in regions if r.start_ms >= (w0 + 20.0) * 1000)
        edge = target.end_ms / 1000
        frames, release = drag_frames(view, edge, edge + 1.5)
        items = layer.item_count()
        moved = session.document.region(target.local_id)
        deadline = time.monotonic() + 10
        while sync.writes_pending("set") and time.monotonic() < deadline:
            app.processEvents()   # the journal writes finish on the sync thread (untimed)
            time.sleep(0.01)
        journaled = journal.pending_count("set")
        editor.close()
        offline.close()
        view.close()
        app.processEvents()

    value = max(max(frames), release)
    base = max(max(baseline_frames), baseline_release)
    met = value < TARGET_MS and moved.end_ms != target.end_ms and journaled > 0
    return benchmarks.result(
        "region_drag", value, base, "ms (worst frame, release included)",
        f"worst frame < {TARGET_MS:.0f} ms", met,
        regions=regions_n, file_seconds=seconds, frames=len(frames), spectrogram=True,
        painted_regions=painted, region_items=items,
        p99_ms=round(p99(frames), 3), median_ms=round(statistics.median(frames), 3),
        max_move_ms=round(max(frames), 3),
        slowest_moves_ms=[round(f, 1) for f in sorted(frames)[-4:]],
        release_ms=round(release, 3),
        baseline_p99_ms=round(p99(baseline_frames), 3),
        baseline_median_ms=round(statistics.median(baseline_frames), 3),
        baseline_release_ms=round(baseline_release, 3),
        edge_moved_ms=moved.end_ms - target.end_ms, journal_entries=journaled,
        full_repaint_ms=round(full_repaint_ms, 2))
