import type { Row } from "@metaxy/core";
import type { ComputeContext } from "@metaxy/temporal";
import { describe, expect, it } from "vitest";
import { videoGraph, videoSamples } from "../../temporal/test/fixtures.js";
import {
  matchResults,
  RayJobFailedError,
  RayResultMismatchError,
  rayCompute,
  submissionIdFor,
} from "../src/index.js";
import { modelsEnv, ray, sharedDir } from "./fixtures.js";

const { transcript } = videoGraph();
const rows: Row[] = videoSamples(6).map(({ sample_uid, path, metaxy_provenance_by_field }) => ({
  sample_uid,
  path,
  metaxy_provenance_by_field,
}));

function context(key: string): ComputeContext {
  return {
    feature: "video/transcript",
    definition: transcript,
    stageId: "s",
    batchIndex: 0,
    attempt: 1,
    workflowId: "direct",
    idempotencyKey: key,
    signal: new AbortController().signal,
    heartbeat: () => {},
  };
}
const compute = (fn: string) =>
  rayCompute({
    client: ray,
    module: "video_models",
    function: fn,
    sharedDir: sharedDir(),
    runtimeEnv: modelsEnv,
    rowsPerTask: 3,
  });
const uniqueKey = (name: string) => `direct/${name}/${Date.now()}/${Math.random()}`;

describe("rayCompute called directly", () => {
  it("a failing job is a RayJobFailedError with Ray's error_type and the tail of its logs", async () => {
    const key = uniqueKey("crash");
    const err = await compute("crash")(rows, context(key)).catch((e) => e);
    expect(RayJobFailedError.isInstance(err)).toBe(true);
    expect(err).toMatchObject({
      code: "RAY_JOB_FAILED",
      details: {
        feature: "video/transcript",
        submissionId: submissionIdFor(key, 1),
        errorType: "JOB_ENTRYPOINT_COMMAND_ERROR",
      },
    });
    expect(err.details.logs).toContain("RuntimeError: CUDA error: device-side assert triggered");
  });

  it("a job that drops a row is a RayResultMismatchError naming the id", async () => {
    const err = await compute("drop_first")(rows, context(uniqueKey("drop"))).catch((e) => e);
    expect(RayResultMismatchError.isInstance(err)).toBe(true);
    expect(err.details).toMatchObject({ kind: "missing", id: '["v000000"]', feature: "video/transcript" });
  });
});

describe("matchResults", () => {
  const text = (r: Row) => ({ sample_uid: r.sample_uid, text: `t${r.sample_uid}` });
  const kindOf = (results: Row[]) => {
    try {
      matchResults(transcript, rows, results);
      return "ok";
    } catch (e) {
      if (!RayResultMismatchError.isInstance(e)) throw e;
      return `${e.details.kind}:${e.details.id ?? e.details.column}`;
    }
  };

  it("returns the results in the batch's order", () => {
    expect(matchResults(transcript, rows, [...rows].reverse().map(text))).toEqual(rows.map(text));
  });
  it("a missing, extra or duplicated id, a column outside the schema or a bad value is an error", () => {
    expect(kindOf(rows.slice(1).map(text))).toBe('missing:["v000000"]');
    expect(kindOf([...rows.map(text), { sample_uid: "zzz", text: "x" }])).toBe('extra:["zzz"]');
    expect(kindOf([...rows.map(text), text(rows[2])])).toBe('duplicated:["v000002"]');
    expect(kindOf(rows.map((r) => ({ ...text(r), confidence: 0.5 })))).toBe("column:confidence");
    expect(kindOf(rows.map((r) => ({ ...text(r), text: 7 })))).toBe("schema:text");
  });
  it("64-bit integers from Parquet become numbers where the schema wants numbers", () => {
    const { raw } = videoGraph();
    const input = [{ sample_uid: "a" }];
    expect(matchResults(raw, input, [{ sample_uid: "a", path: "p", duration: 3n }])).toEqual([
      { sample_uid: "a", path: "p", duration: 3 },
    ]);
  });
});
