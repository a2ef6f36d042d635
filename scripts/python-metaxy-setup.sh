#!/usr/bin/env bash
# Idempotent setup of Python Metaxy 0.1.11 as a test peer (packages/python-interop).
# Creates ${METAXY_SERVICES_CACHE:-$HOME/.cache/metaxy}/python-metaxy-interop and installs the
# pinned packages below; a stamp file makes repeated runs a fast no-op. A lock file keeps two
# concurrent runs from installing into one venv at once. Exits non-zero when anything fails.
#
# Pins: metaxy 0.1.11 leaves its deps unbounded; newer duckdb or sqlglot break its ibis layer,
# and pydantic decides the JSON schema that enters every feature_definition_version.
set -euo pipefail

CACHE="${METAXY_SERVICES_CACHE:-$HOME/.cache/metaxy}"
VENV="$CACHE/python-metaxy-interop"
PY="${PYTHON:-python3}"
PACKAGES=(
  "metaxy[duckdb,map]==0.1.11"
  "duckdb==1.5.6"
  "sqlglot==28.10.1"
  "ibis-framework==12.0.0"
  "pydantic==2.14.4"
  "polars==1.44.2"
  "polars-hash==0.9.3"
  "pyarrow==26.0.1"
)
STAMP="$VENV/.python-metaxy-setup-stamp"
STAMP_CONTENT="${PACKAGES[*]}"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_CONTENT" ]]; then
  echo "python-metaxy-setup: already set up ($VENV), nothing to do"
  exit 0
fi

mkdir -p "$CACHE"
exec 9>"$CACHE/python-metaxy-interop.lock"
flock 9
# Another run may have finished while this one waited for the lock.
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_CONTENT" ]]; then
  echo "python-metaxy-setup: already set up ($VENV), nothing to do"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "python-metaxy-setup: creating venv $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi
rm -f "$STAMP"
echo "python-metaxy-setup: pip install ${PACKAGES[*]}"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"
"$VENV/bin/python" -c "import metaxy, metaxy.ext.duckdb, polars_hash, duckdb; print('python-metaxy-setup: metaxy', metaxy.__version__ if hasattr(metaxy, '__version__') else '?', 'duckdb', duckdb.__version__)"
printf '%s' "$STAMP_CONTENT" > "$STAMP"
echo "python-metaxy-setup: done (stamp $STAMP)"
