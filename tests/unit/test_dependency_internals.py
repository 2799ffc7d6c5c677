"""Tripwires for the places where our code relies on a dependency's internals.

Each reliance is pinned to the minor version tested here (pyproject.toml says
which module relies on what), and each has a test below, named after it, that
checks the very behaviour relied on and fails loudly, naming the package
version, the internal, the module that relies on it and what to re-test, when
that internal moves. A failure here means: re-test the named code against the
new version, adapt it, then update the pin (and, for a fingerprint, the
fingerprint below).

The reliances (README, "Design notes", "Pinned where we rely on internals"):

* uvicorn: ``relay_server/cli.py``'s BodyPassingProtocol hands request-body
  pieces to the app uncopied, through how uvicorn's httptools protocol buffers
  the body; ``relay-server serve --exit-with-parent`` stops the server through
  ``Server.should_exit``.
* huey: ``relay_server/jobs/queue.py``'s RelayConsumer overrides the private
  ``Consumer._set_signal_handlers`` so an embedded consumer leaves uvicorn's
  signal handlers alone.
* pyqtgraph: ``relay_desktop/ui/waveform/axis.py``'s FastAxisItem redoes
  AxisItem's drawing step for step, follows its ``picture`` staleness flag and
  calls its private ``_updateMaxTextSize``; ``relay_desktop/ui/waveform/items.py``
  fills QPolygonFs through ``pyqtgraph.functions``' array view;
  ``relay_desktop/ui/annotations/region_item.py`` swaps the mouse handlers of a
  LinearRegionItem's edge lines on the instances and reads their ``moving``.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import signal
import socket
import threading
import time
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
import pytest
import uvicorn
from huey import SqliteHuey
from huey.consumer import Consumer
from packaging.requirements import Requirement
from pyqtgraph import functions as fn
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QFont, QMouseEvent
from PySide6.QtWidgets import QApplication
from uvicorn.protocols.http import httptools_impl
from uvicorn.server import ServerState

from relay_desktop.ui.annotations.region_item import RegionItem, RegionSignals
from relay_desktop.ui.waveform.axis import TimeAxisItem
from relay_server.cli import http_protocol
from relay_server.jobs.queue import RelayConsumer

ROOT = Path(__file__).resolve().parents[2]

#: package -> the module that relies on its internals (for the failure messages)
RELIANT = {
    "uvicorn": "relay_server/cli.py (BodyPassingProtocol, serve --exit-with-parent)",
    "huey": "relay_server/jobs/queue.py (RelayConsumer)",
    "pyqtgraph": "relay_desktop/ui/waveform/axis.py (FastAxisItem), "
                 "relay_desktop/ui/waveform/items.py and "
                 "relay_desktop/ui/annotations/region_item.py (RegionItem)",
}


_BODY_PASSING = "relay_server/cli.py (BodyPassingProtocol)"
_EXIT_WITH_PARENT = "relay_server/cli.py (serve --exit-with-parent)"
_FAST_AXIS = "relay_desktop/ui/waveform/axis.py (FastAxisItem)"


def moved(package: str, what: str, module: str, retest: str) -> str:
    """The failure message: which version changed what, who relies on it, what to do."""
    return (f"{package} {version(package)} changed {what}, which {module} relies on: "
            f"{retest}, then update the pin in pyproject.toml "
            f"(see tests/unit/test_dependency_internals.py)")


# -- the pins -----------------------------------------------------------------------------

def _pins() -> dict[str, Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = [Requirement(text) for text in project["dependencies"]]
    return {req.name.lower(): req for req in reqs}


@pytest.mark.parametrize("package", sorted(RELIANT))
def test_installed_versions_are_within_the_pins(package: str) -> None:
    pins = _pins()
    assert package in pins, (f"pyproject.toml no longer lists {package}: {RELIANT[package]} "
                             f"relies on its internals, so it must be pinned to a minor version")
    spec = pins[package].specifier
    uppers = [s for s in spec if s.operator in ("<", "<=", "~=", "==")]
    assert uppers, (f"pyproject.toml's {package}{spec} has no upper bound, but "
                    f"{RELIANT[package]} relies on its internals: pin it to the tested "
                    f"minor version")
    installed = version(package)
    assert spec.contains(installed, prereleases=True), (
        f"{package} {installed} is installed but pyproject.toml pins {package}{spec}, "
        f"because {RELIANT[package]} relies on its internals: run this file's tests and "
        f"the named code's tests against {installed} before moving the pin")


# -- uvicorn: the httptools protocol's request-body buffer ----------------------------------

_UVICORN_BODY = "HttpToolsProtocol.on_body / RequestResponseCycle.body and receive()"
_UVICORN_RETEST = ("re-test the upload path (tests/server/test_audio_upload.py, "
                   "tests/server/test_storage_policy.py) and BodyPassingProtocol")


class _Transport:
    """Just enough of an asyncio transport for uvicorn's protocol."""

    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8400), "peername": ("127.0.0.1", 50000)
                }.get(name, default)

    def write(self, data: bytes) -> None:
        self.written += data

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


