#!/usr/bin/env bash
# What a fresh CI machine lacks for the Python package's tests (tests/python.rs): Python's
# venv module and a headless Java runtime for PySpark (local mode). Idempotent: installs
# nothing that is already there. Runs as root (apt-get).
set -euo pipefail
missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ci-python-deps: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
python3 --version
java -version 2>&1 | head -n 1
