#!/usr/bin/env bash
# Build the Linux desktop bundle, self-test it, and wrap it for distribution.
#
#   bash packaging/build_linux.sh        (from anywhere; uses ./.venv unless PYTHON is set)
#
# Output in build/: dist/LesionLens/ (the one-folder bundle), LesionLens-<version>-linux-x86_64.tar.gz,
# and LesionLens-<version>-linux-x86_64.run (a self-extracting archive, when makeself is installed:
# apt-get install makeself). An AppImage needs appimagetool, which cannot be fetched offline here;
# see packaging/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
started=$(date +%s)
"$PYTHON" -m pip install -q -e '.[package]'
mkdir -p build
"$PYTHON" -c "from core.assets.notices import write_notices; write_notices('build/THIRD_PARTY_NOTICES.txt', leave_out=('torch',))"
# The built-in model's OpenVINO export, made here once (with torch) so the bundle needs no torch.
rm -rf build/openvino
"$PYTHON" -c "
from core.network.checkpoint import load_checkpoint
from core.network.openvino_export import export_openvino
from core.assets.paths import default_model_path
export_openvino(load_checkpoint(default_model_path()), 'build/openvino')"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath build/dist --workpath build/work packaging/lesionlens.spec
built=$(date +%s)
echo "== self-test of the bundle"
QT_QPA_PLATFORM=offscreen LESIONLENS_SETTINGS=build/selftest-settings.ini build/dist/LesionLens/LesionLens --self-test
version=$("$PYTHON" -c "import core; print(core.__version__)")
name="LesionLens-${version}-linux-x86_64"
tar -C build/dist -czf "build/${name}.tar.gz" LesionLens
if command -v makeself >/dev/null; then
    makeself --quiet --gzip build/dist/LesionLens "build/${name}.run" "LesionLens ${version}" ./LesionLens
fi
"$PYTHON" packaging/size_report.py build/dist/LesionLens > build/size_report.md
echo "== done in $(( $(date +%s) - started )) s (PyInstaller $(( built - started )) s)"
du -sh build/dist/LesionLens
ls -la build/*.tar.gz build/*.run 2>/dev/null || true
