import type { MetadataStore, Row } from "@metaxy/core";
import {
  bundleMetaxyWorkflows,
  type ComputeFn,
  type MaterializeFeatureInput,
  startMaterialization,
} from "@metaxy/temporal";
import { WorkflowFailedError } from "@temporalio/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countingCompute,
  interceptWrites,
  openStore,
  temporalClient,
  tempStorePath,
  videoGraph,
  videoSamples,
  withWorker,
} from "../../temporal/test/fixtures.js";
import { type RayComputeOptions, type RayJobEvent, rayCompute } from "../src/index.js";
import { jobsStartingWith, modelsEnv, ray, sharedDir } from "./fixtures.js";

const { client, close } = await temporalClient();
afterAll(close);
beforeAll(() => bundleMetaxyWorkflows(), 60_000);

/** A store whose video/raw holds `n` samples, and the events of a Ray compute for video/transcript. */
async function seeded(n: number) {
  const f = videoGraph();
  const store = await openStore(tempStorePath(), f.graph);
  await withWorker(store, countingCompute(), videoSamples(n), async (taskQueue) =>
    (await startMaterialization(client, { feature: "video/raw", batchSize: n }, { taskQueue })).result(),
  );
  return { f, store };
}

function transcriptOnRay(fn: string, events: RayJobEvent[], extra: Partial<RayComputeOptions> = {}) {
  return {
    "video/transcript": rayCompute({
      client: ray,
      module: "video_models",
      function: fn,
      sharedDir: sharedDir(),
      runtimeEnv: modelsEnv,
      numGpus: 0,
      numCpus: 1,
      rowsPerTask: 4,
      onJob: (e) => events.push(e),
      ...extra,
    }),
  } satisfies Record<string, ComputeFn>;
}

const materialize = (
  store: MetadataStore,
  compute: Record<string, ComputeFn>,
  input: Omit<MaterializeFeatureInput, "feature">,
) =>
  withWorker(store, compute, null, async (taskQueue) =>
    (await startMaterialization(client, { feature: "video/transcript", ...input }, { taskQueue })).result(),
  );

const byId = (rows: Row[]) =>
  [...rows].sort((a, b) => String(a.sample_uid).localeCompare(String(b.sample_uid)));

