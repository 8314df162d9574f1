#!/usr/bin/env bash
# Azurite (the local Blob storage emulator) for the tests.
#
#   scripts/azurite.sh start    start it on 127.0.0.1:10000 unless something answers there
#                               (installs it into .azurite/ with npm the first time)
#   scripts/azurite.sh stop     stop the Azurite this script started, and remove its data
#   scripts/azurite.sh status   exit 0 when 127.0.0.1:10000 answers
#
# Needs node and npm only; nothing is installed globally. `--skipApiVersionCheck` because the
# Rust SDK speaks a newer storage service version than Azurite may know; `--disableTelemetry`
# because a test run has no business sending anything to the internet. The version is
# pinned (AZURITE_VERSION) so every machine tests against the same Azurite; an older one
# already in .azurite/ is replaced.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=127.0.0.1
PORT=10000
DIR="$PWD/.azurite"
BIN="$DIR/node_modules/.bin/azurite-blob"
PIDFILE="$DIR/azurite.pid"
LOG="$DIR/azurite.log"
DATAFILE="$DIR/data-dir"
AZURITE_VERSION=3.37.0

answers() {
    # Any HTTP answer counts (Azurite says 400 or 403 to a bare GET); only "no answer" fails.
    curl -s -o /dev/null --max-time 2 "http://$HOST:$PORT/" 2>/dev/null
}

ours_running() {
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid="$(cat "$PIDFILE")"
    # The pid must still be an Azurite, not a process that reused the number.
    [[ -n "$pid" ]] && grep -qs azurite "/proc/$pid/cmdline"
}

installed_version() {
    node -p "require('$DIR/node_modules/azurite/package.json').version" 2>/dev/null || true
}

install() {
    if [[ -x "$BIN" && "$(installed_version)" == "$AZURITE_VERSION" ]]; then
        return
    fi
    command -v npm >/dev/null || { echo "azurite: npm is needed to install Azurite (node 18 or later)" >&2; exit 1; }
    echo "azurite: installing Azurite $AZURITE_VERSION into $DIR"
    mkdir -p "$DIR"
    npm install --prefix "$DIR" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >&2
}

start() {
    if answers; then
        echo "azurite: something already answers on $HOST:$PORT; using it"
        return
    fi
    install
    local data
    data="$(mktemp -d "${TMPDIR:-/tmp}/azurite.XXXXXX")"
    echo "$data" >"$DATAFILE"
    # setsid: its own process group, so a Ctrl-C in the test run does not reach it twice.
    setsid "$BIN" --blobHost "$HOST" --blobPort "$PORT" --location "$data" --silent --skipApiVersionCheck --disableTelemetry \
        >"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    for _ in $(seq 1 100); do
        if answers; then
            echo "azurite: started pid $(cat "$PIDFILE") on $HOST:$PORT, log $LOG, data $data"
            return
        fi
        if ! ours_running; then
            echo "azurite: exited at start; its log ($LOG):" >&2
            cat "$LOG" >&2
            rm -f "$PIDFILE"
            exit 1
        fi
        sleep 0.2
    done
    echo "azurite: did not answer on $HOST:$PORT within 20 s; log: $LOG" >&2
    stop
    exit 1
}

stop() {
    if ours_running; then
        local pid
        pid="$(cat "$PIDFILE")"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        echo "azurite: stopped pid $pid"
    fi
    rm -f "$PIDFILE"
    if [[ -f "$DATAFILE" ]]; then
        local data
        data="$(cat "$DATAFILE")"
        # Only ever the temporary folder this script made.
        if [[ "$(basename "$data")" == azurite.* && -d "$data" ]]; then
            rm -rf "$data"
        fi
        rm -f "$DATAFILE"
    fi
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) answers ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
