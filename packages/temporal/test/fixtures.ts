import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { type FeatureGraph, MetadataStore } from "@metaxy/core";
import type { Client } from "@temporalio/client";
import { TestWorkflowEnvironment } from "@temporalio/testing";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";

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

// Temporal's runtime logs every worker state change at INFO: keep test output to problems.
Runtime.install({ logger: new DefaultLogger("ERROR") });
