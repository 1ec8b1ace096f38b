#!/usr/bin/env bash
# macOS: LesionLens.app and a .dmg. NOT TESTED HERE (the team's build machine is Linux).
#
# On a Mac (Apple silicon or Intel) with Python 3.11:
#   python3.11 -m venv .venv && .venv/bin/pip install -e '.[package]'
#   bash packaging/macos/build_macos.sh
# PyInstaller's BUNDLE step (enabled below with --osx-bundle) wraps the one-folder build as an .app;
# hdiutil (part of macOS) makes the disk image. Signing and notarisation need the clinic's
# Apple Developer ID: codesign --deep --options runtime --sign "Developer ID Application: ..." and
# xcrun notarytool submit ... --wait; without them Gatekeeper asks users to confirm the first start.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-.venv/bin/python}
mkdir -p build
"$PYTHON" -c "from core.assets.notices import write_notices; write_notices('build/THIRD_PARTY_NOTICES.txt')"
# The app icon: macOS wants .icns (sips/iconutil turn resources/icon.png into one).
mkdir -p build/icon.iconset
for size in 16 32 64 128 256; do
    sips -z $size $size resources/icon.png --out build/icon.iconset/icon_${size}x${size}.png >/dev/null
done
iconutil -c icns build/icon.iconset -o build/LesionLens.icns
LESIONLENS_OSX_BUNDLE=1 "$PYTHON" -m PyInstaller --noconfirm --clean \
    --distpath build/dist --workpath build/work packaging/lesionlens.spec
build/dist/LesionLens.app/Contents/MacOS/LesionLens --self-test
version=$("$PYTHON" -c "import core; print(core.__version__)")
hdiutil create -volname "LesionLens ${version}" -srcfolder build/dist/LesionLens.app -ov -format UDZO \
    "build/LesionLens-${version}-macos.dmg"
