#!/usr/bin/env python3
"""Drives Python Metaxy 0.1.11 on a shared DuckDB store for the interop tests.

Reads one JSON program on stdin and prints one JSON document (a result per op) on stdout:

    {"db": "/tmp/x.duckdb", "hash": "xxhash32", "layout": "map", "transcript_version": "1", "ops": [...]}

ops: write_root {rows}, resolve {feature}, materialize {feature}, soft_delete {feature, ids},
push {}, definitions {}, snapshot_rows {}.

The store is Python's DuckDB store in the map layout (MetaxyConfig(enable_map_datatype=True)) or
its default struct layout, with the Polars versioning engine; the `hashfuncs` extension it installs on open (a download)
is dropped, so xxhash runs in Polars.
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")

import narwhals as nw  # noqa: E402
import polars as pl  # noqa: E402

import metaxy as mx  # noqa: E402
from metaxy.config import MetaxyConfig  # noqa: E402
from metaxy.ext.duckdb import DuckDBMetadataStore  # noqa: E402
from metaxy.metadata_store.system.storage import SystemTableStorage  # noqa: E402
from metaxy.models.feature_definition import FeatureDefinition  # noqa: E402
from metaxy.utils import collect_to_polars  # noqa: E402
from metaxy.versioning.types import HashAlgorithm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from interop_graph import build_graph, build_zoo  # noqa: E402

PROJECT = "interop"


class OfflineDuckDBStore(DuckDBMetadataStore):
    """Python's DuckDB store without the `hashfuncs` community extension (installed on open)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extensions = [e for e in self.extensions if e.name != "hashfuncs"]

    def _validate_hash_algorithm_support(self) -> None:
        # Without `hashfuncs` DuckDB's SQL has only md5; the Polars engine hashes everything else.
        if self._versioning_engine != "polars":
            super()._validate_hash_algorithm_support()


def open_store(db: str, hash_name: str | None) -> DuckDBMetadataStore:
    """`hash_name` None: the store's own default (xxhash32 for DuckDB)."""
    hash_kwargs = {} if hash_name is None else {"hash_algorithm": HashAlgorithm(hash_name)}
    return OfflineDuckDBStore(database=db, versioning_engine="polars", auto_create_tables=True, **hash_kwargs)


def ids_of(frame: Any, id_columns: tuple[str, ...]) -> list[str]:
    df = collect_to_polars(frame)
    if df.height == 0:
        return []
    # A set: Python's N:1 increments carry one row per upstream row, ours one per downstream id.
    return sorted({"|".join(str(v) for v in row) for row in df.select(list(id_columns)).iter_rows()})


def materialized(key: str, cls: type[mx.BaseFeature], df: pl.DataFrame) -> pl.DataFrame:
    """Increment rows as the computation writes them: the feature's own columns, upstream ones dropped."""
    if key == "interop/clip":
        df = df.with_columns(pl.lit("text").alias("text"))
    return df.select([c for c in df.columns if c in cls.model_fields])


def run(program: dict[str, Any]) -> list[Any]:
    # "map": MAP(VARCHAR, VARCHAR) *_by_field columns; "struct": Python's default, one STRUCT each.
    layout = program.get("layout", "map")
    MetaxyConfig.set(MetaxyConfig(project=PROJECT, enable_map_datatype=layout == "map", auto_create_tables=True))
    graph, features = build_graph(program.get("transcript_version", "1"))
    out: list[Any] = []
    with graph.use(), open_store(program["db"], program.get("hash")).open("w") as store:
        for op in program["ops"]:
            kind = op["op"]
            if kind == "write_root":
                rows = op["rows"]
                df = pl.DataFrame(
                    {
                        "sample_uid": [r["sample_uid"] for r in rows],
                        "scene_id": [r["scene_id"] for r in rows],
                        "duration": [float(r["duration"]) for r in rows],
                        "n_frames": [int(r["n_frames"]) for r in rows],
                        "is_hd": [bool(r["is_hd"]) for r in rows],
                        "metaxy_provenance_by_field": [{"audio": r["audio"], "frames": r["frames"]} for r in rows],
                    }
                )
                store.write(features["interop/video"], df)
                out.append({"written": df.height})
            elif kind == "resolve":
                feature = features[op["feature"]]
                inc = store.resolve_update(feature)
                id_columns = feature.spec().id_columns
                out.append({k: ids_of(getattr(inc, k), id_columns) for k in ("new", "stale", "orphaned")})
            elif kind == "materialize":
                key = op["feature"]
                inc = store.resolve_update(features[key])
                written = 0
                for frame in (inc.new, inc.stale):
                    df = collect_to_polars(frame)
                    if df.height:
                        store.write(features[key], materialized(key, features[key], df))
                        written += df.height
                out.append({"written": written})
            elif kind == "soft_delete":
                feature = features[op["feature"]]
                id_column = feature.spec().id_columns[0]
                store.delete(feature, nw.col(id_column).is_in(op["ids"]), soft=True)
                out.append({"deleted": len(op["ids"])})
            elif kind == "push":
                result = SystemTableStorage(store).push_graph_snapshot(project=PROJECT)
                out.append(
                    {
                        "project_version": result.project_version,
                        "already_pushed": result.already_pushed,
                        "updated_features": list(result.updated_features),
                    }
                )
            elif kind == "definitions":
                defs = {}
                for key, cls in features.items():
                    d = FeatureDefinition.from_feature_class(cls)
                    defs[key] = {
                        "feature_version": graph.get_feature_version(cls.spec().key),
                        "spec_version": d.spec.feature_spec_version,
                        "definition_version": d.feature_definition_version,
                        "feature_class_path": d.feature_class_path,
                        "feature_schema": d.feature_schema,
                    }
                zoo = FeatureDefinition.from_feature_class(build_zoo())
                out.append(
                    {
                        "project_version": graph.get_project_version(PROJECT),
                        "features": defs,
                        "zoo": {"feature_schema": zoo.feature_schema, "definition_version": zoo.feature_definition_version},
                    }
                )
            else:
                raise ValueError(f"unknown op {kind!r}")
    return out


def main() -> None:
    program = json.load(sys.stdin)
    print(json.dumps(run(program), default=str))


if __name__ == "__main__":
    main()
