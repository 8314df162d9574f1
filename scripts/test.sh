#!/usr/bin/env bash
# Runs every test: unit tests, and the end-to-end tests that drive the staged function
# app through a stand-in for the Functions host against a strict fake Anaplan.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --locked "$@"