class _Run:
    """What one request through a protocol class showed (see :func:`_post`)."""

    def __init__(self) -> None:
        self.on_body: list[bytes] = []  # what the parser handed to on_body, in order
        self.buffer_types: list[type] = []  # type(cycle.body) right before each on_body
        self.buffers: list[Any] = []  # cycle.body after each batch (copied), before the app ran
        self.received: list[bytes] = []  # the bodies the app's receive() returned
        self.after_receive: list[tuple[type, int]] = []  # cycle.body's type, length after each
        self.status = b""


def _post(protocol_cls: type[asyncio.Protocol], batches: list[list[bytes]]) -> _Run:
    """POST the pieces of ``batches`` to an app through ``protocol_cls``.

    Each batch's pieces reach the protocol one ``data_received`` at a time (each
    becomes one ``on_body``) before the app gets to run, so a batch of one arrives
    while the app waits in ``receive()`` and a longer batch queues up in between.
    """
    run = _Run()
    body_len = sum(len(piece) for batch in batches for piece in batch)

    class Spy(protocol_cls):  # type: ignore[misc, valid-type]
        def on_body(self, body: bytes) -> None:
            run.on_body.append(body)
            run.buffer_types.append(type(self.cycle.body))
            super().on_body(body)

    holder: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            run.received.append(message["body"])
            after = holder["protocol"].cycle.body  # (a bytearray fills up again: note it now)
            run.after_receive.append((type(after), len(after)))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def main() -> None:
        loop = asyncio.get_running_loop()
        config = uvicorn.Config(app, http=Spy, lifespan="off", log_level="error")
        protocol = Spy(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        holder["protocol"] = protocol
        transport = _Transport()
        protocol.connection_made(transport)  # type: ignore[arg-type]
        protocol.data_received(b"POST /upload HTTP/1.1\r\nHost: x\r\n"
                               b"Content-Length: %d\r\n\r\n" % body_len)
        for _ in range(5):  # the app starts and waits in receive()
            await asyncio.sleep(0)
        for batch in batches:
            for piece in batch:
                protocol.data_received(piece)
            run.buffers.append(copy.copy(protocol.cycle.body))
            for _ in range(5):
                await asyncio.sleep(0)
        for _ in range(50):
            if transport.written:
                break
            await asyncio.sleep(0.01)
        run.status = bytes(transport.written[:12])
        protocol.connection_lost(None)

    asyncio.run(main())
    return run


def test_uvicorn_httptools_protocol_buffers_body_in_cycle_bytearray() -> None:
    """What BodyPassingProtocol builds on, in uvicorn's own protocol: the parser calls
    ``on_body`` once per piece; ``cycle.body`` is a ``bytearray`` that ``on_body``
    extends; ``receive()`` hands over ``bytes(cycle.body)`` and puts a new empty
    ``bytearray`` in its place."""
    protocol_cls = getattr(httptools_impl, "HttpToolsProtocol", None)
    assert protocol_cls is not None, moved(
        "uvicorn", "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol (gone)",
        _BODY_PASSING, _UVICORN_RETEST)
    params = list(inspect.signature(protocol_cls.on_body).parameters)
    assert params == ["self", "body"], moved(
        "uvicorn", f"HttpToolsProtocol.on_body's signature (now {params})",
        _BODY_PASSING, _UVICORN_RETEST)
    pieces = [b"a" * 1000, b"b" * 700, b"c" * 300, b"d" * 5]
    run = _post(protocol_cls, [[pieces[0]], pieces[1:3], [pieces[3]]])
    what = moved("uvicorn", _UVICORN_BODY, _BODY_PASSING, _UVICORN_RETEST)
    assert run.status == b"HTTP/1.1 204", f"{what} (the request failed: {run.status!r})"
    assert run.on_body == pieces, f"{what}: on_body is no longer called once per piece"
    assert run.buffer_types == [bytearray] * 4, (
        f"{what}: cycle.body before on_body was {run.buffer_types}, not a bytearray")
    assert type(run.buffers[1]) is bytearray and run.buffers[1] == pieces[1] + pieces[2], (
        f"{what}: two pieces before receive() left cycle.body = {run.buffers[1]!r:.60}")
    assert b"".join(run.received) == b"".join(pieces), f"{what}: the app got another body"
    assert all(type(b) is bytes for b in run.received), f"{what}: receive() body not bytes"
    assert all(after == (bytearray, 0) for after in run.after_receive), (
        f"{what}: receive() left cycle.body = {run.after_receive!r:.80}, not a new bytearray")


def test_body_passing_protocol_hands_body_pieces_on_uncopied() -> None:
    """relay_server.cli.http_protocol(): a piece that arrives while the app waits
    reaches the app as the very object the parser made; pieces that queue up
    before ``receive()`` still arrive whole and in order."""
    protocol_cls = http_protocol()
    base = httptools_impl.HttpToolsProtocol
    assert isinstance(protocol_cls, type) and issubclass(protocol_cls, base), (
        f"http_protocol() gave {protocol_cls!r}: httptools or uvicorn's httptools protocol "
        f"is missing, so uploads lose BodyPassingProtocol")
    pieces = [b"x" * 65536, b"y" * 4096, b"z" * 100, b"w" * 3000, b"v" * 1]
    what = moved("uvicorn", _UVICORN_BODY, _BODY_PASSING, _UVICORN_RETEST)
    try:
        run = _post(protocol_cls, [[pieces[0]], [pieces[1]], pieces[2:4], [pieces[4]]])
    except Exception as exc:  # e.g. uvicorn now calls bytearray methods on cycle.body
        pytest.fail(f"{what}: {type(exc).__name__}: {exc}")
    assert run.status == b"HTTP/1.1 204", f"{what} (the request failed: {run.status!r})"
    assert b"".join(run.received) == b"".join(pieces), f"{what}: the app got another body"
    assert all(type(b) is bytes for b in run.received), f"{what}: receive() body not bytes"
    # the pieces that came while the app waited are the parser's own objects, uncopied
    for index in (0, 1, 4):
        assert any(got is run.on_body[index] for got in run.received), (
            f"{what}: body piece {index} was copied on its way to the app "
            f"(BodyPassingProtocol no longer saves the copies)")
    assert pieces[2] + pieces[3] in run.received, f"{what}: queued pieces were not joined"


def test_uvicorn_server_should_exit_stops_a_running_server() -> None:
    """``serve --exit-with-parent`` stops uvicorn from another thread by setting
    ``Server.should_exit``."""
    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
        pass

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="error"))
    assert server.should_exit is False, moved(
        "uvicorn", "Server.should_exit", _EXIT_WITH_PARENT,
        "re-test relay-server serve --exit-with-parent")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "uvicorn did not start within 10 s"
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive(), moved(
            "uvicorn", "Server.should_exit (setting it no longer stops the server)",
            _EXIT_WITH_PARENT, "re-test relay-server serve --exit-with-parent")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


