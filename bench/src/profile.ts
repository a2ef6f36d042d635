/**
 * Diagnostics for one cell (not part of `pnpm bench`): seeds a DuckDB file like the benchmark,
 * then times the library's resolve-update SQL (`compileResolveUpdate`) piece by piece, the
 * floor, and variants, on one raw connection. Prints the SQL and EXPLAIN ANALYZE with --explain.
 *
 *   node dist/profile.js --graph simple --n 1000000 --phase new [--reps 3] [--explain] [--sql]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { compileResolveUpdate, duckdb, duckdbDialect } from "@metaxy/backend-duckdb";
import { MetadataStore } from "@metaxy/core";
import { type GraphName, buildGraph } from "./graphs.js";
import { createTableSql, floorSql, insertLeafFromResolveSql, insertRootSql } from "./sql.js";
import { median } from "./stats.js";

const q = duckdbDialect.quoteIdent;
const { values: a } = parseArgs({
  options: {
    graph: { type: "string", default: "simple" },
    n: { type: "string", default: "1000000" },
    phase: { type: "string", default: "new" },
    reps: { type: "string", default: "3" },
    explain: { type: "boolean", default: false },
    sql: { type: "boolean", default: false },
  },
});
const b = buildGraph(a.graph as GraphName);
const n = Number(a.n);
const phase = a.phase as "new" | "stale";
const reps = Number(a.reps);
const dataDir = join(resolve(dirname(fileURLToPath(import.meta.url)), "..", ".data"), `${b.name}_n${n}`);

const dir = mkdtempSync(join(tmpdir(), "metaxy_bench_profile_"));
const path = join(dir, "bench.duckdb");
const instance = await DuckDBInstance.create(path);
const c = await instance.connect();

async function compiled(leafExists: boolean) {
  const store = await MetadataStore.open(duckdb({ instance }), { graph: b.graph, hashAlgorithm: "md5" });
  try {
    const plan = await store.planResolveUpdate(b.leaf);
    if (plan.expected.kind !== "upstreams") throw new Error("plan");
    const upstreams = [];
    for (const u of plan.expected.upstreams) upstreams.push({ relation: q(u.read.table), raw: true });
    const current = leafExists
      ? {
          relation: q(b.leaf.key.tableName),
          columns: (await store.backend.tableColumns(b.leaf.key.tableName))!,
        }
      : null;
    return compileResolveUpdate(plan, { upstreams, current });
  } finally {
    await store.close();
  }
}

async function time(label: string, sql: string, c2: DuckDBConnection = c) {
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await c2.run(sql);
    ms.push(performance.now() - t0);
  }
  console.log(
    `${label.padEnd(58)} median ${median(ms).toFixed(1).padStart(8)} ms  [${ms.map((x) => x.toFixed(0)).join(", ")}]`,
  );
}

try {
  const base = Date.now() - 60_000;
  for (const r of b.roots) await c.run(createTableSql(r.def));
  for (const [i, r] of b.roots.entries()) await c.run(insertRootSql(b, i, join(dataDir, r.file), base));
  if (phase === "stale") {
    await c.run(createTableSql(b.leaf));
    await c.run(insertLeafFromResolveSql(b, await compiled(false), base + 1000));
    await c.run(insertRootSql(b, 0, join(dataDir, b.mutatedFile), base + 2000));
  }
  await c.run("CHECKPOINT");
  const comp = await compiled(phase === "stale");
  if (a.sql) console.log(`-- library SQL\n${comp.sql}\n\n-- floor SQL\n${floorSql(b, phase === "stale")}\n`);
  console.log(
    `${b.name} n=${n} ${phase}, threads=${(await c.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0][0]}`,
  );
  const ctes = comp.sql.slice(0, comp.sql.lastIndexOf("\nSELECT"));
  await time("library: CREATE TABLE AS (full resolve)", `CREATE OR REPLACE TEMP TABLE t AS ${comp.sql}`);
  await time("library: count(*) of the resolve (no materialisation)", `SELECT count(*) FROM (${comp.sql})`);
  for (const cte of [
    "u0_read",
    "u0",
    "joined",
    "fields",
    "provenance",
    "expected",
    ...(phase === "stale" ? ["cur"] : []),
  ])
    await time(
      `library: CTE ${cte} materialised`,
      `CREATE OR REPLACE TEMP TABLE t AS ${ctes}\nSELECT * FROM ${cte}`,
    );
  await time("floor (argmax): CREATE TEMP TABLE AS", floorSql(b, phase === "stale", "argmax"));
  await time("floor (window): CREATE TEMP TABLE AS", floorSql(b, phase === "stale", "window"));
  await time(
    "library: CREATE TABLE AS (full resolve) again",
    `CREATE OR REPLACE TEMP TABLE t AS ${comp.sql}`,
  );
  // Variants of the latest-per-id read of root 0.
  const t0 = q(b.roots[0].def.key.tableName);
  const fv = `'${b.graph.featureVersion(b.roots[0].def)}'`;
  await time(
    "latest-per-id: QUALIFY row_number() (library's compileRead)",
    `CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM ${t0} WHERE metaxy_feature_version = ${fv} QUALIFY row_number() OVER (PARTITION BY sample_uid ORDER BY coalesce(metaxy_deleted_at, metaxy_updated_at) DESC, rowid DESC) = 1`,
  );
  await time(
    "latest-per-id: QUALIFY, only id + data_version_by_field",
    `CREATE OR REPLACE TEMP TABLE t AS SELECT sample_uid, metaxy_data_version_by_field FROM ${t0} WHERE metaxy_feature_version = ${fv} QUALIFY row_number() OVER (PARTITION BY sample_uid ORDER BY coalesce(metaxy_deleted_at, metaxy_updated_at) DESC, rowid DESC) = 1`,
  );
  await time(
    "latest-per-id: arg_max GROUP BY (floor)",
    `CREATE OR REPLACE TEMP TABLE t AS SELECT sample_uid, arg_max({dv: metaxy_data_version_by_field, del: metaxy_deleted_at}, coalesce(metaxy_deleted_at, metaxy_updated_at)) AS l FROM ${t0} WHERE metaxy_feature_version = ${fv} GROUP BY sample_uid`,
  );
  await time("scan: SELECT * (all columns)", `CREATE OR REPLACE TEMP TABLE t AS SELECT * FROM ${t0}`);
  await time(
    "scan: id + data_version_by_field",
    `CREATE OR REPLACE TEMP TABLE t AS SELECT sample_uid, metaxy_data_version_by_field FROM ${t0}`,
  );
  await time(
    "md5 of field concat only",
    `CREATE OR REPLACE TEMP TABLE t AS SELECT sample_uid, md5(map_extract_value(metaxy_data_version_by_field, 'audio') || '|' || map_extract_value(metaxy_data_version_by_field, 'frames')) FROM ${t0}`,
  );
  if (a.explain) {
    for (const [label, sql] of [
      ["library", `CREATE OR REPLACE TEMP TABLE t AS ${comp.sql}`],
      ["floor", floorSql(b, phase === "stale")],
    ] as const) {
      const out = join(dir, `${label}.json`);
      await c.run(`SET enable_profiling = 'json'; SET profiling_output = '${out}'`);
      await c.run(sql);
      await c.run("SET enable_profiling = 'no_output'");
      const prof = JSON.parse(readFileSync(out, "utf8"));
      console.log(
        `\n-- operator profile: ${label} (latency ${Number(prof.latency ?? 0).toFixed(3)} s; operator_timing summed over threads)`,
      );
      const walk = (node: any, depth: number) => {
        const name = node.operator_name ?? node.operator_type;
        if (name)
          console.log(
            `${"  ".repeat(depth)}${String(name).trim()}  ${Number(node.operator_timing ?? 0).toFixed(3)} s  rows=${node.operator_cardinality ?? ""}  ${JSON.stringify(node.extra_info ?? {}).slice(0, 140)}`,
          );
        for (const ch of node.children ?? []) walk(ch, depth + 1);
      };
      walk(prof, 0);
    }
  }
} finally {
  c.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
}
