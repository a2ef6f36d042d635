"""Stand-ins for GPU models, imported by the Ray tasks of the tests (working_dir: local://…)."""

import os
import time


def transcribe(rows):
    """One transcript per row, from the upstream columns the increment carries."""
    return [{"sample_uid": r["sample_uid"], "text": f"ray:{r['path']}:{os.getpid() > 0}"} for r in rows]


def crash(rows):
    raise RuntimeError("CUDA error: device-side assert triggered")


def slow(rows):
    time.sleep(float(os.environ.get("METAXY_TEST_SLOW_S", "300")))
    return transcribe(rows)


def drop_first(rows):
    return transcribe(rows[1:])
