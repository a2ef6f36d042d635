import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { speakerScenario } from "./scenario.js";

/** The aggregation (N:1) story on an embedded DuckDB file under `.metaxy/`: five passes, a report per step. */
const dir = resolve(process.env.METAXY_DEMO_DIR ?? ".metaxy");
const path = resolve(dir, "aggregation-demo.duckdb");
mkdirSync(dir, { recursive: true });
rmSync(path, { force: true });
rmSync(`${path}.wal`, { force: true });
console.log(`Metaxy aggregation (recordings -> speaker embeddings, N:1) on DuckDB: ${path}\n`);

const runs = await speakerScenario(() => duckdb({ path }), { log: console.log });
for (const run of runs)
  console.log(
    `${run.title}: embedded ${run.calls.speakers} speaker(s), reading ${run.calls.recordingsRead} recording(s)`,
  );
