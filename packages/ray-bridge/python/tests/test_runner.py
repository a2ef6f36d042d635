import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from metaxy_ray import runner

HERE = os.path.dirname(__file__)
RUNNER = os.path.join(os.path.dirname(HERE), "metaxy_ray", "runner.py")


def table(n):
    return pa.table({"id": list(range(n)), "name": [f"n{i}" for i in range(n)]})


def local(module_fn, t, rows_per_task):
    return runner.run_batch(t, lambda part: runner.compute_slice("models", module_fn, part), lambda xs: xs, rows_per_task)


def test_split_covers_every_row_in_order():
    parts = runner.split(table(10), 4)
    assert [p.num_rows for p in parts] == [4, 4, 2]
    assert pa.concat_tables(parts).column("id").to_pylist() == list(range(10))
    assert runner.split(table(0), 4) == []
    with pytest.raises(ValueError):
        runner.split(table(3), 0)


def test_run_batch_applies_the_function_per_slice():
    out = local("upper", table(5), 2)
    assert out.to_pylist() == [{"id": i, "name": f"N{i}"} for i in range(5)]


def test_results_may_come_back_in_any_order_within_a_slice():
    out = local("reversed_order", table(4), 2)
    assert out.column("id").to_pylist() == [1, 0, 3, 2]


def test_a_function_that_returns_no_dicts_is_an_error():
    with pytest.raises(TypeError, match="must return dicts"):
        local("not_dicts", table(2), 2)


def test_empty_results_give_an_empty_table():
    assert local("empty", table(3), 2).num_rows == 0


def test_unknown_function_is_an_error():
    with pytest.raises(AttributeError, match="no function 'nope'"):
        runner.load_function("models", "nope")


def test_main_writes_the_result_atomically_and_prints_a_summary(tmp_path):
    src, dst = tmp_path / "batch.parquet", tmp_path / "result.parquet"
    pq.write_table(table(7), src)
    env = {**os.environ, "PYTHONPATH": HERE}
    args = ["--module", "models", "--function", "upper", "--input", str(src), "--output", str(dst)]
    done = subprocess.run(
        [sys.executable, RUNNER, *args, "--rows-per-task", "3", "--local"],
        env=env, capture_output=True, text=True, check=True,
    )
    summary = json.loads(done.stdout.split("METAXY_RAY_SUMMARY ", 1)[1])
    assert summary["rows_in"] == 7 and summary["rows_out"] == 7 and summary["tasks"] == 3
    assert pq.read_table(dst).column("name").to_pylist() == [f"N{i}" for i in range(7)]
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []
