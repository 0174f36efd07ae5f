#!/usr/bin/env bash
# Create .venv and install ragops with pinned dependencies, offline-safe.
# Idempotent: does nothing when .venv is already installed from the same pins.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=".venv"
STAMP="$VENV/.ragops-installed"
PINS_HASH="$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)"

if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$PINS_HASH" ]; then
  exit 0
fi

if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
  echo "ragops needs Python 3.11 (PyTorch 2.13.0 CPU wheel); set PYTHON=/path/to/python3.11" >&2
  exit 1
fi

echo "==> creating $VENV with $("$PYTHON" --version)" >&2
"$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade "pip>=25" wheel "setuptools>=69"

# PyTorch first, from the CPU wheel: with torch unpinned pip would pull a multi-GB CUDA build.
echo "==> installing torch 2.13.0 (CPU)" >&2
"${PIP[@]}" install -q "torch==2.13.0"

echo "==> installing ragops and its pinned dependencies (constraints.txt)" >&2
"${PIP[@]}" install -q -c constraints.txt -e ".[dev]"

# unstructured[pdf] pulls torchvision, whose CUDA build breaks `import sentence_transformers`
# (operator torchvision::nms does not exist). Nothing ragops uses needs it.
"${PIP[@]}" uninstall -q -y torchvision >/dev/null 2>&1 || true

# unstructured loads the spaCy model en_core_web_sm and would download it at first parse.
VIRTUAL_ENV="$PWD/$VENV" PYTHON="$VENV/bin/python" bash scripts/install_spacy_model.sh

echo "$PINS_HASH" > "$STAMP"
echo "==> ready: $VENV" >&2
