import type { Row } from "@metaxy/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleMetaxyWorkflows, startGraphMaterialization, startMaterialization } from "../src/index.js";
import {
  countingCompute,
  openStore,
  temporalClient,
  tempStorePath,
  videoGraph,
  videoSamples,
  withWorker,
} from "./fixtures.js";

const { client, close } = await temporalClient();
afterAll(close);
beforeAll(() => bundleMetaxyWorkflows(), 60_000);

describe("failed records", () => {
  it("a batch that always fails: the run completes, its records are set aside until their upstream changes or retryFailed", async () => {
    const f = videoGraph();
    await using store = await openStore(tempStorePath(), f.graph);
    const samples = videoSamples(100);
    await withWorker(store, countingCompute(), samples, async (taskQueue) =>
      (await startMaterialization(client, { feature: "video/raw", batchSize: 100 }, { taskQueue })).result(),
    );
    // Records v000000..v000009 crash the model every time.
    const poisoned = (r: Row) => Number(String(r.sample_uid).slice(1)) < 10;
    const calls: Record<string, number> = {};
    const compute = countingCompute(calls);
    const transcript = compute["video/transcript"];
    compute["video/transcript"] = async (rows, ctx) => {
      if (rows.some(poisoned)) throw new Error("CUDA error: device-side assert triggered");
      return transcript(rows, ctx);
    };
    const run = (resolve?: { retryFailed: boolean }) =>
      withWorker(store, compute, null, async (taskQueue) =>
        (
          await startMaterialization(
            client,
            { feature: "video/transcript", batchSize: 10, maxAttempts: 2, resolve },
            { taskQueue },
          )
        ).result(),
      );

    const first = await run();
    expect(first).toMatchObject({ new: 100, processed: 90, failed: 10, failedBatches: 1 });
    const failures: Row[] = [];
    for await (const b of store.failures(f.transcript)) failures.push(...b);
    expect(failures.map((r) => r.sample_uid).sort()).toEqual(samples.slice(0, 10).map((s) => s.sample_uid));
    expect(failures[0]).toMatchObject({ attempts: 2, error: expect.stringContaining("CUDA error") });
    expect(String(failures[0].run_id)).toMatch(/^metaxy\/video\/transcript\//);

    // The next resolve leaves them out and reports them apart.
    const counts = await (await store.resolveUpdate(f.transcript)).counts();
    expect(counts).toEqual({ new: 0, stale: 0, orphaned: 0, failed: 10 });
    const second = await run();
    expect(second).toMatchObject({ batches: 0, processed: 0, previouslyFailed: 10 });

    // retryFailed brings them back (and they fail again).
    const retried = await run({ retryFailed: true });
    expect(retried).toMatchObject({ new: 10, processed: 0, failed: 10 });

    // Their upstream changes: they are new work again, not failed.
    const changed = videoSamples(100, (i) => (i < 5 ? `a${i}-fixed` : `a${i}`));
    await withWorker(store, countingCompute(), changed, async (taskQueue) =>
      (await startMaterialization(client, { feature: "video/raw", batchSize: 100 }, { taskQueue })).result(),
    );
    expect(await (await store.resolveUpdate(f.transcript)).counts()).toEqual({
      new: 5,
      stale: 0,
      orphaned: 0,
      failed: 5,
    });
  });
});

describe("materializeGraph", () => {
  it("on the video pipeline, an audio bump recomputes transcripts and captions and leaves faces alone", async () => {
    const path = tempStorePath();
    const samples = videoSamples(300);
    const pass = async (audioCodeVersion: string) => {
      const f = videoGraph(audioCodeVersion);
      await using store = await openStore(path, f.graph);
      const calls: Record<string, number> = {};
      const result = await withWorker(store, countingCompute(calls), samples, async (taskQueue) =>
        (await startGraphMaterialization(client, { defaults: { batchSize: 64 } }, { taskQueue })).result(),
      );
      return { calls, result };
    };
    const first = await pass("1");
    expect(first.result.waves).toEqual([
      ["video/raw"],
      ["video/faces", "video/transcript"],
      ["video/caption"],
    ]);
    expect(first.calls).toEqual({
      "video/raw": 300,
      "video/transcript": 300,
      "video/faces": 300,
      "video/caption": 300,
    });

    const rerun = await pass("1");
    expect(rerun.calls).toEqual({});
    expect(rerun.result.features.every((s) => s.skipped)).toBe(true);

    const bumped = await pass("2");
    expect(bumped.calls).toEqual({ "video/raw": 300, "video/transcript": 300, "video/caption": 300 });
    const faces = bumped.result.features.find((s) => s.feature === "video/faces");
    expect(faces).toMatchObject({ skipped: true, processed: 0 });
  });
});
