#!/usr/bin/env bash
# make gpu-check: set up a virtual environment on a GPU machine and run scripts/gpu_check.py.
#
# Which torch: when the machine's python3 already imports torch (a CUDA build, as on the lent
# GPU machines), the environment is made with --system-site-packages and that torch is pinned
# (constraints file written into the environment), so pip never replaces it. Otherwise the
# environment gets the repository's constraints.txt (torch==2.13.0, the CPU build).
# Offline machines: WHEELHOUSE=<folder of wheels> (made here by `make gpu-wheels`) installs the
# packages the image lacks with --no-index --find-links.
#
# Environment: OUT (default runs/gpu-check), GPU_BUDGET_S (default 480), DEVICE (auto|cuda|cpu),
# GPU_VENV (default .venv-gpu), PYTHON (default python3), WHEELHOUSE.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${GPU_VENV:-.venv-gpu}
if [ ! -x "$VENV/bin/python" ]; then
  if "$PYTHON" -c 'import torch' 2>/dev/null; then
    echo "[gpu-check] using the machine's torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
    "$PYTHON" -m venv --system-site-packages "$VENV"
    "$VENV/bin/python" -c 'import torch; print(f"torch=={torch.__version__}")' > "$VENV/constraints-gpu.txt"
  else
    echo "[gpu-check] no torch on $PYTHON: installing the CPU build pinned by constraints.txt"
    "$PYTHON" -m venv "$VENV"
    cp constraints.txt "$VENV/constraints-gpu.txt"
  fi
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check install -q -c "$VENV/constraints-gpu.txt")
[ -n "${WHEELHOUSE:-}" ] && PIP+=(--no-index --find-links "$WHEELHOUSE")
STAMP="$VENV/.etude-installed"
if [ ! -f "$STAMP" ] || [ -n "$(find pyproject.toml plugins/*/pyproject.toml -newer "$STAMP" 2>/dev/null)" ]; then
  editables=()
  for p in plugins/*/pyproject.toml; do editables+=(-e "$(dirname "$p")"); done
  "${PIP[@]}" -e ".[gym]" "${editables[@]}" pytest hypothesis jsonschema pytest-timeout
  touch "$STAMP"
fi
exec "$VENV/bin/python" scripts/gpu_check.py "$@"
