#!/usr/bin/env bash
# Temporal dev server on loopback: start | stop | status.
# Builds the Temporal CLI (server 1.29.1 inside) once per machine into a cache directory; v1.5.1 is
# the newest tag that builds from the Go module proxy (newer ones miss a nested module).
set -euo pipefail

VERSION=v1.5.1
CACHE="${METAXY_SERVICES_CACHE:-$HOME/.cache/metaxy}/temporal"
BIN="$CACHE/bin/temporal"
RUN="$CACHE/run"
PORT="${METAXY_TEMPORAL_PORT:-7233}"
ADDRESS="127.0.0.1:$PORT"

log() { echo "[temporal] $*" >&2; }

healthy() {
  [ -x "$BIN" ] && "$BIN" operator cluster health --address "$ADDRESS" >/dev/null 2>&1
}

build() {
  [ -x "$BIN" ] && return 0
  mkdir -p "$CACHE/bin"
  # One build per machine even when several callers start the service at once.
  exec 9>"$CACHE/build.lock"
  flock 9
  if [ ! -x "$BIN" ]; then
    log "building the Temporal CLI $VERSION once (5-20 minutes cold on 2 cores)"
    local started=$SECONDS
    GOPATH="$CACHE/gopath" GOCACHE="$CACHE/gocache" GOBIN="$CACHE/bin" GOFLAGS=-modcacherw \
      go install "github.com/temporalio/cli/cmd/temporal@$VERSION" >"$CACHE/build.log" 2>&1 || {
      log "build failed; last lines of $CACHE/build.log:"
      tail -20 "$CACHE/build.log" >&2
      exit 1
    }
    log "built in $((SECONDS - started)) s"
  fi
  flock -u 9
}

start() {
  if healthy; then
    log "already running on $ADDRESS"
    return 0
  fi
  build
  mkdir -p "$RUN"
  # Fixed side ports: without them the dev server opens more listeners on random ports.
  setsid nohup "$BIN" server start-dev --headless --ip 127.0.0.1 --port "$PORT" \
    --http-port "$((PORT + 10))" --metrics-port "$((PORT + 11))" --ui-port "$((PORT + 1000))" \
    --log-level warn >"$RUN/server.log" 2>&1 </dev/null &
  echo $! >"$RUN/server.pid"
  for _ in $(seq 1 120); do
    if healthy; then
      log "healthy on $ADDRESS (pid $(cat "$RUN/server.pid"))"
      return 0
    fi
    if ! kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null; then
      log "server exited; $RUN/server.log:"
      tail -20 "$RUN/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  log "not healthy after 60 s; $RUN/server.log:"
  tail -20 "$RUN/server.log" >&2
  exit 1
}

stop() {
  if [ -f "$RUN/server.pid" ]; then
    local pid
    pid=$(cat "$RUN/server.pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$RUN/server.pid"
  fi
  log "stopped"
}

status() {
  if healthy; then
    echo "running on $ADDRESS"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
