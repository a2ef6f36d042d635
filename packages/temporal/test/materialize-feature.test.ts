import type { MetadataStore, Row } from "@metaxy/core";
import { WorkflowFailedError } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bundleMetaxyWorkflows,
  type ComputeFn,
  getProgress,
  stageIdFor,
  startMaterialization,
} from "../src/index.js";
import {
  countingCompute,
  interceptWrites,
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

/** Runs `materializeFeature` on an in-process worker until it finishes. */
async function materialize(
  store: MetadataStore,
  feature: string,
  compute: Record<string, ComputeFn>,
  options: {
    samples?: Row[];
    batchSize?: number;
    window?: number;
    maxAttempts?: number;
    batchesPerRun?: number;
  } = {},
) {
  const { samples, ...input } = options;
  return withWorker(store, compute, samples ?? null, async (taskQueue) => {
    const handle = await startMaterialization(client, { feature, ...input }, { taskQueue });
    return { result: await handle.result(), handle };
  });
}

describe("materializeFeature", () => {
  it("computes exactly the new and stale records that resolveUpdate reports, each once", async () => {
    const f = videoGraph();
    await using store = await openStore(tempStorePath(), f.graph);
    const calls: Record<string, number> = {};
    await materialize(store, "video/raw", countingCompute(calls), {
      samples: videoSamples(1000),
      batchSize: 128,
    });
    await materialize(store, "video/transcript", countingCompute(calls), { batchSize: 100 });
    // 10% of the audio changes, and 200 videos arrive.
    const next = videoSamples(1200, (i) => (i % 10 === 0 ? `a${i}-remastered` : `a${i}`));
    await materialize(store, "video/raw", countingCompute(calls), { samples: next, batchSize: 128 });

    const expected = await store.resolveUpdate(f.transcript);
    const { new: added, stale } = await expected.toArray();
    expect(added.length).toBe(200);
    expect(stale.length).toBe(100);
    const seen: string[] = [];
    const compute = countingCompute();
    const transcript = compute["video/transcript"];
    compute["video/transcript"] = async (rows, ctx) => {
      seen.push(...rows.map((r) => String(r.sample_uid)));
      return transcript(rows, ctx);
    };
    const { result } = await materialize(store, "video/transcript", compute, { batchSize: 32, window: 4 });

    expect(seen.sort()).toEqual([...added, ...stale].map((r) => String(r.sample_uid)).sort());
    expect(result).toMatchObject({
      new: 200,
      stale: 100,
      processed: 300,
      written: 300,
      batches: 10,
      failed: 0,
    });
    expect(await (await store.resolveUpdate(f.transcript)).isEmpty()).toBe(true);
  });

  it("a batch that fails twice after its write, then succeeds, leaves exactly one copy", async () => {
    const f = videoGraph();
    await using store = await openStore(tempStorePath(), f.graph);
    await materialize(store, "video/raw", countingCompute(), { samples: videoSamples(300), batchSize: 300 });
    // The write commits, then the attempt fails as if the worker lost the reply; the model is not
    // deterministic, so each attempt computes other text.
    let writes = 0;
    const flaky = interceptWrites(store, async (write, ...args) => {
      const n = await write(...args);
      writes += 1;
      if (writes <= 2) throw new Error(`reply lost after write ${writes}`);
      return n;
    });
    const compute: Record<string, ComputeFn> = {
      "video/transcript": async (rows, ctx) =>
        rows.map((r) => ({ sample_uid: r.sample_uid, text: `attempt ${ctx.attempt}` })),
    };
    const { result } = await materialize(flaky, "video/transcript", compute, {
      batchSize: 100,
      maxAttempts: 3,
    });

    expect(result).toMatchObject({ processed: 300, failed: 0 });
    const history = await store.read(f.transcript, { withSampleHistory: true });
    expect(history.length).toBe(300);
    // Batch 0 committed on attempt 1; the retries found its key and kept that copy.
    expect(history.filter((r) => r.text === "attempt 1").length).toBeGreaterThanOrEqual(100);
    expect(new Set(history.map((r) => r.sample_uid)).size).toBe(300);
  });

  it("completes 1,000 batches across continue-as-new with each run's history under the warning size", async () => {
    const f = videoGraph();
    await using store = await openStore(tempStorePath(), f.graph);
    const { result, handle } = await materialize(store, "video/raw", countingCompute(), {
      samples: videoSamples(1000),
      batchSize: 1,
      window: 16,
      batchesPerRun: 400,
    });
    expect(result).toMatchObject({ batches: 1000, processed: 1000, written: 1000, runs: 3 });
    expect(await store.count(f.raw)).toBe(1000);
    const runs: number[] = [];
    for await (const run of client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` }))
      runs.push(run.historyLength);
    expect(runs.length).toBe(3);
    for (const events of runs) expect(events).toBeLessThan(10_240);
  });

  it("cancelling the run stops in-flight batches and writes nothing after the cancellation", async () => {
    const f = videoGraph();
    await using store = await openStore(tempStorePath(), f.graph);
    await materialize(store, "video/raw", countingCompute(), { samples: videoSamples(400), batchSize: 400 });
    let started = 0;
    const writesAt: number[] = [];
    const recording = interceptWrites(store, (write, ...args) => {
      writesAt.push(Date.now());
      return write(...args);
    });
    // A model call that ignores the abort signal: the batch must still not be written. The
    // cancellation reaches a running batch with its next heartbeat (throttled to 80% of the
    // heartbeat timeout), well before this compute ends.
    const compute: Record<string, ComputeFn> = {
      "video/transcript": async (rows) => {
        started += 1;
        await new Promise((r) => setTimeout(r, 3000));
        return rows.map((r) => ({ sample_uid: r.sample_uid, text: "late" }));
      },
    };
    let cancelledAt = 0;
    let workflowId = "";
    const err = await withWorker(
      recording,
      compute,
      null,
      async (taskQueue) => {
        const handle = await startMaterialization(
          client,
          { feature: "video/transcript", batchSize: 10, window: 4, heartbeatTimeout: "1 second" },
          { taskQueue },
        );
        workflowId = handle.workflowId;
        while (started < 4) await new Promise((r) => setTimeout(r, 50));
        expect((await getProgress(handle)).totalBatches).toBe(40);
        cancelledAt = Date.now();
        await handle.cancel();
        return handle.result().catch((e) => e);
      },
      { heartbeatIntervalMs: 100 },
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(writesAt.filter((t) => t >= cancelledAt)).toEqual([]);
    expect(await store.count(f.transcript).catch(() => 0)).toBe(0);
    // In-flight batches were waited for, then the stage was dropped.
    await expect(store.openStagedIncrement(stageIdFor(workflowId, "video/transcript"))).rejects.toThrow();
  });
});
