"""Render resources/icons/relay-desktop.svg to PNG icons (and .ico / .iconset) with Qt.

    python packaging/render_icons.py OUT_DIR

writes ``OUT_DIR/hicolor/<size>x<size>/apps/relay-desktop.png`` for the freedesktop
sizes, ``OUT_DIR/hicolor/scalable/apps/relay-desktop.svg``, ``OUT_DIR/relay-desktop.ico``
(Windows, for the spec) and ``OUT_DIR/relay-desktop.iconset/`` (macOS: ``iconutil -c
icns`` turns it into the .icns the spec uses).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "relay-desktop.svg"
SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONSET = {16: ("16x16",), 32: ("16x16@2x", "32x32"), 64: ("32x32@2x",),
           128: ("128x128",), 256: ("128x128@2x", "256x256"), 512: ("256x256@2x", "512x512")}


def render(out: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {SVG} is not a valid SVG")
    written: list[Path] = []
    images = {}
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        renderer.render(painter)
        painter.end()
        images[size] = image
        path = out / "hicolor" / f"{size}x{size}" / "apps" / "relay-desktop.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(path)):
            raise SystemExit(f"render_icons: could not write {path}")
        written.append(path)
    scalable = out / "hicolor" / "scalable" / "apps" / "relay-desktop.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable)
    written.append(scalable)
    iconset = out / "relay-desktop.iconset"
    iconset.mkdir(parents=True, exist_ok=True)
    for size, names in ICONSET.items():
        for name in names:
            images[size].save(str(iconset / f"icon_{name}.png"))
    written.append(write_ico(out / "relay-desktop.ico",
                             [out / "hicolor" / f"{s}x{s}" / "apps" / "relay-desktop.png"
                              for s in ICO_SIZES]))
    return written


def write_ico(path: Path, pngs: list[Path]) -> Path:
    """A Windows .ico holding PNG images (supported since Windows Vista)."""
    import struct

    blobs = [p.read_bytes() for p in pngs]
    header = struct.pack("<HHH", 0, 1, len(blobs))
    offset = 6 + 16 * len(blobs)
    entries, data = b"", b""
    for png, blob in zip(pngs, blobs, strict=True):
        size = int(png.parent.parent.name.split("x")[0])
        dim = 0 if size >= 256 else size
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(blob), offset)
        offset += len(blob)
        data += blob
    path.write_bytes(header + entries + data)
    return path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    for path in render(Path(argv[0])):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
