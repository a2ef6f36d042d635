#!/usr/bin/env python3
"""Python Metaxy 0.1.11's DeltaMetadataStore on a store the TypeScript backend shares.

The graph is the one test/python-metaxy.test.ts defines: a root `interop/video` (fields
`audio`, `frames`) and `interop/caption` (field `text`) depending on it, code versions "1",
id column `sample_uid`; map layout (`enable_map_datatype=True`), md5.

  metaxy_peer.py resolve <root>           counts of resolve_update(caption) as JSON
  metaxy_peer.py write-root <root> <n>    writes n root rows (provenance a<i>, f<i>)
  metaxy_peer.py write-caption <root>     resolves caption and writes its new + stale rows
  metaxy_peer.py versions                 the feature versions Python computes

Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import warnings

warnings.filterwarnings("ignore")

import polars as pl  # noqa: E402

import metaxy as mx  # noqa: E402
from metaxy.config import MetaxyConfig  # noqa: E402
from metaxy.ext.polars.handlers.delta import DeltaMetadataStore  # noqa: E402
from metaxy.models.constants import METAXY_PROVENANCE_BY_FIELD  # noqa: E402
from metaxy.utils import collect_to_polars  # noqa: E402
from metaxy.versioning.types import HashAlgorithm  # noqa: E402

MetaxyConfig.set(MetaxyConfig(project="interop", enable_map_datatype=True, auto_create_tables=True))

graph = mx.FeatureGraph()
with graph.use():

    class Video(
        mx.BaseFeature,
        spec=mx.FeatureSpec(
            key="interop/video",
            fields=[mx.FieldSpec(key="audio", code_version="1"), mx.FieldSpec(key="frames", code_version="1")],
            id_columns=("sample_uid",),
        ),
    ):
        pass

    class Caption(
        mx.BaseFeature,
        spec=mx.FeatureSpec(
            key="interop/caption",
            deps=[Video],
            fields=[mx.FieldSpec(key="text", code_version="1")],
            id_columns=("sample_uid",),
        ),
    ):
        pass


def store(root: str) -> DeltaMetadataStore:
    return DeltaMetadataStore(root_path=root, hash_algorithm=HashAlgorithm.MD5)


def counts(inc) -> dict[str, int]:
    return {
        "new": collect_to_polars(inc.new).height,
        "stale": collect_to_polars(inc.stale).height,
        "orphaned": collect_to_polars(inc.orphaned).height,
    }


def main() -> dict:
    cmd = sys.argv[1]
    if cmd == "versions":
        with graph.use():
            return {"video": Video.feature_version(), "caption": Caption.feature_version()}
    root = sys.argv[2]
    with graph.use(), store(root).open("w") as s:
        if cmd == "resolve":
            return counts(s.resolve_update(Caption))
        if cmd == "write-root":
            n = int(sys.argv[3])
            df = pl.DataFrame({"sample_uid": list(range(n))}).with_columns(
                pl.struct(
                    ("a" + pl.col("sample_uid").cast(pl.Utf8)).alias("audio"),
                    ("f" + pl.col("sample_uid").cast(pl.Utf8)).alias("frames"),
                ).alias(METAXY_PROVENANCE_BY_FIELD)
            )
            s.write(Video, df)
            return {"written": n}
        if cmd == "write-caption":
            inc = s.resolve_update(Caption)
            done = counts(inc)
            for frame in (inc.new, inc.stale):
                df = collect_to_polars(frame)
                if df.height:
                    s.write(Caption, df)
            return done
    raise SystemExit(f"unknown command {cmd}")


if __name__ == "__main__":
    out = main()
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    # deltalake's runtime can abort while the interpreter tears down: leave once flushed.
    os._exit(0)
