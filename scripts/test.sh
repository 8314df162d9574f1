#!/usr/bin/env bash
# Runs every test: unit tests, the end-to-end tests that drive the staged function app
# through a stand-in for the Functions host against the Anaplan emulator, the storage
# tests against a real Azurite, which is started here (and stopped afterwards) unless one
# is already running, and the Python anaplan-sdk against the emulator (installed once into
# .venv-sdk/; skipped with a warning when python3 or the package is not available).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! scripts/azurite.sh status; then
    scripts/azurite.sh start
    trap 'scripts/azurite.sh stop' EXIT
fi
ANAPLAN_SDK_VERSION=0.5.22
if [[ -z "${ANAPLAN_SDK_PYTHON:-}" ]]; then
    if [[ ! -x .venv-sdk/bin/python ]] || ! .venv-sdk/bin/python -c "import anaplan_sdk" 2>/dev/null; then
        echo "test.sh: installing anaplan-sdk $ANAPLAN_SDK_VERSION into .venv-sdk/"
        python3 -m venv .venv-sdk >/dev/null 2>&1 &&
            .venv-sdk/bin/pip install --quiet "anaplan-sdk==$ANAPLAN_SDK_VERSION" ||
            echo "test.sh: WARNING: could not install anaplan-sdk; its test will be skipped" >&2
    fi
    if .venv-sdk/bin/python -c "import anaplan_sdk" 2>/dev/null; then
        export ANAPLAN_SDK_PYTHON="$PWD/.venv-sdk/bin/python"
    fi
fi
cargo test --workspace --locked "$@"