describe("rayCompute through Temporal on the real Ray head", () => {
  it("each batch runs as one Ray job; its rows are written with the provenance of an in-process run", async () => {
    const { f, store } = await seeded(20);
    await using _ = store;
    const events: RayJobEvent[] = [];
    const summary = await materialize(store, transcriptOnRay("transcribe", events), { batchSize: 10 });
    expect(summary).toMatchObject({ new: 20, processed: 20, written: 20, failed: 0 });
    const submitted = events.filter((e) => e.kind === "submitted");
    expect(submitted).toHaveLength(2);
    expect(submitted.every((e) => e.tasks === 3 && e.numCpus === 1 && e.numGpus === 0)).toBe(true);
    expect(
      events.filter((e) => e.kind === "ended").every((e) => e.status === "SUCCEEDED" && e.seconds! > 0),
    ).toBe(true);

    const rows = byId(await store.read(f.transcript));
    expect(rows.map((r) => r.text)).toEqual(videoSamples(20).map((s) => `ray:${s.path}:True`));
    // The same records computed inside the activity carry the same provenance.
    const { store: local } = await seeded(20);
    await using __ = local;
    await materialize(local, countingCompute(), { batchSize: 10 });
    const expected = byId(await local.read(f.transcript));
    const provenance = (rs: Row[]) =>
      rs.map((r) => [r.sample_uid, r.metaxy_provenance, r.metaxy_provenance_by_field]);
    expect(provenance(rows)).toEqual(provenance(expected));
    expect(await (await store.resolveUpdate(f.transcript)).counts()).toEqual({
      new: 0,
      stale: 0,
      orphaned: 0,
      failed: 0,
    });
  });

  it("a failing job fails the batch with its logs; after Temporal's retries (one new job each) the records are in the failed-records table", async () => {
    const { f, store } = await seeded(10);
    await using _ = store;
    const events: RayJobEvent[] = [];
    const summary = await materialize(store, transcriptOnRay("crash", events), {
      batchSize: 10,
      maxAttempts: 2,
    });
    expect(summary).toMatchObject({ new: 10, processed: 0, failed: 10, failedBatches: 1 });
    // Attempt 2 found attempt 1's job FAILED and submitted the next id.
    const ids = events.filter((e) => e.kind === "submitted").map((e) => e.submissionId);
    expect(ids).toHaveLength(2);
    expect(ids[0].replace(/-a1$/, "-a2")).toBe(ids[1]);
    for (const id of ids) expect((await ray.get(id))?.status).toBe("FAILED");
    const failures: Row[] = [];
    for await (const b of store.failures(f.transcript)) failures.push(...b);
    expect(failures).toHaveLength(10);
    expect(failures[0]).toMatchObject({ attempts: 2 });
    expect(String(failures[0].error)).toMatch(/^RayJobFailedError: .*JOB_ENTRYPOINT_COMMAND_ERROR/);
    // The tail of the job's log: the user's traceback.
    expect(String(failures[0].error)).toContain("RuntimeError: CUDA error: device-side assert triggered");
  });

  it("cancelling the workflow stops its Ray job (STOPPED) and writes nothing", async () => {
    const { f, store } = await seeded(10);
    await using _ = store;
    const events: RayJobEvent[] = [];
    const compute = transcriptOnRay("slow", events, {
      runtimeEnv: { ...modelsEnv, env_vars: { METAXY_TEST_SLOW_S: "300" } },
    });
    const err = await withWorker(store, compute, null, async (taskQueue) => {
      const handle = await startMaterialization(
        client,
        { feature: "video/transcript", batchSize: 10, heartbeatTimeout: "3 seconds" },
        { taskQueue },
      );
      for (let i = 0; i < 600; i++) {
        const id = events.find((e) => e.kind === "submitted")?.submissionId;
        if (id && (await ray.get(id))?.status === "RUNNING") break;
        await new Promise((r) => setTimeout(r, 200));
      }
      await handle.cancel();
      return handle.result().catch((e) => e);
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const id = events.find((e) => e.kind === "submitted")!.submissionId;
    expect((await ray.get(id))?.status).toBe("STOPPED");
    expect(events.find((e) => e.kind === "ended")).toMatchObject({ submissionId: id, status: "STOPPED" });
    expect(await store.count(f.transcript).catch(() => 0)).toBe(0);
  });

  it("a retried activity waits for / reuses its job instead of running it twice", async () => {
    const { f, store } = await seeded(10);
    await using _ = store;
    const events: RayJobEvent[] = [];
    let writes = 0;
    // The first write of the batch fails after its job succeeded: Temporal retries the activity.
    const flaky = interceptWrites(store, (write, feature, ...rest) => {
      if (String((feature as { key: unknown }).key) === "video/transcript" && writes++ === 0)
        throw new Error("connection to the store lost");
      return write(feature, ...rest);
    });
    const summary = await materialize(flaky, transcriptOnRay("transcribe", events), { batchSize: 10 });
    expect(summary).toMatchObject({ processed: 10, written: 10, failed: 0 });
    expect(writes).toBe(2);
    expect(events.map((e) => e.kind)).toEqual(["submitted", "ended", "reused", "ended"]);
    const id = events[0].submissionId;
    expect(events.every((e) => e.submissionId === id)).toBe(true);
    // One job for the batch in the head's list, however many activity attempts.
    const jobs = await jobsStartingWith(id.replace(/-a1$/, ""));
    expect(jobs.map((j) => [j.submission_id, j.status])).toEqual([[id, "SUCCEEDED"]]);
    expect(await store.count(f.transcript)).toBe(10);
  });
});
