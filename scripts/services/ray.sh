#!/usr/bin/env bash
# Ray head on loopback with the Jobs API on 127.0.0.1:8265: start | stop | status.
# Installs a venv with ray[default] and pyarrow (+ pytest for the runner's tests) once per machine.
set -euo pipefail

RAY_VERSION=2.60.0
CACHE="${METAXY_SERVICES_CACHE:-$HOME/.cache/metaxy}/ray"
VENV="$CACHE/venv"
RUN="$CACHE/run"
PORT="${METAXY_RAY_DASHBOARD_PORT:-8265}"
API="http://127.0.0.1:$PORT"
CPUS="${METAXY_RAY_NUM_CPUS:-2}"

log() { echo "[ray] $*" >&2; }

installed() {
  [ -x "$VENV/bin/ray" ] && "$VENV/bin/python" -c "import ray, pyarrow, pytest; assert ray.__version__ == '$RAY_VERSION'" 2>/dev/null
}

healthy() {
  curl -sf -m 3 "$API/api/version" >/dev/null 2>&1 && curl -sf -m 3 "$API/api/jobs/" >/dev/null 2>&1
}

install() {
  installed && return 0
  mkdir -p "$CACHE"
  # One install per machine even when several callers start the service at once.
  exec 8>"$CACHE/install.lock"
  flock 8
  if ! installed; then
    log "installing ray[default]==$RAY_VERSION and pyarrow into $VENV (about 20 s, 700 MB)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "ray[default]==$RAY_VERSION" pyarrow pytest >"$CACHE/install.log" 2>&1 || {
      log "install failed; last lines of $CACHE/install.log:"
      tail -20 "$CACHE/install.log" >&2
      exit 1
    }
  fi
  flock -u 8
}

start() {
  if healthy; then
    log "already running ($API)"
    return 0
  fi
  install
  mkdir -p "$RUN"
  exec 7>"$CACHE/start.lock"
  flock 7
  if ! healthy; then
    log "starting the head on 127.0.0.1 ($CPUS CPUs, Jobs API $API)"
    # Without RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, Ray rewrites 127.0.0.1 to the eth0 address.
    # The venv leads PATH, so a job's `python` entrypoint is the venv's interpreter.
    PATH="$VENV/bin:$PATH" RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 "$VENV/bin/ray" start --head \
      --node-ip-address=127.0.0.1 --num-cpus="$CPUS" --num-gpus=0 --dashboard-host=127.0.0.1 \
      --dashboard-port="$PORT" --include-dashboard=true --disable-usage-stats \
      --object-store-memory=500000000 >"$RUN/start.log" 2>&1 </dev/null || {
      log "ray start failed; $RUN/start.log:"
      tail -20 "$RUN/start.log" >&2
      exit 1
    }
    for _ in $(seq 1 120); do
      if healthy; then
        log "healthy ($API)"
        flock -u 7
        return 0
      fi
      sleep 0.5
    done
    log "Jobs API not healthy after 60 s; $RUN/start.log:"
    tail -20 "$RUN/start.log" >&2
    exit 1
  fi
  flock -u 7
  log "already running ($API)"
}

stop() {
  if [ -x "$VENV/bin/ray" ]; then
    "$VENV/bin/ray" stop >/dev/null 2>&1 || true
  fi
  log "stopped"
}

status() {
  if healthy; then
    echo "running ($API)"
  else
    echo "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  # The venv's Python, for the runner's tests and tools.
  python) install && echo "$VENV/bin/python" ;;
  *)
    echo "usage: $0 start|stop|status|python" >&2
    exit 2
    ;;
esac
