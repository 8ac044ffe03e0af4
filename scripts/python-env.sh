#!/usr/bin/env bash
# Creates (once) the virtual environment used by the Python reference tests:
# .venv at the repository root with numpy and safetensors from PyPI.
# Prints the path of its python on success.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${MRGPTQ_VENV:-$PWD/.venv}
PKGS=(numpy safetensors)
if [ ! -x "$VENV/bin/python" ]; then
  PY=/usr/bin/python3
  [ -x "$PY" ] || PY=python3
  "$PY" -m venv "$VENV" >&2
fi
if ! "$VENV/bin/python" -c "import numpy, safetensors" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PKGS[@]}" >&2
fi
echo "$VENV/bin/python"
