"""WaveItem and draw_hlines: pixel for pixel against plain, obviously-correct references.

The envelope reference is a pure-Python loop: every bucket's device column and
rows, the per-column extremes, gap columns repeating the column before, and one
``drawImage`` of a 1-px-wide solid strip per column. Centre lines are Qt's own
``drawLine``. Everything is drawn over random premultiplied pixels, so blending
and rounding are compared too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QLineF, QPoint, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPicture, QTransform

from relay_desktop.ui.waveform.items import WaveItem, draw_hlines, premultiplied

W, H = 320, 120
ARGB = QImage.Format.Format_ARGB32_Premultiplied
Lane = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def background(seed: int, w: int = W, h: int = H) -> np.ndarray:
    """Random valid premultiplied ARGB pixels."""
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 2**32, (h, w), dtype=np.uint32)
    alpha = px >> 24
    for shift in (16, 8, 0):
        channel = np.minimum((px >> shift) & 255, alpha)
        px = (px & ~np.uint32(255 << shift)) | (channel << shift)
    return px


def image_of(pixels: np.ndarray) -> QImage:
    h, w = pixels.shape
    img = QImage(w, h, ARGB)
    np.frombuffer(img.bits(), np.uint32).reshape(h, w)[:] = pixels
    return img


def pixels_of(img: QImage) -> np.ndarray:
    return np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.width()).copy()


def spans(tr: QTransform, w: int, h: int, x: np.ndarray, lo: np.ndarray,
          hi: np.ndarray) -> dict[int, tuple[int, int]]:
    """Device column -> (first row, last row) of the envelope, unclipped to the device."""
    flipped = tr.m22() < 0
    dev = [float(v) * tr.m11() + tr.dx() for v in x]
    groups: dict[int, list[int]] = {}
    for i, d in enumerate(dev):
        row_a = min(max(math.floor(float(hi[i]) * tr.m22() + tr.dy()), -1), h)
        row_b = min(max(math.floor(float(lo[i]) * tr.m22() + tr.dy()), -1), h)
        top, bottom = (row_a, row_b) if flipped else (row_b, row_a)
        g = groups.setdefault(math.floor(d), [top, bottom])
        g[0], g[1] = min(g[0], top), max(g[1], bottom)
    step = dev[1] - dev[0] if len(dev) > 1 else 1.0
    first, last = max(0, math.floor(dev[0])), min(w - 1, math.ceil(dev[-1] + step) - 1)
    out: dict[int, tuple[int, int]] = {}
    current: list[int] | None = None
    for col in range(min(groups), last + 1):
        current = groups.get(col, current)
        if col >= first and current is not None:
            out[col] = (current[0], max(current[0], current[1]))
    return out


def reference(bg: np.ndarray, tr: QTransform, lanes: list[Lane], fill: QColor,
              centre_span: tuple[float, float] | None) -> np.ndarray:
    """The item's picture drawn the slow way: drawLine centres, then per-column strips."""
    h, w = bg.shape
    img = image_of(bg)
    strip = QImage(1, h, ARGB)
    strip.fill(int(premultiplied(fill)))
    p = QPainter(img)
    pen = QPen(QColor(255, 255, 255, 40))
    pen.setCosmetic(True)
    p.setTransform(tr)
    p.setPen(pen)
    for lane in lanes:
        if centre_span is not None:
            p.drawLine(QLineF(centre_span[0], lane[3], centre_span[1], lane[3]))
    p.resetTransform()
    for x, lo, hi, off in lanes:
        if len(x) == 0:
            continue
        for col, (top, bottom) in spans(tr, w, h, x, lo + off, hi + off).items():
            top, bottom = max(0, top), min(h - 1, bottom)
            if top <= bottom:
                p.drawImage(QPoint(col, top), strip, QRect(0, 0, 1, bottom - top + 1))
    p.end()
    return pixels_of(img)


def rendered(item: WaveItem, bg: np.ndarray, tr: QTransform) -> np.ndarray:
    img = image_of(bg)
    p = QPainter(img)
    p.setTransform(tr)
    item.paint(p)
    p.end()
    return pixels_of(img)


def x_transform(x0: float, x1: float, c0: float, c1: float, y_scale: float,
                y_shift: float) -> QTransform:
    """Seconds [x0, x1] onto device columns [c0, c1]; y -> y * y_scale + y_shift."""
    m11 = (c1 - c0) / (x1 - x0)
    return QTransform(m11, 0, 0, y_scale, c0 - x0 * m11, y_shift)


