#!/usr/bin/env bash
# Idempotent setup of the Python side of the resolve-update benchmark.
# Creates bench/python/.venv and installs Python Metaxy 0.1.11 (DuckDB extra) plus
# pyarrow, polars and numpy. A stamp file makes repeated runs a fast no-op.
#
# Versions are pinned: metaxy 0.1.11 leaves its deps unbounded, and the newest
# duckdb (2.x) and sqlglot (30.x) break ibis' DuckDB backend (CREATE TABLE / DROP VIEW
# emitted with an empty name). duckdb 1.4.3 is the version of the paper's reference run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/bench/python/.venv"
PY="${PYTHON:-python3}"
PACKAGES=(
  "metaxy[duckdb]==0.1.11"
  "duckdb==1.4.3"
  "sqlglot==28.10.1"
  "ibis-framework==12.0.0"
  "polars==2.1.0"
  "pyarrow==26.0.1"
  "numpy==2.4.6"
)
STAMP="$VENV/.bench-setup-stamp"
STAMP_CONTENT="${PACKAGES[*]}"

if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$STAMP_CONTENT" ]]; then
  echo "bench-python-setup: already set up ($VENV: $STAMP_CONTENT), nothing to do"
  exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "bench-python-setup: creating venv $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
else
  echo "bench-python-setup: reusing existing venv $VENV"
fi

echo "bench-python-setup: pip install ${PACKAGES[*]}"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PACKAGES[@]}"

"$VENV/bin/python" - <<'PYEOF'
import importlib.metadata as md
for name in ("metaxy", "duckdb", "sqlglot", "ibis-framework", "polars", "pyarrow", "numpy"):
    try:
        print(f"bench-python-setup: {name}=={md.version(name)}")
    except md.PackageNotFoundError:
        print(f"bench-python-setup: {name} not installed")
PYEOF

printf '%s' "$STAMP_CONTENT" > "$STAMP"
echo "bench-python-setup: done (stamp $STAMP)"
