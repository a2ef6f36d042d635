import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type WorkerOptions,
  type WorkflowBundleWithSourceMap,
} from "@temporalio/worker";
import { createMetaxyActivities, type MetaxyActivityDeps } from "./activities.js";

export interface MetaxyWorkerOptions
  extends MetaxyActivityDeps,
    Omit<WorkerOptions, "activities" | "workflowsPath" | "workflowBundle" | "connection" | "taskQueue"> {
  taskQueue: string;
  /** Server address (default `127.0.0.1:7233`), or an open connection. */
  address?: string;
  connection?: NativeConnection;
  /** A bundle from `bundleMetaxyWorkflows()`; bundled on first use otherwise. */
  workflowBundle?: WorkflowBundleWithSourceMap;
}

/** Path of the bundled workflow module (`@metaxy/temporal/workflows`): built JS, or the source in dev. */
export const workflowsPath = [".js", ".ts"]
  .map((ext) => fileURLToPath(new URL(`./workflows/index${ext}`, import.meta.url)))
  .find((p) => existsSync(p)) as string;

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** Bundles the Metaxy workflows once per process (2-3 s); every worker reuses the bundle. */
export function bundleMetaxyWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
  return bundle;
}

/**
 * A worker that runs the Metaxy workflows and activities over one store. All activities of the
 * worker share the store: DuckDB allows one writing process per file, so run one worker process
 * per DuckDB file (a second one fails with STORE_LOCKED).
 */
export async function createMetaxyWorker(options: MetaxyWorkerOptions): Promise<Worker> {
  const { store, compute, samples, heartbeatIntervalMs, address, connection, workflowBundle, ...rest } =
    options;
  return Worker.create({
    ...rest,
    connection: connection ?? (await NativeConnection.connect({ address: address ?? "127.0.0.1:7233" })),
    workflowBundle: workflowBundle ?? (await bundleMetaxyWorkflows()),
    activities: createMetaxyActivities({ store, compute, samples, heartbeatIntervalMs }),
  });
}

const quietBundlerLogger = {
  trace() {},
  debug() {},
  info() {},
  warn(message: string, meta?: unknown) {
    console.warn(message, meta ?? "");
  },
  error(message: string, meta?: unknown) {
    console.error(message, meta ?? "");
  },
  log() {},
};
