import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Client, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { temporalVideoScenario } from "./scenario.js";

/**
 * The main job through Temporal: starts the dev server (built once per machine) and a worker in
 * this process, then runs the video pipeline's four passes as `materializeGraph` workflows.
 */
const root = fileURLToPath(new URL("../../../../", import.meta.url));
execFileSync("bash", [resolve(root, "scripts/services/temporal.sh"), "start"], { stdio: "inherit" });
Runtime.install({ logger: new DefaultLogger("WARN") });

const address = `127.0.0.1:${process.env.METAXY_TEMPORAL_PORT ?? "7233"}`;
const dir = resolve(process.env.METAXY_DEMO_DIR ?? ".metaxy");
const path = resolve(dir, "video-temporal.duckdb");
mkdirSync(dir, { recursive: true });
rmSync(path, { force: true });
rmSync(`${path}.wal`, { force: true });
console.log(`Metaxy video pipeline through Temporal (${address}) on DuckDB: ${path}\n`);

const connection = await Connection.connect({ address });
const workerConnection = await NativeConnection.connect({ address });
try {
  const runs = await temporalVideoScenario({
    path,
    client: new Client({ connection }),
    connection: workerConnection,
    videos: Number(process.env.METAXY_DEMO_VIDEOS ?? 200),
    log: console.log,
  });
  const last = runs[runs.length - 1];
  console.log(
    `GPU calls in the last pass: transcript ${last.calls.transcript}, faces ${last.calls.faces}, caption ${last.calls.caption}`,
  );
} finally {
  await workerConnection.close();
  await connection.close();
}
