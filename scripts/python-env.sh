#!/usr/bin/env bash
# Makes target/python-venv: a virtualenv with python/requirements-dev.txt (maturin, pytest,
# numpy, pyarrow, pyspark) and the alliance_map package built from python/ by
# `pip install ./python` (a release build of the extension into python/target).
# Idempotent: nothing is installed again unless the requirements changed, and the package is
# rebuilt only when its sources, the root crate's or the packed data changed (a stamp of
# their hashes), so a second run takes about a second.
# Needs python3 with venv (Debian: python3-venv; scripts/ci-python-deps.sh installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=${PYTHON_VENV:-$root/target/python-venv}
python=${PYTHON:-python3}
pip() { "$venv/bin/python" -m pip --disable-pip-version-check -q "$@"; }

if [ ! -x "$venv/bin/python" ]; then
  echo "python-env: creating $venv" >&2
  "$python" -m venv "$venv"
fi
req_hash=$(sha256sum python/requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$req_hash" ]; then
  echo "python-env: installing python/requirements-dev.txt" >&2
  pip install -r python/requirements-dev.txt
  echo "$req_hash" > "$venv/.requirements"
fi

# Everything the wheel is built from (not the tests, the benchmark or the docs).
src_hash=$(
  files=(python/src python/alliance_map python/Cargo.toml python/Cargo.lock python/pyproject.toml
         src data build.rs Cargo.toml Cargo.lock)
  { git ls-files -z -- "${files[@]}" 2>/dev/null || find "${files[@]}" -type f -print0; } |
    sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -d' ' -f1
)
if [ "$(cat "$venv/.alliance_map" 2>/dev/null)" != "$src_hash" ] ||
   ! "$venv/bin/python" -c 'import alliance_map' 2>/dev/null; then
  echo "python-env: building and installing ./python (release build, a few minutes the first time)" >&2
  started=$(date +%s)
  # The build's own target directory, whatever the caller's environment says; maturin from
  # the venv (no isolated build environment to download each time).
  PATH="$venv/bin:$PATH" CARGO_TARGET_DIR="$root/python/target" pip install --no-build-isolation --force-reinstall --no-deps ./python
  echo "$src_hash" > "$venv/.alliance_map"
  echo "python-env: built in $(( $(date +%s) - started )) s" >&2
fi
echo "$venv"