# -- huey: the consumer's signal-handler hook ----------------------------------------------

_HUEY_RETEST = ("re-test that an embedded consumer leaves uvicorn's SIGINT/SIGTERM "
                "handlers alone and that relay-server worker still stops on SIGTERM")
_SIGNALS = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s]


def _consumer_options() -> dict[str, Any]:
    return {"workers": 1, "worker_type": "thread", "periodic": False, "initial_delay": 0.05,
            "max_delay": 0.2, "scheduler_interval": 1, "check_worker_health": False,
            "shutdown_timeout": 5}


def test_huey_consumer_start_calls_set_signal_handlers(tmp_path: Path) -> None:
    """``Consumer.start()`` installs its signal handlers through
    ``self._set_signal_handlers()``, once: the hook RelayConsumer overrides."""
    assert callable(getattr(Consumer, "_set_signal_handlers", None)), moved(
        "huey", "Consumer._set_signal_handlers (gone)", RELIANT["huey"], _HUEY_RETEST)
    calls: list[int] = []

    class Recorder(Consumer):  # type: ignore[misc]
        def _set_signal_handlers(self) -> None:
            calls.append(1)

    before = {s: signal.getsignal(s) for s in _SIGNALS}
    consumer = Recorder(SqliteHuey("guard", filename=str(tmp_path / "q.db")),
                        **_consumer_options())
    consumer.start()
    try:
        after = {s: signal.getsignal(s) for s in _SIGNALS}
    finally:
        consumer.stop(graceful=True)
        for s, handler in before.items():
            signal.signal(s, handler)
    assert calls == [1], moved(
        "huey", f"Consumer.start() (it called _set_signal_handlers {len(calls)} times)",
        RELIANT["huey"], _HUEY_RETEST)
    assert after == before, moved(
        "huey", "Consumer.start() (it sets signal handlers outside _set_signal_handlers)",
        RELIANT["huey"], _HUEY_RETEST)


