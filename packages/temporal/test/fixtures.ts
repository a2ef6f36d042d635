import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { type FeatureGraph, MetadataStore, type Row } from "@metaxy/core";
import type { Client } from "@temporalio/client";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { type ComputeFn, createMetaxyWorker } from "../src/index.js";

export const ADDRESS = `127.0.0.1:${process.env.METAXY_TEMPORAL_PORT ?? "7233"}`;

export { countingCompute, videoGraph, videoSamples } from "./video-graph.mjs";

export function tempStorePath(): string {
  return join(mkdtempSync(join(tmpdir(), "metaxy-temporal-")), "store.duckdb");
}

export async function openStore(path: string, graph: FeatureGraph): Promise<MetadataStore> {
  return MetadataStore.open(duckdb({ path }), { graph });
}

/** A client on the real dev server that `scripts/services/temporal.sh` started (global setup). */
export async function temporalClient(): Promise<{ client: Client; close(): Promise<void> }> {
  const env = await TestWorkflowEnvironment.createFromExistingServer({ address: ADDRESS });
  return { client: env.client, close: () => env.teardown() };
}

export const workerConnection = () => NativeConnection.connect({ address: ADDRESS });
export const uniqueQueue = (name: string) => `${name}-${randomUUID()}`;

/**
 * Runs `run(taskQueue)` while an in-process worker over `store` polls a fresh task queue; the
 * worker shuts down when `run` settles. `samples` feed the root feature video/raw.
 */
export async function withWorker<T>(
  store: MetadataStore,
  compute: Record<string, ComputeFn>,
  samples: Row[] | null,
  run: (taskQueue: string) => Promise<T>,
  options: { heartbeatIntervalMs?: number } = {},
): Promise<T> {
  const taskQueue = uniqueQueue("wk");
  const worker = await createMetaxyWorker({
    store,
    compute,
    samples: samples ? { "video/raw": () => samples } : undefined,
    taskQueue,
    connection: await workerConnection(),
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 200,
  });
  return worker.runUntil(run(taskQueue));
}

/** `store` with its `write` replaced by `write(original, ...args)`: fault injection and recording. */
export function interceptWrites(
  store: MetadataStore,
  write: (original: MetadataStore["write"], ...args: Parameters<MetadataStore["write"]>) => Promise<number>,
): MetadataStore {
  const original = store.write.bind(store) as MetadataStore["write"];
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "write") return (...args: Parameters<MetadataStore["write"]>) => write(original, ...args);
      const value = Reflect.get(target, prop, target);
      // Methods run on the real store: its private fields are not reachable through a proxy.
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// Temporal's runtime logs every worker state change at INFO: keep test output to problems.
Runtime.install({ logger: new DefaultLogger("ERROR") });
