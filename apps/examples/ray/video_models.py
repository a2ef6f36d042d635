"""CPU stand-ins for the video pipeline's GPU models, run as Ray tasks by `npm run demo:distributed`.

Each function takes the increment rows of a slice of a batch (dicts with the id, the upstream
columns and provenance) and returns one row per record with the feature's columns. They sleep
`METAXY_DEMO_MS_PER_RECORD` ms per record where a real model would run on the task's GPU.
"""

import os
import time


def _work(rows):
    time.sleep(float(os.environ.get("METAXY_DEMO_MS_PER_RECORD", "1")) * len(rows) / 1000)


def transcribe(rows):
    _work(rows)
    return [{"sample_uid": r["sample_uid"], "text": f"transcript of {r['path']}"} for r in rows]


def caption(rows):
    _work(rows)
    return [{"sample_uid": r["sample_uid"], "caption": f"{r['face_count']} people: {r['text']}"} for r in rows]