def test_relay_consumer_embedded_keeps_the_hosts_signal_handlers(tmp_path: Path) -> None:
    """RelayConsumer, through that hook: embedded it installs no handler; as
    ``relay-server worker`` (not embedded) it installs huey's."""
    before = {s: signal.getsignal(s) for s in _SIGNALS}
    try:
        for embedded in (True, False):
            huey = SqliteHuey(f"guard-{embedded}", filename=str(tmp_path / f"{embedded}.db"))
            consumer = RelayConsumer(huey, threading.Event(), embedded, **_consumer_options())
            consumer.start()
            try:
                handler = signal.getsignal(signal.SIGTERM)
            finally:
                consumer.stop(graceful=True)
            if embedded:
                assert handler == before[signal.SIGTERM], moved(
                    "huey", "Consumer.start()'s signal set-up (the embedded consumer "
                    "replaced the host's SIGTERM handler)", RELIANT["huey"], _HUEY_RETEST)
            else:
                assert handler == consumer._handle_signal, moved(
                    "huey", "Consumer._set_signal_handlers (the worker's consumer no "
                    "longer installs huey's SIGTERM handler)", RELIANT["huey"], _HUEY_RETEST)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


# -- pyqtgraph: the fast axis ----------------------------------------------------------------

_AXIS_RETEST = ("re-test the fast axis (tests/gui/test_waveform_axis.py compares it with "
                "pyqtgraph's pixel for pixel)")


