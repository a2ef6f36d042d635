#!/usr/bin/env python3
"""Check the generated benchmark Parquet data.

1. Against ``paper-benchmark-vectors.json`` (its ``data`` section: sample rows' root
   provenance per field, the mutated rows and ``mutated_count``) for every (graph, N)
   present there.
2. Every value, for those N (and any extra ``--full-n``), against a plain CPython
   ``random.Random`` loop written exactly like the paper benchmark's ``make_upstream_df`` /
   ``_mutate_fraction`` — so the numpy replay in gen_data.py is proven bit-exact.

Generates missing data first (via gen_data.generate). Exits non-zero on any mismatch.

Usage: check_vectors.py [--vectors PATH] [--data bench/.data] [--full-n 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_data  # noqa: E402

DEFAULT_VECTORS = Path("/work/shared/bench/paper-benchmark-vectors.json")


def reference_root(n: int, seed: int, fields: tuple[str, ...]) -> dict[str, list[str]]:
    """Paper benchmark's make_upstream_df, values only."""
    rng = random.Random(seed)
    return {f: [f"{f[0]}{rng.randint(0, 2**20)}" for _ in range(n)] for f in fields}


def reference_mutated_audio(audio: list[str]) -> tuple[list[str], int]:
    """Paper benchmark's _mutate_fraction(fraction=0.1, seed=777), audio only."""
    rng = random.Random(777)
    out = list(audio)
    count = 0
    for i in range(len(out)):
        if rng.random() < 0.1:
            out[i] = out[i] + "_bumped"
            count += 1
    return out, count


def load(path: Path) -> dict[str, list]:
    return pq.read_table(path).to_pydict()


def check_schema(path: Path, fields: tuple[str, ...]) -> None:
    schema = pq.read_schema(path)
    assert schema.names == ["sample_uid", *fields], (path, schema.names)
    assert str(schema.field("sample_uid").type) == "uint64", (path, schema)
    for f in fields:
        assert str(schema.field(f).type) == "string", (path, schema)


def check_full(graph: str, n: int, data: Path) -> int:
    d = gen_data.generate(graph, n, data)
    roots = gen_data.graph_roots(graph)
    mutated_count = None
    for i, (stem, fields) in enumerate(roots):
        check_schema(d / f"{stem}.parquet", fields)
        got = load(d / f"{stem}.parquet")
        assert got["sample_uid"] == list(range(n)), f"{stem}: sample_uid is not 0..N-1"
        ref = reference_root(n, 42 + i, fields)
        for f in fields:
            assert got[f] == ref[f], f"{graph} n={n} {stem}.{f}: differs from CPython random.Random({42 + i})"
        if i == 0:
            check_schema(d / f"{stem}_mutated.parquet", fields)
            mut = load(d / f"{stem}_mutated.parquet")
            assert mut["sample_uid"] == list(range(n))
            ref_audio, mutated_count = reference_mutated_audio(ref["audio"])
            assert mut["audio"] == ref_audio, f"{graph} n={n}: mutated audio differs"
            for f in fields:
                if f != "audio":
                    assert mut[f] == ref[f], f"{graph} n={n}: mutated {f} should be unchanged"
    meta = json.loads((d / "meta.json").read_text())
    assert meta["mutated_count"] == mutated_count, (meta["mutated_count"], mutated_count)
    print(f"check_vectors: {graph} n={n}: all values equal CPython reference (mutated_count={mutated_count})")
    return mutated_count


def check_vectors_file(vectors: dict, data: Path) -> list[tuple[str, int]]:
    checked = []
    for key, vec in vectors["data"].items():
        graph, n_str = key.split("_n")
        n = int(n_str)
        d = gen_data.generate(graph, n, data)
        roots = gen_data.graph_roots(graph)
        tables = {stem: load(d / f"{stem}.parquet") for stem, _ in roots}
        mutated = load(d / f"{roots[0][0]}_mutated.parquet")
        meta = json.loads((d / "meta.json").read_text())
        if "mutated_count" in vec:
            assert meta["mutated_count"] == vec["mutated_count"], (key, meta["mutated_count"], vec["mutated_count"])
            assert sum(a.endswith("_bumped") for a in mutated["audio"]) == vec["mutated_count"], key
        nrows = 0
        for row in vec["rows"]:
            uid = row["sample_uid"]
            if graph == "simple":
                stem, fields = roots[0]
                t = tables[stem]
                assert t["sample_uid"][uid] == uid
                for f in fields:
                    assert t[f][uid] == row["root_prov_by_field"][f], (key, uid, f, t[f][uid], row["root_prov_by_field"][f])
                    want = row["mutated_root_prov_by_field"][f]
                    assert mutated[f][uid] == want, (key, uid, f, mutated[f][uid], want)
            else:
                for i, (stem, fields) in enumerate(roots):
                    t = tables[stem]
                    assert t["sample_uid"][uid] == uid
                    for f in fields:
                        want = row[f"root{i}"][f]
                        assert t[f][uid] == want, (key, uid, stem, f, t[f][uid], want)
            nrows += 1
        print(f"check_vectors: {key}: {nrows} vector rows match" + (f", mutated_count={vec['mutated_count']} matches" if "mutated_count" in vec else ""))
        checked.append((graph, n))
    return checked


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vectors", type=Path, default=DEFAULT_VECTORS)
    p.add_argument("--data", type=Path, default=gen_data.DEFAULT_OUT)
    p.add_argument("--full-n", default="", help="extra sizes to cross-check fully against CPython, e.g. 100000")
    args = p.parse_args(argv)
    vectors = json.loads(args.vectors.read_text())
    checked = check_vectors_file(vectors, args.data)
    full = set(checked)
    for n in gen_data.parse_ns(args.full_n):
        full |= {("simple", n), ("wide", n)}
    for graph, n in sorted(full):
        check_full(graph, n, args.data)
    print("check_vectors: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
