import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { clickhouse } from "@metaxy/backend-clickhouse";
import { duckdb } from "@metaxy/backend-duckdb";
import type { Backend } from "@metaxy/core";
import { videoScenario } from "./scenario.js";

/**
 * The main job: the video pipeline on an embedded store under `.metaxy/` — a DuckDB file by
 * default, or embedded ClickHouse (chdb) with `--store clickhouse` — four passes (first run,
 * rerun, audio code bump, new audio for 10%), a report per step.
 */
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== "--"),
  options: { store: { type: "string", default: process.env.METAXY_DEMO_STORE ?? "duckdb" } },
});
const dir = resolve(process.env.METAXY_DEMO_DIR ?? ".metaxy");
mkdirSync(dir, { recursive: true });
let backend: () => Backend;
if (values.store === "clickhouse") {
  const path = resolve(dir, "video-demo.clickhouse");
  rmSync(path, { recursive: true, force: true });
  console.log(`Metaxy video pipeline on embedded ClickHouse (chdb): ${path}\n`);
  backend = () => clickhouse.embedded({ path, database: "video_demo" });
} else if (values.store === "duckdb") {
  const path = resolve(dir, "video-demo.duckdb");
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  console.log(`Metaxy video pipeline on DuckDB: ${path}\n`);
  backend = () => duckdb({ path });
} else throw new Error(`--store must be duckdb or clickhouse, not "${values.store}"`);

const runs = await videoScenario(backend, {
  videos: Number(process.env.METAXY_DEMO_VIDEOS ?? 200),
  log: console.log,
});
const last = runs[runs.length - 1];
console.log(
  `GPU calls in the last pass: transcript ${last.calls.transcript}, faces ${last.calls.faces}, caption ${last.calls.caption}`,
);
