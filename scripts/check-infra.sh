#!/usr/bin/env bash
# Offline checks of the deployment and connector files (infra/, azure.yaml). No Azure access
# and no Bicep compiler are needed (there is none offline: the Bicep CLI downloads from
# GitHub); Python packages are installed with pip into .venv-infra/ (git-ignored):
#
#   1. JSON files parse; the connector definition is what scripts/connector_swagger.py
#      writes, formatted as `anaplan-functions openapi` prints it, and valid Swagger 2.0
#      (openapi-spec-validator); apiProperties.json, azure.yaml and main.bicepparam agree
#      with the rest; every checkov skip carries a reason.
#   2. Every .bicep file parses (pycep-parser 0.7), module paths, parameters and outputs
#      match across files, loadJsonContent targets exist, and the resources have what the
#      issue requires (shared keys off, RBAC vault, Secrets Officer scoped to two secrets...).
#   3. checkov's Bicep checks pass (skips are justified next to them in the Bicep), and
#      checkov parsed every file.
#
# Usage: scripts/check-infra.sh            (exit 0 when everything passes)
# Needs python3 (3.9+; 3.11 preferred) with pip. Works as root on a clean machine; the first
# run installs the tools (about a minute), later runs reuse them (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_ROOT=.venv-infra
# Root is expected here (CI); quiet pip's warning about it and its version check.
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
# checkov pins pycep-parser 0.5.1 for its own parsing, so the newer pycep that parses current
# Bicep syntax lives in a second venv.
CHECKOV_PINS="checkov==3.3.30 pycep-parser==0.5.1 openapi-spec-validator==0.9.0"
PYCEP_PINS="pycep-parser==0.7.1"

fail() {
    echo "check-infra: FAILED: $*" >&2
    exit 1
}

pick_python() {
    local c
    for c in "${PYTHON:-}" python3.11 python3 python; do
        [[ -n "$c" ]] || continue
        if command -v "$c" >/dev/null 2>&1 &&
            "$c" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
            echo "$c"
            return
        fi
    done
    fail "no python3 (3.9 or newer) found; install python3.11 and pip"
}

# make_venv DIR "PINS": a venv in DIR with exactly PINS installed (reinstalled when PINS change).
make_venv() {
    local dir=$1 pins=$2
    if [[ -x "$dir/bin/python" && -f "$dir/.pins" && "$(cat "$dir/.pins")" == "$pins" ]]; then
        return
    fi
    echo "== installing into $dir: $pins"
    rm -rf "$dir"
    mkdir -p "$VENV_ROOT"
    if ! "$PY" -m venv "$dir" >/dev/null 2>&1; then
        # Debian's python without python3-venv: use virtualenv (installed with pip, kept inside
        # .venv-infra/, nothing installed system-wide).
        rm -rf "$dir"
        "$PY" -m pip install --disable-pip-version-check --no-input -q --target "$VENV_ROOT/.virtualenv" virtualenv ||
            fail "cannot create a venv: $PY -m venv failed and virtualenv could not be installed"
        PYTHONPATH="$VENV_ROOT/.virtualenv" "$PY" -m virtualenv -q "$dir" ||
            fail "cannot create a venv in $dir"
    fi
    # shellcheck disable=SC2086 # PINS is a list of requirement specifiers
    "$dir/bin/python" -m pip install --disable-pip-version-check --no-input -q $pins ||
        fail "pip could not install: $pins"
    echo "$pins" >"$dir/.pins"
}

PY=$(pick_python)
make_venv "$VENV_ROOT/checkov" "$CHECKOV_PINS"
make_venv "$VENV_ROOT/pycep" "$PYCEP_PINS"

status=0
echo "== files: JSON, connector definition (Swagger 2.0), apiProperties, azure.yaml, main.bicepparam"
"$VENV_ROOT/checkov/bin/python" scripts/check_infra.py files || status=1
echo "== bicep: parse (pycep 0.7), cross-file references, required properties"
"$VENV_ROOT/pycep/bin/python" scripts/check_infra.py bicep || status=1
echo "== checkov --framework bicep"
report="$VENV_ROOT/checkov-report.json"
"$VENV_ROOT/checkov/bin/python" scripts/check_infra.py checkov "$report" || status=1

if [[ $status -ne 0 ]]; then
    fail "see the FAIL lines above"
fi
echo "check-infra: all infrastructure checks passed (checkov report: $report)"
