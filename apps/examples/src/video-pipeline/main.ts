import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { videoScenario } from "./scenario.js";

/**
 * The main job: the video pipeline on an embedded DuckDB file under `.metaxy/`, four passes
 * (first run, rerun, audio code bump, new audio for 10%), a report per step.
 */
const dir = resolve(process.env.METAXY_DEMO_DIR ?? ".metaxy");
const path = resolve(dir, "video-demo.duckdb");
mkdirSync(dir, { recursive: true });
rmSync(path, { force: true });
rmSync(`${path}.wal`, { force: true });
console.log(`Metaxy video pipeline on DuckDB: ${path}\n`);

const runs = await videoScenario(() => duckdb({ path }), {
  videos: Number(process.env.METAXY_DEMO_VIDEOS ?? 200),
  log: console.log,
});
const last = runs[runs.length - 1];
console.log(
  `GPU calls in the last pass: transcript ${last.calls.transcript}, faces ${last.calls.faces}, caption ${last.calls.caption}`,
);