FLIP = (-H * 0.45, H / 2)  # the plots' usual y: up is positive


def random_lane(rng: np.random.Generator, n: int, t0: float, dt: float, off: float = 0.0,
                amp: float = 1.0) -> Lane:
    a, b = rng.uniform(-amp, amp, (2, n))
    return t0 + dt * np.arange(n), np.minimum(a, b), np.maximum(a, b), off


def cases() -> list[tuple[str, list[Lane], QTransform]]:
    rng = np.random.default_rng(7)
    out: list[tuple[str, list[Lane], QTransform]] = []
    for n in (1, 2, 37, W - 1, W, W + 1, 413, 5000):
        out.append((f"random-{n}", [random_lane(rng, n, 0.0, 1.0 / n)],
                    x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    out.append(("not-flipped", [random_lane(rng, 500, 0.0, 0.002)],
                x_transform(0.0, 1.0, 0.0, W, H * 0.45, H / 2)))
    out.append(("off-left-and-right", [random_lane(rng, 900, -0.5, 0.002)],
                x_transform(0.0, 1.0, 0.3, W - 0.3, *FLIP)))
    out.append(("all-off-screen", [random_lane(rng, 50, 2.0, 0.01)],
                x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    out.append(("right-part-only", [random_lane(rng, 80, 0.5, 0.05)],
                x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    t = np.linspace(0.0, 1.0, 700, endpoint=False)
    flat = (t, np.full(700, 0.25), np.full(700, 0.25), 0.0)
    zero = (t, np.zeros(700), np.zeros(700), 0.0)
    full = (t, np.full(700, -1.0), np.full(700, 1.0), 0.0)
    over = (t, np.full(700, -3.0), np.full(700, 3.0), 0.0)
    out += [(name, [lane], x_transform(0.0, 1.0, 0.0, W, *FLIP))
            for name, lane in (("flat", flat), ("zero", zero), ("full-scale", full),
                               ("beyond-the-device", over))]
    spikes = np.zeros(700)
    spikes[[3, 100, 101, 350, 699]] = [1.0, -1.0, 0.9, 1.0, -0.7]
    out.append(("spikes", [(t, np.minimum(spikes, 0), np.maximum(spikes, 0), 0.0)],
                x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    gappy = np.sort(rng.choice(np.arange(3000), 60, replace=False)) / 3000
    lane = random_lane(rng, 60, 0.0, 1.0)
    out.append(("gaps", [(gappy, lane[1], lane[2], 0.0)], x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    for k, (lo, hi) in enumerate([(-0.05, 1.05), (-0.3, 0.6), (0.4, 1.6)]):
        clustered = np.sort(np.round(rng.uniform(lo, hi, 150) * 40) / 40
                            + rng.uniform(0, 3e-3, 150))
        lane = random_lane(rng, 150, 0.0, 1.0)
        out.append((f"sparse-clusters-{k}", [(clustered, lane[1], lane[2], 0.0)],
                    x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    # column 0 has no bucket: it takes those of the last column left of it, not of all
    left = np.concatenate([[-0.1, -0.1 + 1e-4, -0.05, -0.021, -0.0205], np.linspace(0.013, 1, 30)])
    lane = random_lane(rng, 35, 0.0, 1.0, amp=0.3)
    lane[1][:3], lane[2][:3] = -1.0, 1.0
    out.append(("left-groups", [(left, lane[1], lane[2], 0.0)],
                x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    out.append(("sparse-off-left", [random_lane(rng, 40, -0.013, 0.03)],
                x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    out.append(("fewer-buckets", [random_lane(rng, 40, 0.0, 0.025)],
                x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    out.append(("lanes", [random_lane(rng, 600, 0.0, 1 / 600, off=-2.2 * k, amp=0.8)
                          for k in range(3)],
                x_transform(0.0, 1.0, 0.0, W, -H / 7.5, H / 12)))
    a, b = rng.uniform(-1, 1, (2, 500))
    out.append(("mins-above-maxs", [(np.arange(500) / 500, np.maximum(a, b), np.minimum(a, b),
                                     0.0)], x_transform(0.0, 1.0, 0.0, W, *FLIP)))
    deep = 36_000.0 - 0.37
    out.append(("deep-zoom", [random_lane(rng, 400, deep, 1e-4)],
                x_transform(deep, deep + 0.04, 0.0, W, *FLIP)))
    smooth = np.sin(np.linspace(0, 9, 1941)) * 0.3
    out.append(("smooth", [(np.arange(1941) / 1941, smooth - 0.4, smooth + 0.45, 0.0)],
                x_transform(0.013, 0.97, 0.0, W, *FLIP)))
    return out


CASES = cases()


# ("random-1", own extent): a single bucket's extent is 1e-9 s wide, so its centre line is
# shorter than a pixel; draw_hlines leaves that to drawLine (which may draw nothing)
ENVELOPE_PARAMS = [pytest.param(case, span, id=f"{case[0]}-{'x-span' if span else 'own-extent'}")
                   for case in CASES for span in (True, False)]


@pytest.mark.parametrize(("case", "span"), ENVELOPE_PARAMS)
def test_envelopes_match_the_per_column_reference(
        qapp: object, case: tuple[str, list[Lane], QTransform], span: bool) -> None:
    _name, lanes, tr = case
    item = WaveItem("#4fc3f7")
    x_span = (-0.1, 1.1) if span else None
    item.set_envelopes(lanes, x_span)
    rect = item.boundingRect()
    centre = x_span or (rect.left(), rect.right())
    fill = QColor("#4fc3f7")
    fill.setAlpha(235)
    bg = background(len(lanes[0][0]))
    expected = reference(bg, tr, lanes, fill, centre)
    got = rendered(item, bg, tr)
    assert (got == expected).all(), f"{int((got != expected).sum())} pixels differ"


def test_frames_reuse_nothing_stale(qapp: object) -> None:
    """The same item painted at many zooms and sizes: every frame matches its reference."""
    rng = np.random.default_rng(11)
    item = WaveItem("#ff8a65")
    fill = QColor("#ff8a65")
    fill.setAlpha(235)
    lanes = [random_lane(rng, 2000, 0.0, 5e-4, amp=0.9), random_lane(rng, 2000, 0.0, 5e-4, -2.0)]
    item.set_envelopes(lanes, (0.0, 1.0))
    for k, (w, h) in enumerate([(W, H), (W // 2, H * 2), (W * 2, H // 2), (W, H)]):
        a = float(rng.uniform(0, 0.5))
        b = a + float(rng.uniform(0.05, 0.5))
        tr = x_transform(a, b, 0.0, w, -h / 5.0, h / 4.0)
        bg = background(100 + k, w, h)
        assert (rendered(item, bg, tr) == reference(bg, tr, lanes, fill, (0.0, 1.0))).all()


def test_set_color_and_clear(qapp: object) -> None:
    rng = np.random.default_rng(5)
    item = WaveItem()
    lanes = [random_lane(rng, 300, 0.0, 1 / 300)]
    item.set_envelopes(lanes, (0.0, 1.0))
    tr = x_transform(0.0, 1.0, 0.0, W, *FLIP)
    bg = background(3)
    rendered(item, bg, tr)
    item.set_color("#aed581")
    fill = QColor("#aed581")
    fill.setAlpha(235)
    assert (rendered(item, bg, tr) == reference(bg, tr, lanes, fill, (0.0, 1.0))).all()
    item.clear()
    assert (rendered(item, bg, tr) == bg).all()


def test_recorded_into_a_picture(qapp: object) -> None:
    """A QPicture keeps the images it is given: each blit must hand it its own pixels."""
    rng = np.random.default_rng(9)
    lanes = [random_lane(rng, 700, 0.0, 1 / 700, off=-2.0 * k, amp=0.9) for k in range(3)]
    item = WaveItem()
    item.set_envelopes(lanes, (0.0, 1.0))
    tr = x_transform(0.0, 1.0, 0.0, W, -H / 7.0, H / 7.0)
    picture = QPicture()
    p = QPainter(picture)
    p.fillRect(QRect(0, 0, W, H), QColor(0, 0, 0, 0))  # the picture's size: its bounds so far
    p.setTransform(tr)
    item.paint(p)
    p.end()
    scratch = QImage(W, H, ARGB)
    p = QPainter(scratch)
    item.paint(p)  # reuse any buffers before the replay
    p.end()
    bg = background(4)
    img = image_of(bg)
    p = QPainter(img)
    picture.play(p)
    p.end()
    on_image = rendered(item, bg, tr)
    differ = pixels_of(img) != on_image
    assert not differ[:, 1:-1].any()  # a picture's own clipping may differ at its bounds


def test_the_item_in_a_scene(qapp: object) -> None:
    """Painted by a QGraphicsScene through pyqtgraph's ViewBox, as the plots do."""
    import pyqtgraph as pg

    rng = np.random.default_rng(2)
    lanes = [random_lane(rng, 900, 0.0, 1 / 900, amp=0.8)]
    item = WaveItem()
    item.set_bounds(QRectF(0.0, -1.1, 1.0, 2.2))
    item.set_envelopes(lanes, (0.0, 1.0))
    scene = pg.GraphicsScene()
    vb = pg.ViewBox(enableMenu=False)
    vb.setBackgroundColor(None)
    scene.addItem(vb)
    vb.setGeometry(QRectF(0, 0, W, H))
    vb.addItem(item, ignoreBounds=True)
    vb.setRange(xRange=(0.1, 0.8), yRange=(-1.1, 1.1), padding=0)
    img = QImage(W, H, ARGB)
    img.fill(0xFF203040)
    p = QPainter(img)
    scene.render(p, QRectF(0, 0, W, H), QRectF(0, 0, W, H))
    p.end()
    tr = item.deviceTransform(QTransform())
    fill = QColor("#4fc3f7")
    fill.setAlpha(235)
    bg = np.full((H, W), 0xFF203040, dtype=np.uint32)
    expected = reference(bg, tr, lanes, fill, (0.0, 1.0))
    assert (pixels_of(img) != 0xFF203040).sum() > 1000
    assert (pixels_of(img) == expected).all()


PENS = [QColor(255, 255, 255, 40), QColor(10, 200, 90, 255), QColor(255, 0, 0, 1),
        QColor(90, 90, 250, 128)]


@pytest.mark.parametrize("width", [0.0, 1.0, 3.0])
@pytest.mark.parametrize("color", PENS, ids=[c.name(QColor.NameFormat.HexArgb) for c in PENS])
@pytest.mark.parametrize("tr", [QTransform(), QTransform(3.7, 0, 0, -41.3, 11.2, 60.4),
                                QTransform.fromTranslate(0.5, 0.49)], ids=["none", "scale", "half"])
def test_draw_hlines_matches_draw_line(qapp: object, width: float, color: QColor,
                                       tr: QTransform) -> None:
    pen = QPen(color)
    pen.setCosmetic(True)
    pen.setWidthF(width)
    inv = tr.inverted()[0]
    ys = [inv.map(QPointF(0.0, r)).y() for r in (0.0, 0.5, 7.25, 59.999, H - 1.0, H - 0.2)]
    spans_ = [(-5.0, W + 5.0), (0.0, W - 1.0), (3.3, 250.6), (250.6, 3.3), (W - 1.5, W - 0.7)]
    bg = background(8)
    for a, b in spans_:
        x0, x1 = inv.map(QPointF(a, 0.0)).x(), inv.map(QPointF(b, 0.0)).x()
        for subset in (ys, ys[2:4], ys[:1]):
            fast, slow = image_of(bg), image_of(bg)
            for img, fast_path in ((fast, True), (slow, False)):
                p = QPainter(img)
                p.setTransform(tr)
                if fast_path:
                    draw_hlines(p, subset, x0, x1, pen)
                else:
                    p.setPen(pen)
                    for y in subset:
                        p.drawLine(QLineF(x0, y, x1, y))
                p.end()
            assert (pixels_of(fast) == pixels_of(slow)).all(), (a, b, subset)


def test_draw_hlines_leaves_the_painter_as_it_was(qapp: object) -> None:
    img = QImage(W, H, ARGB)
    p = QPainter(img)
    tr = QTransform(2.0, 0, 0, -3.0, 5.0, 60.0)
    p.setTransform(tr)
    p.setPen(QPen(QColor("red")))
    pen = QPen(QColor(255, 255, 255, 40))
    pen.setCosmetic(True)
    draw_hlines(p, [1.0, -2.0], 1.0, 40.0, pen, pen_ok=True)
    assert p.transform() == tr and p.pen().color() == QColor("red")
    p.end()
    assert Qt.PenStyle.SolidLine == pen.style()
