#!/usr/bin/env bash
# make package: the one-folder build (PyInstaller), its .tar.gz and, on Debian/Ubuntu,
# a .deb (under /opt, with /usr/bin/relay-desktop), checked with desktop-file-validate
# and appstreamcli. Works on a fresh clone: it bootstraps .venv with the dev tools and
# installs the validators when root (or sudo) is available.
#
# Environment: RELAY_PACKAGE_HOMEPAGE  the project's web address in the AppStream file
#              (its /screenshots/main-window.png is the README's screenshot);
#              RELAY_PACKAGE_SKIP_DEB=1  only the one-folder build and the .tar.gz.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/bootstrap.sh --dev
PY=.venv/bin/python
VERSION=$($PY -c 'import relay_desktop; print(relay_desktop.__version__)')
ARCH=$(uname -m)
HOMEPAGE=${RELAY_PACKAGE_HOMEPAGE:-https://relay-desktop.example.org}
WORK=build/packaging
DIST=dist
APP=$DIST/relay-desktop
mkdir -p "$WORK" "$DIST"

echo "== icons"
rm -rf "$WORK/icons"
$PY packaging/render_icons.py "$WORK/icons" >/dev/null

echo "== one-folder build (PyInstaller)"
$PY -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK/pyinstaller" \
  packaging/relay-desktop.spec
"$APP/relay-desktop" --version >/dev/null  # the binary starts

echo "== relay-desktop-$VERSION-linux-$ARCH.tar.gz"
TARBALL=$DIST/relay-desktop-$VERSION-linux-$ARCH.tar.gz
tar -C "$DIST" -czf "$TARBALL" relay-desktop

# The desktop integration files, with the version and address filled in.
mkdir -p "$WORK/share"
cp packaging/linux/relay-desktop.desktop "$WORK/share/relay-desktop.desktop"
sed -e "s|@VERSION@|$VERSION|g" -e "s|@DATE@|$(date -u +%Y-%m-%d)|g" \
    -e "s|@HOMEPAGE@|$HOMEPAGE|g" packaging/linux/io.relay.RelayDesktop.metainfo.xml \
    > "$WORK/share/io.relay.RelayDesktop.metainfo.xml"

DEB=""
if [ "${RELAY_PACKAGE_SKIP_DEB:-0}" != 1 ] && command -v dpkg-deb >/dev/null 2>&1; then
  if ! command -v desktop-file-validate >/dev/null 2>&1 || ! command -v appstreamcli >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    echo "== installing desktop-file-utils and appstream (the validators)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
      desktop-file-utils appstream >/dev/null
  fi
  echo "== validating the desktop entry and the AppStream metainfo"
  desktop-file-validate "$WORK/share/relay-desktop.desktop"
  appstreamcli validate --no-net "$WORK/share/io.relay.RelayDesktop.metainfo.xml"

  DEB_ARCH=$(dpkg --print-architecture)
  DEB=$DIST/relay-desktop_${VERSION}_${DEB_ARCH}.deb
  echo "== $(basename "$DEB")"
  STAGE=$WORK/deb
  rm -rf "$STAGE"
  mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/metainfo" "$STAGE/usr/share/icons"
  cp -a "$APP" "$STAGE/opt/relay-desktop"
  # relative, so the package also works unpacked into a scratch root (dpkg -x)
  ln -s ../../opt/relay-desktop/relay-desktop "$STAGE/usr/bin/relay-desktop"
  cp "$WORK/share/relay-desktop.desktop" "$STAGE/usr/share/applications/"
  cp "$WORK/share/io.relay.RelayDesktop.metainfo.xml" "$STAGE/usr/share/metainfo/"
  cp -r "$WORK/icons/hicolor" "$STAGE/usr/share/icons/"
  SIZE_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
  cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: relay-desktop
Version: $VERSION
Architecture: $DEB_ARCH
Maintainer: Relay <support@relay-desktop.example.org>
Installed-Size: $SIZE_KB
Section: sound
Priority: optional
Depends: libc6 (>= 2.31), libpulse0, libegl1, libgl1, libfontconfig1, libfreetype6, libdbus-1-3, libxkbcommon0, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libxcb-xkb1
Recommends: fonts-dejavu-core, gnome-keyring | kwalletmanager
Homepage: $HOMEPAGE
Description: Label, train and detect artifacts in generated speech
 Relay Desktop labels clicks, glitches, distortion and long pauses in
 text-to-speech audio, trains a detector on the labels and runs it over new
 recordings. It carries Relay Local, a complete server that runs on this
 computer with no account and no network, and a demo dataset.
CONTROL
  cat > "$STAGE/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
fi
POSTINST
  cp "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/postrm"
  sed -i 's/= configure/= remove/' "$STAGE/DEBIAN/postrm"
  chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/postrm"
  dpkg-deb --root-owner-group -Zxz --build "$STAGE" "$DEB" >/dev/null
fi

echo
echo "Artifacts:"
echo "  one-folder build  $ROOT/$APP/  ($(du -sh "$APP" | cut -f1) unpacked)"
echo "  tarball           $ROOT/$TARBALL  ($(du -sh "$TARBALL" | cut -f1))"
[ -n "$DEB" ] && echo "  Debian package    $ROOT/$DEB  ($(du -sh "$DEB" | cut -f1))"
echo "Smoke tests: .venv/bin/pytest tests/packaging -q"
