"""Entry point of a Metaxy Ray job: one batch in, one result file out.

    python runner.py --module video_models --function transcribe \
        --input /shared/job/batch.parquet --output /shared/job/result.parquet \
        --num-gpus 1 --num-cpus 1 --rows-per-task 16

The user's function takes a list of row dicts (the increment rows of the batch: id columns,
upstream columns, provenance) and returns one dict per row with the feature's columns (id
columns included), in any order. Each slice of `--rows-per-task` rows runs as one Ray task with
`num_gpus` / `num_cpus`, so Ray places it on a node that has them. The result is written to a
temporary file and renamed: a reader never sees half a file. Needs only `ray` and `pyarrow`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
from typing import Any, Callable, Iterable

import pyarrow as pa
import pyarrow.parquet as pq

RowFn = Callable[[list[dict[str, Any]]], Iterable[dict[str, Any]]]


def load_function(module: str, function: str) -> RowFn:
    """`module.function`, imported from the job's working_dir / py_modules / PYTHONPATH."""
    mod = importlib.import_module(module)
    fn = getattr(mod, function, None)
    if not callable(fn):
        raise AttributeError(f"{module} has no function {function!r}")
    return fn


def split(table: pa.Table, rows_per_task: int) -> list[pa.Table]:
    """Consecutive slices of at most `rows_per_task` rows (zero-copy)."""
    if rows_per_task < 1:
        raise ValueError("rows_per_task must be at least 1")
    return [table.slice(start, rows_per_task) for start in range(0, table.num_rows, rows_per_task)]


def compute_slice(module: str, function: str, rows: pa.Table) -> pa.Table:
    """Runs the user's function on one slice; what a Ray task executes."""
    fn = load_function(module, function)
    out = list(fn(rows.to_pylist()))
    if not all(isinstance(r, dict) for r in out):
        raise TypeError(f"{module}.{function} must return dicts, one per row")
    return pa.Table.from_pylist(out)


def run_batch(
    table: pa.Table,
    run_slice: Callable[[pa.Table], Any],
    gather: Callable[[list[Any]], list[pa.Table]],
    rows_per_task: int,
) -> pa.Table:
    """Fans the slices out with `run_slice`, gathers them, and concatenates the results."""
    pending = [run_slice(part) for part in split(table, rows_per_task)]
    parts = [p for p in gather(pending) if p.num_rows > 0]
    if not parts:
        return pa.table({})
    return pa.concat_tables(parts, promote_options="permissive")


def write_atomically(table: pa.Table, path: str) -> None:
    tmp = f"{path}.tmp-{os.getpid()}"
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--module", required=True)
    p.add_argument("--function", required=True)
    p.add_argument("--input", required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--num-gpus", type=float, default=0)
    p.add_argument("--num-cpus", type=float, default=1)
    p.add_argument("--rows-per-task", type=int, default=64)
    p.add_argument("--local", action="store_true", help="run in this process, without Ray")
    args = p.parse_args(argv)

    started = time.monotonic()
    table = pq.read_table(args.input)
    if args.local:
        result = run_batch(
            table, lambda part: compute_slice(args.module, args.function, part), lambda xs: xs, args.rows_per_task
        )
        tasks = len(split(table, args.rows_per_task))
    else:
        import ray

        ray.init(log_to_driver=True)
        task = ray.remote(num_gpus=args.num_gpus, num_cpus=args.num_cpus, max_retries=0)(compute_slice)
        result = run_batch(
            table,
            lambda part: task.remote(args.module, args.function, part),
            ray.get,
            args.rows_per_task,
        )
        tasks = len(split(table, args.rows_per_task))
    write_atomically(result, args.output)
    summary = {
        "rows_in": table.num_rows,
        "rows_out": result.num_rows,
        "tasks": tasks,
        "num_gpus": args.num_gpus,
        "num_cpus": args.num_cpus,
        "seconds": round(time.monotonic() - started, 3),
    }
    print(f"METAXY_RAY_SUMMARY {json.dumps(summary)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
