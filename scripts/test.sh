#!/usr/bin/env bash
# Runs every test: unit tests, the end-to-end tests that drive the staged function app
# through a stand-in for the Functions host against a strict fake Anaplan, and the storage
# tests against a real Azurite, which is started here (and stopped afterwards) unless one
# is already running.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! scripts/azurite.sh status; then
    scripts/azurite.sh start
    trap 'scripts/azurite.sh stop' EXIT
fi
cargo test --locked "$@"
