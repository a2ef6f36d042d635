import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { duckdb } from "@metaxy/backend-duckdb";
import { MetadataStore } from "@metaxy/core";
import { afterAll, describe, expect, it } from "vitest";
import { getProgress, startMaterialization } from "../src/index.js";
import {
  ADDRESS,
  openStore,
  temporalClient,
  tempStorePath,
  uniqueQueue,
  videoGraph,
  videoSamples,
} from "./fixtures.js";

const { client, close } = await temporalClient();
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await close();
});

const script = fileURLToPath(new URL("./worker-process.mjs", import.meta.url));

/** Starts a worker process and waits until it polls. */
async function startWorker(options: {
  path: string;
  taskQueue: string;
  msPerBatch: number;
}): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, JSON.stringify({ ...options, address: ADDRESS })], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d) => String(d).includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  return child;
}

describe("a worker process killed mid-run", () => {
  it("finishes the run after a restart with no duplicate and no missing row; a second writer gets STORE_LOCKED", async () => {
    const path = tempStorePath();
    const f = videoGraph();
    {
      await using store = await openStore(path, f.graph);
      await store.write(f.raw, videoSamples(3000));
    }
    const taskQueue = uniqueQueue("kill");
    const first = await startWorker({ path, taskQueue, msPerBatch: 150 });
    const handle = await startMaterialization(
      client,
      { feature: "video/transcript", batchSize: 50, window: 4, heartbeatTimeout: "2 seconds" },
      { taskQueue, workflowTaskTimeout: "2 seconds" },
    );
    while ((await getProgress(handle)).doneBatches < 10) await new Promise((r) => setTimeout(r, 100));
    first.kill("SIGKILL");
    await once(first, "exit");

    const second = await startWorker({ path, taskQueue, msPerBatch: 150 });
    // One writing process per DuckDB file: this process cannot open it while the worker runs.
    await expect(MetadataStore.open(duckdb({ path }), { graph: f.graph })).rejects.toMatchObject({
      code: "STORE_LOCKED",
    });
    const result = await handle.result();
    expect(result).toMatchObject({ new: 3000, batches: 60, failed: 0 });
    second.kill("SIGTERM");
    await once(second, "exit");

    await using store = await openStore(path, f.graph);
    const history = await store.read(f.transcript, { withSampleHistory: true, columns: ["sample_uid"] });
    expect(history.length).toBe(3000);
    expect(new Set(history.map((r) => r.sample_uid)).size).toBe(3000);
    expect(await (await store.resolveUpdate(f.transcript)).isEmpty()).toBe(true);
  });
});
