import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { duckdb } from "@metaxy/backend-duckdb";
import { chunkScenario } from "./scenario.js";

/** The expansion (1:N) story on an embedded DuckDB file under `.metaxy/`: five passes, a report per step. */
const dir = resolve(process.env.METAXY_DEMO_DIR ?? ".metaxy");
const path = resolve(dir, "expansion-demo.duckdb");
mkdirSync(dir, { recursive: true });
rmSync(path, { force: true });
rmSync(`${path}.wal`, { force: true });
console.log(`Metaxy expansion (video -> chunks -> chunk faces, 1:N) on DuckDB: ${path}\n`);

const runs = await chunkScenario(() => duckdb({ path }), { log: console.log });
for (const run of runs)
  console.log(
    `${run.title}: split ${run.calls.videosSplit} video(s) into ${run.calls.chunksWritten} chunk(s), detected faces on ${run.calls.faces} chunk(s)`,
  );
