#!/usr/bin/env bash
# BigQuery emulator (goccy/bigquery-emulator) on loopback: start | stop | status.
# Builds v0.8.1 once per machine into a cache directory. `go install …@v0.8.1` fails here (the
# proxy refuses the version list), so the module is downloaded and built in a copy of its dir.
set -euo pipefail

VERSION=v0.8.1
MODULE=github.com/goccy/bigquery-emulator
CACHE="${METAXY_SERVICES_CACHE:-$HOME/.cache/metaxy}/bigquery"
BIN="$CACHE/bin/bigquery-emulator"
RUN="$CACHE/run"
PORT="${METAXY_BIGQUERY_PORT:-9050}"
GRPC_PORT="$((PORT + 10))"
PROJECT="${METAXY_BIGQUERY_EMULATOR_PROJECT:-metaxy-test}"
ENDPOINT="http://127.0.0.1:$PORT"

log() { echo "[bigquery] $*" >&2; }

healthy() {
  curl -fsS -m 2 "$ENDPOINT/bigquery/v2/projects/$PROJECT/datasets" >/dev/null 2>&1
}

build() {
  [ -x "$BIN" ] && return 0
  mkdir -p "$CACHE/bin"
  # One build per machine even when several callers start the service at once.
  exec 9>"$CACHE/build.lock"
  flock 9
  if [ ! -x "$BIN" ]; then
    log "building the BigQuery emulator $VERSION once (10-20 minutes cold on 2 cores)"
    local started=$SECONDS
    export GOPATH="$CACHE/gopath" GOCACHE="$CACHE/gocache" GOFLAGS=-modcacherw CGO_ENABLED=0
    {
      go mod download "$MODULE@$VERSION"
      rm -rf "$CACHE/src"
      cp -r "$GOPATH/pkg/mod/$MODULE@$VERSION" "$CACHE/src"
      chmod -R u+w "$CACHE/src"
      (cd "$CACHE/src" && go build -o "$BIN.tmp" ./cmd/bigquery-emulator)
      mv "$BIN.tmp" "$BIN"
    } >"$CACHE/build.log" 2>&1 || {
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
    log "already running on $ENDPOINT"
    return 0
  fi
  build
  mkdir -p "$RUN"
  # In-memory: every start is an empty emulator (the tests create their own datasets).
  setsid nohup "$BIN" --project="$PROJECT" --host=127.0.0.1 --port="$PORT" \
    --grpc-port="$GRPC_PORT" --log-level=warn >"$RUN/server.log" 2>&1 </dev/null &
  echo $! >"$RUN/server.pid"
  for _ in $(seq 1 120); do
    if healthy; then
      log "healthy on $ENDPOINT (pid $(cat "$RUN/server.pid"))"
      return 0
    fi
    if ! kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null; then
      log "emulator exited; $RUN/server.log:"
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
    echo "running on $ENDPOINT"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  restart) stop; start ;;
  *)
    echo "usage: $0 start|stop|status|restart" >&2
    exit 2
    ;;
esac
