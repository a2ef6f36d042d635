#!/usr/bin/env python3
"""Python Metaxy (0.1.11) resolve_update benchmark on the shared Parquet data.

Mirrors the paper benchmark (publications/2026-introducing-metaxy/test_benchmark.py in
anam-org/metaxy) as bench/BENCHMARK.md defines it, except that the hash is md5:

* per round a fresh on-disk DuckDB file in a new temp dir;
* seeding, untimed: write the root(s) (``metaxy_provenance_by_field`` structs built from the
  Parquet columns); for ``stale`` also resolve the leaf, write its ``new`` rows, then append
  the mutated root-0 frame;
* timed: construct + open the store, eager ``resolve_update(leaf)``, convert ``new`` (and for
  ``stale`` also ``stale``) to Polars, close the store.

md5: DuckDBMetadataStore 0.1.11 unconditionally appends the ``hashfuncs`` community extension
to ``store.extensions`` and installs/loads it on open (a download). It is only needed for the
xxhash functions, so the harness removes it from ``store.extensions`` after construction
(md5 uses DuckDB's built-in ``md5()``) and says so in its output.

Usage:
  run_python.py --graph simple|wide --n N --rounds R --phase new|stale \
                [--data bench/.data] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message="Global Metaxy configuration not initialized.*")
warnings.filterwarnings("ignore", message="AUTO_CREATE_TABLES is enabled.*")

import duckdb  # noqa: E402
import polars as pl  # noqa: E402

import metaxy as mx  # noqa: E402
from metaxy.config import MetaxyConfig  # noqa: E402
from metaxy.ext.duckdb import DuckDBMetadataStore  # noqa: E402
from metaxy.models.constants import METAXY_PROVENANCE_BY_FIELD  # noqa: E402
from metaxy.utils import collect_to_polars  # noqa: E402
from metaxy.versioning.types import HashAlgorithm  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_data  # noqa: E402

HASH = HashAlgorithm.MD5
SKIPPED_EXTENSION = "hashfuncs"

MetaxyConfig.set(MetaxyConfig(project="metaxy_paper_benchmark", auto_create_tables=True))


# --------------------------------------------------------------------------- graphs
# Same definitions as the paper's _graphs.py: every code_version "1", id column sample_uid.


class BenchGraph:
    def __init__(self, graph: mx.FeatureGraph, roots: list[type[mx.BaseFeature]], leaf: type[mx.BaseFeature]):
        self.graph, self.roots, self.leaf = graph, roots, leaf


def build_simple_graph() -> BenchGraph:
    graph = mx.FeatureGraph()
    with graph.use():

        class SimpleRoot(
            mx.BaseFeature,
            spec=mx.FeatureSpec(
                key="bench/simple_root",
                fields=[mx.FieldSpec(key="audio", code_version="1"), mx.FieldSpec(key="frames", code_version="1")],
                id_columns=("sample_uid",),
            ),
        ):
            pass

        class SimpleLeaf(
            mx.BaseFeature,
            spec=mx.FeatureSpec(
                key="bench/simple_leaf",
                deps=[SimpleRoot],
                fields=[mx.FieldSpec(key="prediction", code_version="1")],
                id_columns=("sample_uid",),
            ),
        ):
            pass

    return BenchGraph(graph, [SimpleRoot], SimpleLeaf)


def _make_wide_root(i: int) -> type[mx.BaseFeature]:
    class WideRoot(
        mx.BaseFeature,
        spec=mx.FeatureSpec(
            key=f"bench/wide_root_{i}",
            fields=[mx.FieldSpec(key=f, code_version="1") for f in gen_data.WIDE_FIELDS],
            id_columns=("sample_uid",),
        ),
    ):
        pass

    WideRoot.__name__ = f"WideRoot_{i}"
    return WideRoot


def build_wide_graph() -> BenchGraph:
    graph = mx.FeatureGraph()
    with graph.use():
        roots = [_make_wide_root(i) for i in range(gen_data.WIDE_FANIN)]

        class WideLeaf(
            mx.BaseFeature,
            spec=mx.FeatureSpec(
                key="bench/wide_leaf",
                deps=[mx.FeatureDep(feature=r) for r in roots],
                fields=[
                    mx.FieldSpec(key="prediction_a", code_version="1"),
                    mx.FieldSpec(key="prediction_b", code_version="1"),
                ],
                id_columns=("sample_uid",),
            ),
        ):
            pass

    return BenchGraph(graph, roots, WideLeaf)


# --------------------------------------------------------------------------- store


def open_store(db_path: Path) -> DuckDBMetadataStore:
    store = DuckDBMetadataStore(database=str(db_path), auto_create_tables=True, hash_algorithm=HASH)
    # 0.1.11 always appends ExtensionSpec("hashfuncs", repository="community") in __init__ and
    # installs+loads it in _open(); there is no option to turn that off. md5 does not need it.
    store.extensions = [e for e in store.extensions if e.name != SKIPPED_EXTENSION]
    return store


# --------------------------------------------------------------------------- data


def load_frames(data_dir: Path, graph: str) -> tuple[list[pl.DataFrame], pl.DataFrame, dict]:
    """Root frames (sample_uid + metaxy_provenance_by_field struct) and the mutated root 0."""
    meta = json.loads((data_dir / "meta.json").read_text())

    def to_prov(path: Path, fields: list[str]) -> pl.DataFrame:
        df = pl.read_parquet(path)
        return df.select(
            pl.col("sample_uid").cast(pl.UInt64),
            pl.struct([pl.col(f).cast(pl.Utf8) for f in fields]).alias(METAXY_PROVENANCE_BY_FIELD),
        )

    roots = [to_prov(data_dir / r["file"], r["fields"]) for r in meta["roots"]]
    mutated = to_prov(data_dir / meta["mutated_file"], meta["roots"][0]["fields"])
    return roots, mutated, meta


def changed_rows(root: pl.DataFrame, mutated: pl.DataFrame, k: int) -> pl.DataFrame:
    """The first k records whose mutated copy really differs (the mutation mask leaves some alone)."""
    orig = root.rename({METAXY_PROVENANCE_BY_FIELD: "__orig"})
    diff = mutated.join(orig, on="sample_uid").filter(pl.col(METAXY_PROVENANCE_BY_FIELD) != pl.col("__orig"))
    if diff.height < k:
        raise SystemExit(f"run_python: only {diff.height} mutated records, --changed {k} asks for more")
    return diff.head(k).drop("__orig")


def seed(
    db_path: Path,
    bench: BenchGraph,
    roots: list[pl.DataFrame],
    mutated: pl.DataFrame,
    phase: str,
    changed: int | None = None,
) -> None:
    with bench.graph.use(), open_store(db_path).open("w") as s:
        for feature, df in zip(bench.roots, roots, strict=True):
            s.write(feature, df)
        if phase == "stale":
            inc = s.resolve_update(bench.leaf)
            s.write(bench.leaf, collect_to_polars(inc.new))
            # Appended: root 0 now holds 2N rows (or N + changed with --changed).
            s.write(bench.roots[0], mutated if changed is None else changed_rows(roots[0], mutated, changed))


def timed_resolve(db_path: Path, bench: BenchGraph, phase: str) -> tuple[float, int, int]:
    t0 = time.perf_counter()
    with bench.graph.use(), open_store(db_path).open("w") as s:
        inc = s.resolve_update(bench.leaf)
        new = collect_to_polars(inc.new)
        if phase == "stale":
            stale = collect_to_polars(inc.stale)
            stale_count = stale.height
        else:
            stale_count = len(inc.stale)
    elapsed = time.perf_counter() - t0
    return elapsed * 1000.0, new.height, stale_count


# --------------------------------------------------------------------------- main


def iqr(xs: list[float]) -> float:
    if len(xs) < 2:
        return 0.0
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[2] - q[0]


def resolve_data_dir(data: Path, graph: str, n: int) -> Path:
    if (data / "meta.json").exists():
        return data
    d = data / f"{graph}_n{n}"
    if not (d / "meta.json").exists():
        print(f"run_python: {d} missing, generating it")
        gen_data.generate(graph, n, data)
    return d


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--graph", choices=["simple", "wide"], required=True)
    p.add_argument("--n", type=lambda s: int(s.replace("_", "")), required=True)
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--phase", choices=["new", "stale"], required=True)
    p.add_argument("--data", type=Path, default=gen_data.DEFAULT_OUT, help="base data dir (or the <graph>_n<N> dir)")
    p.add_argument("--json", type=Path, default=None, help="write the result JSON here")
    p.add_argument("--tmp", type=Path, default=None, help="parent dir for the per-round DuckDB temp dirs")
    p.add_argument(
        "--changed",
        type=int,
        default=None,
        help="stale phase: append only the first K mutated root-0 records (the incremental benchmark's scenario)",
    )
    args = p.parse_args(argv)

    data_dir = resolve_data_dir(args.data, args.graph, args.n)
    bench = build_simple_graph() if args.graph == "simple" else build_wide_graph()
    roots, mutated, meta = load_frames(data_dir, args.graph)
    assert meta["n"] == args.n and meta["graph"] == args.graph, (meta["graph"], meta["n"])

    print(
        f"run_python: metaxy {mx.__version__}, duckdb {duckdb.__version__}, polars {pl.__version__}; "
        f"hash_algorithm=md5 (DuckDBMetadataStore(hash_algorithm=HashAlgorithm.MD5)); "
        f"skipping the '{SKIPPED_EXTENSION}' community extension load (removed from store.extensions; "
        f"it cannot be downloaded here and md5 uses DuckDB's built-in md5())"
    )

    rounds_ms: list[float] = []
    new_count = stale_count = -1
    for r in range(args.rounds):
        tmpdir = Path(tempfile.mkdtemp(prefix="metaxy_bench_py_", dir=args.tmp))
        try:
            db_path = tmpdir / "bench.duckdb"
            seed(db_path, bench, roots, mutated, args.phase, args.changed)
            gc.collect()
            ms, nc, sc = timed_resolve(db_path, bench, args.phase)
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        if r > 0 and (nc, sc) != (new_count, stale_count):
            raise AssertionError(f"round {r}: counts changed {(new_count, stale_count)} -> {(nc, sc)}")
        new_count, stale_count = nc, sc
        rounds_ms.append(round(ms, 3))
        print(f"run_python: round {r + 1}/{args.rounds}: {ms:.1f} ms (new={nc}, stale={sc})", flush=True)

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
    result = {
        "graph": args.graph,
        "n": args.n,
        "phase": args.phase,
        "rounds_ms": rounds_ms,
        "median_ms": round(statistics.median(rounds_ms), 3),
        "iqr_ms": round(iqr(rounds_ms), 3),
        "peak_rss_mb": round(peak_rss_mb, 1),
        "new_count": new_count,
        "stale_count": stale_count,
        "metaxy_version": mx.__version__,
        "duckdb_version": duckdb.__version__,
        "hash_algorithm": "md5",
        "skipped_extension": SKIPPED_EXTENSION,
        "mutated_count": meta["mutated_count"],
    }
    print(
        f"python-metaxy {args.graph} n={args.n} phase={args.phase}: median {result['median_ms']:.1f} ms, "
        f"IQR {result['iqr_ms']:.1f} ms over {args.rounds} rounds, peak RSS {result['peak_rss_mb']:.0f} MB, "
        f"new={new_count} stale={stale_count} (metaxy {mx.__version__}, md5, hashfuncs load skipped)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