def _fingerprint(fn: Callable[..., Any]) -> str:
    """A hash of ``fn``'s source, ignoring indentation, blank lines and comment lines."""
    lines = (line.strip() for line in inspect.getsource(fn).splitlines())
    text = "\n".join(line for line in lines if line and not line.startswith("#"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


#: AxisItem's methods as of pyqtgraph 0.14.0 that FastAxisItem redoes step for step
#: (its _build, paint, tickValues, boundingRect cache and _updateMaxTextSize short cut)
AXIS_FINGERPRINTS = {
    "generateDrawSpecs": "cd283145b53a6835",
    "drawPicture": "2d53b3e2f964662c",
    "paint": "38726c5c006b9c38",
    "tickValues": "b3c5c529ac59cae6",
    "boundingRect": "76e2d306347ca625",
    "_updateMaxTextSize": "deb2131dd292a9f0",
    "_updateWidth": "aad20bdabb4f471f",
    "_updateHeight": "5dd1f0b19c55694e",
}


@pytest.mark.parametrize("method", sorted(AXIS_FINGERPRINTS))
def test_pyqtgraph_axisitem_methods_the_fast_axis_redoes_are_unchanged(method: str) -> None:
    fn = getattr(pg.AxisItem, method, None)
    assert fn is not None, moved("pyqtgraph", f"AxisItem.{method} (gone)",
                                 _FAST_AXIS, _AXIS_RETEST)
    assert _fingerprint(fn) == AXIS_FINGERPRINTS[method], moved(
        "pyqtgraph", f"AxisItem.{method} (its source differs from 0.14.0's)",
        "relay_desktop/ui/waveform/axis.py (FastAxisItem redoes it step for step)",
        f"port the change, {_AXIS_RETEST}, update AXIS_FINGERPRINTS")


def _set_font(axis: Any) -> None:
    axis.setTickFont(QFont())


#: public calls after which FastAxisItem must redraw: pyqtgraph says so through ``picture``
_STALE_AFTER: dict[str, Callable[[Any], None]] = {
    "setRange": lambda a: a.setRange(3.0, 7.0),
    "setPen": lambda a: a.setPen("r"),
    "setTextPen": lambda a: a.setTextPen("r"),
    "setTickPen": lambda a: a.setTickPen("r"),
    "setTickFont": _set_font,
    "setStyle": lambda a: a.setStyle(tickLength=4),
    "setGrid": lambda a: a.setGrid(100),
    "setTicks": lambda a: a.setTicks([[(0.5, "half")]]),
    "setTickSpacing": lambda a: a.setTickSpacing(1.0, 0.5),
    "setTickDensity": lambda a: a.setTickDensity(2.0),
    "setScale": lambda a: a.setScale(2.0),
    "setHeight": lambda a: a.setHeight(30),
    "setLabel": lambda a: a.setLabel("time"),
    "resizeEvent": lambda a: a.resizeEvent(None),
}


@pytest.mark.parametrize("call", sorted(_STALE_AFTER))
def test_pyqtgraph_axisitem_clears_picture_when_stale(qapp: Any, call: str) -> None:
    """FastAxisItem.paint rebuilds only when ``picture`` is None (pyqtgraph's own flag)."""
    axis = TimeAxisItem("top")
    assert hasattr(axis, "picture"), moved(
        "pyqtgraph", "AxisItem.picture (gone)", _FAST_AXIS, _AXIS_RETEST)
    drawn = object()
    axis.picture = drawn
    _STALE_AFTER[call](axis)
    assert axis.picture is None, moved(
        "pyqtgraph", f"AxisItem.{call} (it no longer sets picture to None, so the fast "
        f"axis would keep drawing a stale picture)", _FAST_AXIS, _AXIS_RETEST)


def test_pyqtgraph_axisitem_update_max_text_size(qapp: Any) -> None:
    """The private ``_updateMaxTextSize(x)`` FastAxisItem calls, and the state it keeps."""
    what = "AxisItem._updateMaxTextSize / textHeight / fixedHeight"
    params = list(inspect.signature(pg.AxisItem._updateMaxTextSize).parameters)
    assert params == ["self", "x"], moved(
        "pyqtgraph", f"AxisItem._updateMaxTextSize's signature (now {params})",
        _FAST_AXIS, _AXIS_RETEST)
    axis = pg.AxisItem("top")
    assert (axis.textHeight, axis.textWidth, axis.fixedHeight, axis.fixedWidth) == (
        18, 30, None, None), moved("pyqtgraph", what, _FAST_AXIS, _AXIS_RETEST)
    axis._updateMaxTextSize(40)  # grows the text space to fit
    grown = 40 + axis.style["tickTextOffset"][1] + max(0, axis.style["tickLength"])
    assert axis.textHeight == 40 and axis.minimumHeight() == axis.maximumHeight() == grown, (
        moved("pyqtgraph", what, _FAST_AXIS, _AXIS_RETEST))
    axis._updateMaxTextSize(35)  # within 10 px: kept
    assert axis.textHeight == 40, moved("pyqtgraph", what, _FAST_AXIS, _AXIS_RETEST)
    axis.setHeight(24)  # a fixed height stays, the text size is still tracked
    axis._updateMaxTextSize(12)
    assert axis.textHeight == 12 and axis.fixedHeight == 24, (
        moved("pyqtgraph", what, _FAST_AXIS, _AXIS_RETEST))
    assert axis.minimumHeight() == axis.maximumHeight() == 24, (
        moved("pyqtgraph", what, _FAST_AXIS, _AXIS_RETEST))


def test_pyqtgraph_axisitem_state_the_fast_axis_reads(qapp: Any) -> None:
    """The attributes FastAxisItem reads where generateDrawSpecs does, with their types."""
    axis = pg.AxisItem("bottom")
    expected: dict[str, Callable[[Any], bool]] = {
        "style": lambda v: isinstance(v, dict),
        "grid": lambda v: v is False,
        "range": lambda v: list(v) == [0, 1],
        "scale": lambda v: v == 1.0,
        "logMode": lambda v: v is False,
        "autoSIPrefixScale": lambda v: v == 1.0,
        "orientation": lambda v: v == "bottom",
        "textWidth": lambda v: isinstance(v, int | float),
        "textHeight": lambda v: isinstance(v, int | float),
        "fixedWidth": lambda v: v is None,
        "fixedHeight": lambda v: v is None,
        "deviceTransform_": callable,
        "linkedView": callable,
        "tickSpacing": callable,
    }
    wrong = [name for name, ok in expected.items()
             if not hasattr(axis, name) or not ok(getattr(axis, name))]
    assert not wrong, moved("pyqtgraph", f"AxisItem's {', '.join(wrong)}",
                            _FAST_AXIS, _AXIS_RETEST)
    keys = {"hideOverlappingLabels", "tickLength", "tickFont", "tickTextOffset", "showValues",
            "stopAxisAtTick", "maxTextLevel", "textFillLimits", "tickAlpha",
            "autoExpandTextSpace", "autoReduceTextSpace"}
    missing = sorted(keys - set(axis.style))
    assert not missing, moved("pyqtgraph", f"AxisItem.style (no {', '.join(missing)})",
                              _FAST_AXIS, _AXIS_RETEST)


def test_pyqtgraph_qpolygonf_array_view(qapp: Any) -> None:
    """WaveItem draws raw samples by writing x/y into ``ndarray_from_qpolygonf``'s view
    of a ``create_qpolygonf`` polygon (no per-point Python)."""
    what = moved("pyqtgraph", "functions.create_qpolygonf / ndarray_from_qpolygonf",
                 "relay_desktop/ui/waveform/items.py (WaveItem)",
                 "re-test the sample view (tests/gui/test_wave_item.py)")
    assert callable(getattr(fn, "create_qpolygonf", None)), what
    assert callable(getattr(fn, "ndarray_from_qpolygonf", None)), what
    poly = fn.create_qpolygonf(3)
    arr = fn.ndarray_from_qpolygonf(poly)
    assert poly.size() == 3 and arr.shape == (3, 2) and arr.dtype == np.float64, what
    arr[:, 0] = (1.0, 2.0, 3.0)
    arr[:, 1] = (-1.0, 0.5, 0.25)
    assert [(p.x(), p.y()) for p in poly] == [(1.0, -1.0), (2.0, 0.5), (3.0, 0.25)], (
        f"{what} (the array no longer shares the polygon's memory)")


# -- pyqtgraph: the region items' edge lines -------------------------------------------------

_REGION_RETEST = ("re-test region drawing, resizing and moving "
                  "(tests/gui/test_regions.py) and RegionItem's handler swap")


#: pyqtgraph drops mouse moves closer than 1/mouseRateLimit (100/s) to the last one it took
_MOVE_GAP_S = 0.012


def _mouse(view: Any, kind: Any, pos: Any, button: Any, buttons: Any) -> None:
    viewport = view.viewport()
    event = QMouseEvent(kind, QPointF(pos), QPointF(viewport.mapToGlobal(pos)), button,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def _drag(widget: Any, a_s: float, b_s: float) -> None:
    vb = widget.getPlotItem().getViewBox()

    def px(t_s: float) -> QPoint:
        return widget.mapFromScene(vb.mapViewToScene(QPointF(t_s, 0.0)))

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    a, b = px(a_s), px(b_s)
    _mouse(widget, QEvent.Type.MouseButtonPress, a, left, left)
    for i in range(1, 7):
        time.sleep(_MOVE_GAP_S)
        _mouse(widget, QEvent.Type.MouseMove,
               QPoint(round(a.x() + (b.x() - a.x()) * i / 6), a.y()), none, left)
    _mouse(widget, QEvent.Type.MouseButtonRelease, b, left, none)
    QApplication.processEvents()


def _click(widget: Any, t_s: float) -> None:
    vb = widget.getPlotItem().getViewBox()
    p = widget.mapFromScene(vb.mapViewToScene(QPointF(t_s, 0.0)))
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(widget, QEvent.Type.MouseButtonPress, p, left, left)
    _mouse(widget, QEvent.Type.MouseButtonRelease, p, left, none)
    QApplication.processEvents()


def test_pyqtgraph_region_lines_take_instance_event_handlers(qtbot: Any) -> None:
    """RegionItem swaps its edge lines' ``mouseDragEvent`` / ``mouseClickEvent`` on the
    instances: pyqtgraph's scene must call them there, and ``InfiniteLine.moving`` must
    say which edge moves (and ``LinearRegionItem.moving`` a body drag)."""
    what = moved("pyqtgraph", "GraphicsScene's mouse dispatch / LinearRegionItem.lines / "
                 "InfiniteLine.moving", "relay_desktop/ui/annotations/region_item.py "
                 "(RegionItem)", _REGION_RETEST)
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    widget.setXRange(0.0, 4.0, padding=0)
    widget.setYRange(-1.0, 1.0, padding=0)
    signals = RegionSignals()
    moving: list[tuple[str, list[bool], bool]] = []

    def snapper(t_s: float, _local_id: str, edge: str) -> float:
        moving.append((edge, [bool(line.moving) for line in item.lines], bool(item.moving)))
        return t_s

    item = RegionItem(signals, snapper)
    lines = getattr(item, "lines", None)
    assert isinstance(lines, list) and len(lines) == 2, what
    assert all(isinstance(line, pg.InfiniteLine) for line in lines), what
    item.setRegion((1.0, 2.0))
    widget.addItem(item)
    widget.show()
    qtbot.waitExposed(widget)
    events: list[tuple[Any, ...]] = []
    signals.clicked.connect(lambda *args: events.append(("clicked", args[3])))
    signals.changing.connect(lambda *args: events.append(("changing",)))
    signals.edited.connect(lambda *args: events.append(("edited", args[3])))

    _drag(widget, 2.0, 2.5)  # the end edge: through the swapped mouseDragEvent
    assert events[:2] == [("clicked", 1), ("changing",)], (
        f"{what}: an edge drag gave {events[:3]} (the swapped handler was not called)")
    assert events[-1] == ("edited", "resize"), f"{what}: an edge drag ended with {events[-1:]}"
    assert moving and all(m == ("end", [False, True], False) for m in moving), (
        f"{what}: during an edge drag, (edge, lines' moving, region's moving) = {moving[:3]}")
    start, end = item.getRegion()
    assert start == pytest.approx(1.0) and abs(end - 2.5) < 0.05, f"{what}: {start}, {end}"

    events.clear()
    _click(widget, 1.0)  # the start edge: through the swapped mouseClickEvent
    assert events == [("clicked", 0)], f"{what}: a click on an edge gave {events}"

    events.clear()
    moving.clear()
    _drag(widget, 1.75, 2.25)  # the body: LinearRegionItem's own drag, region moving
    assert events[0] == ("clicked", -1) and events[-1] == ("edited", "move"), (
        f"{what}: a body drag gave {events[:2]}...{events[-1:]}")
    assert moving and all(m[1:] == ([False, False], True) for m in moving), (
        f"{what}: during a body drag, (edge, lines' moving, region's moving) = {moving[:3]}")
