#!/usr/bin/env python3
"""Generate the resolve-update benchmark data once per (graph, N) as Parquet.

The values are exactly those of Python Metaxy's paper benchmark
(publications/2026-introducing-metaxy/test_benchmark.py):

* root ``i`` uses ``random.Random(42 + i)``; for each field in definition order, all N
  values ``f"{field[0]}{rng.randint(0, 2**20)}"`` are drawn before the next field;
* the stale-phase mutation uses ``random.Random(777)``: for each row of root 0,
  ``if rng.random() < 0.1: audio += "_bumped"``.

To be fast at N = 10M the CPython Mersenne Twister stream is replayed with numpy's MT19937
(seeded with the exact state of ``random.Random(seed)``), and ``randint``/``random`` are
re-implemented on the raw 32-bit words exactly as CPython does them:

* ``randint(0, 2**20)`` = ``_randbelow(2**20 + 1)``: ``r = getrandbits(21)`` (one word ``>> 11``),
  rejected while ``r > 2**20``;
* ``random()`` = ``((w1 >> 5) * 2**26 + (w2 >> 6)) / 2**53`` (two words).

``check_vectors.py`` cross-checks the output against a plain ``random.Random`` loop and
against ``paper-benchmark-vectors.json``.

Layout: ``<out>/<graph>_n<N>/`` holding

* simple: ``simple_root.parquet``, ``simple_root_mutated.parquet``
* wide:   ``wide_root_0.parquet``, ``wide_root_1.parquet``, ``wide_root_0_mutated.parquet``
* ``meta.json`` (N, files, columns, mutated_count), written last: its presence means done.

Columns: ``sample_uid`` uint64 (0..N-1, ascending), then one utf8 string column per field
holding that field's root provenance (e.g. ``audio = "a233478"``).

Usage: gen_data.py --graph simple|wide|all --n 10000[,100000,...] [--out bench/.data]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO_ROOT / "bench" / ".data"

SIMPLE_FIELDS = ("audio", "frames")
WIDE_FIELDS = ("audio", "frames", "optical_flow", "embedding")
WIDE_FANIN = 2
ROOT_SEED_BASE = 42
MUTATION_SEED = 777
MUTATION_FRACTION = 0.1
MUTATED_FIELD = "audio"
MUTATION_SUFFIX = "_bumped"
RANDINT_HI = 2**20  # randint(0, 2**20) inclusive
ROW_GROUP = 1_000_000
WORD_CHUNK = 1 << 22  # raw MT words generated per numpy call


def graph_roots(graph: str) -> list[tuple[str, tuple[str, ...]]]:
    """(file stem, fields) for each root, in root-index order."""
    if graph == "simple":
        return [("simple_root", SIMPLE_FIELDS)]
    if graph == "wide":
        return [(f"wide_root_{i}", WIDE_FIELDS) for i in range(WIDE_FANIN)]
    raise ValueError(f"unknown graph {graph!r}")


def expected_files(graph: str) -> list[str]:
    roots = graph_roots(graph)
    return [f"{stem}.parquet" for stem, _ in roots] + [f"{roots[0][0]}_mutated.parquet"]


class CPythonMT:
    """The raw 32-bit word stream of ``random.Random(seed)``, replayed with numpy."""

    def __init__(self, seed: int) -> None:
        state = random.Random(seed).getstate()[1]
        self._bg = np.random.MT19937()
        self._bg.state = {
            "bit_generator": "MT19937",
            "state": {"key": np.array(state[:624], dtype=np.uint32), "pos": int(state[624])},
        }
        self._pending = np.empty(0, dtype=np.uint64)

    def _take_raw(self, k: int) -> np.ndarray:
        if len(self._pending) >= k:
            out, self._pending = self._pending[:k], self._pending[k:]
            return out
        extra = self._bg.random_raw(k - len(self._pending))
        out = np.concatenate([self._pending, extra])
        self._pending = np.empty(0, dtype=np.uint64)
        return out

    def _push_back(self, words: np.ndarray) -> None:
        self._pending = np.concatenate([words, self._pending])

    def randint_0_2p20(self, n: int) -> np.ndarray:
        """n successive ``rng.randint(0, 2**20)`` values as uint32."""
        out = np.empty(n, dtype=np.uint32)
        have = 0
        while have < n:
            need = n - have
            words = self._take_raw(min(WORD_CHUNK, max(1024, int(need * 2.05) + 64)))
            cand = words >> np.uint64(11)  # getrandbits(21)
            accepted_idx = np.flatnonzero(cand <= RANDINT_HI)
            if len(accepted_idx) > need:
                last = accepted_idx[need - 1]
                self._push_back(words[last + 1 :])
                accepted_idx = accepted_idx[:need]
            out[have : have + len(accepted_idx)] = cand[accepted_idx]
            have += len(accepted_idx)
        return out

    def random_lt(self, n: int, threshold: float) -> np.ndarray:
        """Boolean mask of n successive ``rng.random() < threshold``."""
        out = np.empty(n, dtype=bool)
        done = 0
        while done < n:
            k = min(WORD_CHUNK // 2, n - done)
            w = self._take_raw(2 * k)
            a = (w[0::2] >> np.uint64(5)).astype(np.float64)
            b = (w[1::2] >> np.uint64(6)).astype(np.float64)
            out[done : done + k] = (a * 67108864.0 + b) * (1.0 / 9007199254740992.0) < threshold
            done += k
        return out


def root_ints(root_index: int, fields: tuple[str, ...], n: int) -> dict[str, np.ndarray]:
    mt = CPythonMT(ROOT_SEED_BASE + root_index)
    return {f: mt.randint_0_2p20(n) for f in fields}


def mutation_mask(n: int) -> np.ndarray:
    return CPythonMT(MUTATION_SEED).random_lt(n, MUTATION_FRACTION)


def _prefixed(prefix: str, ints: np.ndarray) -> pa.Array:
    return pc.binary_join_element_wise(pa.scalar(prefix), pc.cast(pa.array(ints), pa.string()), "")


def schema_for(fields: tuple[str, ...]) -> pa.Schema:
    return pa.schema([pa.field("sample_uid", pa.uint64(), nullable=False)] + [pa.field(f, pa.string()) for f in fields])


def write_root(
    path: Path,
    fields: tuple[str, ...],
    ints: dict[str, np.ndarray],
    n: int,
    mask: np.ndarray | None = None,
) -> None:
    schema = schema_for(fields)
    tmp = path.with_name(path.name + ".tmp")
    with pq.ParquetWriter(tmp, schema, compression="snappy") as writer:
        for start in range(0, n, ROW_GROUP):
            stop = min(n, start + ROW_GROUP)
            cols: list[pa.Array] = [pa.array(np.arange(start, stop, dtype=np.uint64))]
            for f in fields:
                col = _prefixed(f[0], ints[f][start:stop])
                if mask is not None and f == MUTATED_FIELD:
                    bumped = pc.binary_join_element_wise(col, pa.scalar(MUTATION_SUFFIX), "")
                    col = pc.if_else(pa.array(mask[start:stop]), bumped, col)
                cols.append(col)
            writer.write_table(pa.Table.from_arrays(cols, schema=schema), row_group_size=ROW_GROUP)
    os.replace(tmp, path)


def generate(graph: str, n: int, out: Path, force: bool = False) -> Path:
    d = out / f"{graph}_n{n}"
    meta_path = d / "meta.json"
    files = expected_files(graph)
    if not force and meta_path.exists() and all((d / f).exists() for f in files):
        meta = json.loads(meta_path.read_text())
        print(f"gen_data: {d} already present (mutated_count={meta['mutated_count']}), skipping")
        return d
    d.mkdir(parents=True, exist_ok=True)
    meta_path.unlink(missing_ok=True)
    t0 = time.perf_counter()
    mask = mutation_mask(n)
    roots = graph_roots(graph)
    for i, (stem, fields) in enumerate(roots):
        ints = root_ints(i, fields, n)
        write_root(d / f"{stem}.parquet", fields, ints, n)
        if i == 0:
            write_root(d / f"{stem}_mutated.parquet", fields, ints, n, mask=mask)
        del ints
    meta = {
        "graph": graph,
        "n": n,
        "files": files,
        "roots": [{"file": f"{stem}.parquet", "fields": list(fields), "seed": ROOT_SEED_BASE + i} for i, (stem, fields) in enumerate(roots)],
        "mutated_file": f"{roots[0][0]}_mutated.parquet",
        "mutated_field": MUTATED_FIELD,
        "mutation_seed": MUTATION_SEED,
        "mutation_fraction": MUTATION_FRACTION,
        "mutated_count": int(mask.sum()),
        "columns": {"sample_uid": "uint64", **{f: "string" for f in roots[0][1]}},
    }
    meta_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"gen_data: wrote {d} ({', '.join(files)}) mutated_count={meta['mutated_count']} in {time.perf_counter() - t0:.1f}s")
    return d


def parse_ns(s: str) -> list[int]:
    return [int(x.replace("_", "")) for x in s.split(",") if x.strip()]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--graph", choices=["simple", "wide", "all"], default="all")
    p.add_argument("--n", default="10000", help="comma-separated sizes, e.g. 10000,100000")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    p.add_argument("--force", action="store_true", help="regenerate even if present")
    args = p.parse_args(argv)
    graphs = ["simple", "wide"] if args.graph == "all" else [args.graph]
    for n in parse_ns(args.n):
        for g in graphs:
            generate(g, n, args.out, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
