/**
 * One benchmark cell (graph × N × phase) in one mode, in its own process so that its peak RSS is
 * its own. Started by main.ts:
 *
 *   node --expose-gc dist/run-cell.js --mode seed|stage|materialise|floor --graph simple|wide
 *        --n N --phase new|stale --rounds R --data <cell data dir> --template <file.duckdb>
 *        --tmp <dir> --result <out.json>
 *
 * seed: builds the cell's seeded DuckDB file once (untimed; roots loaded from Parquet with SQL,
 * the leaf written from the library's resolve for `stale`, then the mutated root 0 appended) and
 * verifies it (counts, floor = library, hashes against core and the vectors).
 * stage / materialise / floor: per round, a fresh copy of that file in a new temp dir, then the
 * timed work (see README.md). Writes a JSON result to --result.
 *
 * `--backend delta` (`pnpm bench -- --delta`): --template is a Delta store directory. seed copies
 * every stored row of the seeded DuckDB file (--source) into it through the Delta backend, in
 * batches of 100,000 rows (one commit each), and verifies the counts; stage / materialise then
 * run on a fresh copy of that directory per round, with `delta({ root })` instead of `duckdb()`.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DuckDBInstance, version as duckdbVersion } from "@duckdb/node-api";
import { delta } from "@metaxy/backend-delta";
import { compileResolveUpdate, duckdb, duckdbDialect } from "@metaxy/backend-duckdb";
import {
  type Backend,
  type IncrementCounts,
  MetadataStore,
  type Row,
  fieldProvenance,
  recordProvenance,
  truncatedHash,
} from "@metaxy/core";
import { CELL_OPTIONS, cellArgs } from "./cell-options.js";
import { buildGraph, loadVectors } from "./graphs.js";
import { FLOOR_TABLE, createTableSql, floorSql, insertLeafFromResolveSql, insertRootSql } from "./sql.js";

const q = duckdbDialect.quoteIdent;
const HASH = "md5" as const;

type Mode = "seed" | "stage" | "materialise" | "floor";

/** Timed processes (stage, materialise, floor) may cap DuckDB's memory: `--memory-limit 1.5GB` on `pnpm bench`. */
const duckdbConfig: Record<string, string> = process.env.METAXY_BENCH_MEMORY_LIMIT
  ? { memory_limit: process.env.METAXY_BENCH_MEMORY_LIMIT }
  : {};

const { values: args } = parseArgs({
  options: {
    ...CELL_OPTIONS,
    backend: { type: "string", default: "duckdb" },
    source: { type: "string" },
  },
});

const mode = args.mode as Mode;
const { graphName, n, phase, rounds, dataDir, template } = cellArgs(args);
const tmpParent = args.tmp!;
const backendKind = args.backend as "duckdb" | "delta";
if (backendKind !== "duckdb" && backendKind !== "delta") throw new Error(`unknown --backend ${args.backend}`);
if (backendKind === "delta" && mode === "floor")
  throw new Error("the floor is DuckDB's: no --mode floor with --backend delta");
/** The timed store's backend on the round's copy of the template. */
const timedBackend = (path: string): Backend =>
  backendKind === "delta"
    ? delta({ root: path, config: duckdbConfig })
    : duckdb({ path, config: duckdbConfig });
const bench = buildGraph(graphName);
const meta = JSON.parse(readFileSync(join(dataDir, "meta.json"), "utf8")) as {
  n: number;
  graph: string;
  mutated_count: number;
};
if (meta.n !== n || meta.graph !== graphName)
  throw new Error(`meta.json of ${dataDir} is for ${meta.graph} n=${meta.n}`);
const expected: IncrementCounts =
  phase === "new"
    ? { new: n, stale: 0, orphaned: 0, failed: 0 }
    : { new: 0, stale: meta.mutated_count, orphaned: 0, failed: 0 };
const tag = `${graphName} n=${n} ${phase} ${backendKind === "delta" ? "delta " : ""}${mode}`;
const log = (msg: string) => process.stderr.write(`  [${tag}] ${msg}\n`);

function sameCounts(a: IncrementCounts, b: IncrementCounts): boolean {
  return a.new === b.new && a.stale === b.stale && a.orphaned === b.orphaned;
}
function fmtCounts(c: IncrementCounts): string {
  return `new=${c.new} stale=${c.stale} orphaned=${c.orphaned}`;
}
function assertCounts(got: IncrementCounts, where: string): void {
  if (!sameCounts(got, expected))
    throw new Error(`${tag} ${where}: counts ${fmtCounts(got)}, expected ${fmtCounts(expected)}`);
}

async function scalar(c: import("@duckdb/node-api").DuckDBConnection, sql: string): Promise<unknown> {
  const r = await c.runAndReadAll(sql);
  return r.getRowsJS()[0]?.[0];
}

// ---------------------------------------------------------------------------- seed

async function seed(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  rmSync(template, { force: true });
  rmSync(`${template}.wal`, { force: true });
  const base = Date.now() - 60_000;
  const instance = await DuckDBInstance.create(template);
  const c = await instance.connect();
  try {
    for (const r of bench.roots) await c.run(createTableSql(r.def));
    for (const [i, r] of bench.roots.entries())
      await c.run(insertRootSql(bench, i, join(dataDir, r.file), base));
    if (phase === "stale") {
      // Leaf rows for every sample from the library's own resolve (plan + DuckDB compiler), as
      // `store.write(leaf, increment.new)` would write them.
      const store = await MetadataStore.open(duckdb({ instance }), {
        graph: bench.graph,
        hashAlgorithm: HASH,
      });
      let resolveSql: { sql: string; expectedSelect: string };
      try {
        const plan = await store.planResolveUpdate(bench.leaf);
        if (plan.expected.kind !== "upstreams") throw new Error("unexpected plan");
        const upstreams = [];
        for (const u of plan.expected.upstreams) upstreams.push({ relation: q(u.read.table), raw: true });
        resolveSql = compileResolveUpdate(plan, { upstreams, current: null });
      } finally {
        await store.close();
      }
      await c.run(createTableSql(bench.leaf));
      await c.run(insertLeafFromResolveSql(bench, resolveSql, base + 1000));
      // Root 0 mutated, appended with a later metaxy_updated_at: it then holds 2N rows.
      await c.run(insertRootSql(bench, 0, join(dataDir, bench.mutatedFile), base + 2000));
    }
    await c.run("CHECKPOINT");
  } finally {
    c.closeSync();
    instance.closeSync();
  }
  const seedMs = performance.now() - t0;
  log(`seeded ${template} in ${(seedMs / 1000).toFixed(1)} s; verifying`);
  const verification = await verify();
  return { seed_ms: Math.round(seedMs), verification };
}

/**
 * Once per cell, untimed: the library's counts, the floor's rows equal to the library's, the
 * SQL-seeded root rows equal to what `store.write` writes, and leaf hashes against core's JS
 * hashing (and the published vectors for simple n=10000).
 */
async function verify(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpParent, "metaxy_bench_verify_"));
  try {
    const path = join(dir, "bench.duckdb");
    copyFileSync(template, path);
    const instance = await DuckDBInstance.create(path);
    const out: Record<string, unknown> = {};
    try {
      const store = await MetadataStore.open(duckdb({ instance }), {
        graph: bench.graph,
        hashAlgorithm: HASH,
      });
      const raw = await instance.connect();
      try {
        const inc = await store.resolveUpdate(bench.leaf);
        const counts = await inc.counts();
        assertCounts(counts, "verification (library)");
        out.library_counts = counts;

        // The library's increment, staged under a known name (public API: `Increment.stage`), vs the floor.
        await inc.stage("bench-verify");
        const inc_ = q("metaxy_stage__bench-verify");
        await raw.run(floorSql(bench, phase === "stale"));
        const floorCounts = { new: 0, stale: 0, orphaned: 0 } as Record<string, number>;
        for (const [st, cnt] of (
          await raw.runAndReadAll(`SELECT __status, count(*) FROM ${FLOOR_TABLE} GROUP BY 1`)
        ).getRowsJS())
          floorCounts[st as string] = Number(cnt);
        assertCounts(floorCounts as unknown as IncrementCounts, "verification (floor)");
        const diff = Number(
          await scalar(
            raw,
            `SELECT count(*) FROM ${FLOOR_TABLE} f FULL OUTER JOIN ${inc_} i ON f.sample_uid = i.sample_uid AND f.__status = i.__status
             WHERE f.sample_uid IS NULL OR i.sample_uid IS NULL
                OR f.metaxy_provenance IS DISTINCT FROM i.metaxy_provenance
                OR f.metaxy_provenance_by_field IS DISTINCT FROM i.metaxy_provenance_by_field
                OR f.metaxy_data_version IS DISTINCT FROM i.metaxy_data_version
                OR f.metaxy_data_version_by_field IS DISTINCT FROM i.metaxy_data_version_by_field`,
          ),
        );
        if (diff !== 0) throw new Error(`${tag}: floor and library increments differ on ${diff} rows`);
        out.floor_equals_library = true;

        // Leaf hashes of the first rows against core's JS hashing of the Parquet values.
        const kind = phase === "new" ? "new" : "stale";
        const sample = (
          await raw.runAndReadAll(
            `SELECT sample_uid, metaxy_provenance_by_field AS pbf, metaxy_provenance FROM ${inc_} WHERE __status = '${kind}' ORDER BY sample_uid LIMIT 50`,
          )
        ).getRowObjectsJS();
        const uids = sample.map((r) => Number(r.sample_uid));
        const rootVals: Array<Map<number, Record<string, string>>> = [];
        for (const [i, r] of bench.roots.entries()) {
          const file = i === 0 && phase === "stale" ? bench.mutatedFile : r.file;
          const rows = (
            await raw.runAndReadAll(
              `SELECT * FROM read_parquet('${join(dataDir, file)}') WHERE sample_uid IN (${uids.join(", ") || "NULL"})`,
            )
          ).getRowObjectsJS();
          rootVals.push(new Map(rows.map((x) => [Number(x.sample_uid), x as Record<string, string>])));
        }
        for (const r of sample) {
          const uid = Number(r.sample_uid);
          const pbf: Record<string, string> = {};
          for (const e of r.pbf as unknown as Array<{ key: string; value: string }>) pbf[e.key] = e.value;
          const want: Record<string, string> = {};
          for (const f of bench.leaf.spec.fields) {
            const parents: Array<[string, string]> = [];
            bench.roots.forEach((root, i) => {
              for (const rf of root.fields)
                parents.push([`${root.def.key}.${rf}`, rootVals[i].get(uid)![rf]]);
            });
            want[f.key.toString()] = fieldProvenance(
              HASH,
              { fieldKey: f.key.toString(), codeVersion: f.codeVersion, parents },
              bench.graph.hashTruncationLength,
            )!;
          }
          const wantProv = recordProvenance(HASH, want, bench.graph.hashTruncationLength);
          if (JSON.stringify(pbf) !== JSON.stringify(want) || r.metaxy_provenance !== wantProv)
            throw new Error(
              `${tag}: leaf provenance of sample_uid ${uid} is ${JSON.stringify(pbf)} / ${r.metaxy_provenance}, core's JS hashing gives ${JSON.stringify(want)} / ${wantProv}`,
            );
        }
        out.leaf_rows_checked_against_core = sample.length;

        // The published vectors (simple n=10000, uid 0): md5 of the documented concat.
        if (graphName === "simple" && n === 10_000 && phase === "new") {
          const vec = loadVectors().data.simple_n10000.rows[0];
          const want = truncatedHash(HASH, vec.leaf_concat, bench.graph.hashTruncationLength);
          const got = sample.find((r) => Number(r.sample_uid) === vec.sample_uid);
          const gotPred = got && (got.pbf as unknown as Array<{ key: string; value: string }>)[0].value;
          if (want !== "6af8482e" || gotPred !== want)
            throw new Error(
              `${tag}: vector uid ${vec.sample_uid}: prediction ${gotPred}, md5 of the vector concat ${want} (expected 6af8482e)`,
            );
          out.vector_uid0_prediction = gotPred;
        }
        await inc.dispose();

        // SQL-seeded root rows == what store.write writes for the same rows.
        out.seed_rows_equal_store_write = await compareSeedWithStoreWrite(store);
      } finally {
        raw.closeSync();
        await store.close();
      }
    } finally {
      instance.closeSync();
    }
    log(`verified: ${JSON.stringify(out)}`);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function compareSeedWithStoreWrite(seeded: MetadataStore): Promise<number> {
  const root = bench.roots[0];
  const cols = [
    "sample_uid",
    "metaxy_provenance_by_field",
    "metaxy_provenance",
    "metaxy_data_version_by_field",
    "metaxy_data_version",
    "metaxy_feature_version",
    "metaxy_project_version",
    "metaxy_deleted_at",
    "metaxy_materialization_id",
  ];
  const rows = (await seeded.read(root.def, { filters: "sample_uid < 20", columns: cols })) as Row[];
  rows.sort((a, b) => Number(a.sample_uid) - Number(b.sample_uid));
  const fresh = await MetadataStore.open(duckdb(), { graph: bench.graph, hashAlgorithm: HASH });
  try {
    await fresh.write(
      root.def,
      rows.map((r) => ({
        sample_uid: r.sample_uid,
        metaxy_provenance_by_field: r.metaxy_provenance_by_field,
      })),
    );
    const written = (await fresh.read(root.def, { columns: cols })) as Row[];
    written.sort((a, b) => Number(a.sample_uid) - Number(b.sample_uid));
    const a = JSON.stringify(rows);
    const b = JSON.stringify(written);
    if (rows.length !== 20 || a !== b)
      throw new Error(
        `${tag}: SQL-seeded root rows differ from store.write's:\n seeded ${a.slice(0, 600)}\n write  ${b.slice(0, 600)}`,
      );
    const [types1, types2] = await Promise.all([
      seeded.backend.tableColumns(root.def.key.tableName),
      fresh.backend.tableColumns(root.def.key.tableName),
    ]);
    if (JSON.stringify(types1) !== JSON.stringify(types2))
      throw new Error(`${tag}: seeded table columns ${types1} != ${types2}`);
    return rows.length;
  } finally {
    await fresh.close();
  }
}

// ---------------------------------------------------------------------------- seed (Delta)

/** Rows per Delta commit when the seeded DuckDB file is copied into a Delta store. */
const DELTA_SEED_BATCH = 100_000;

/**
 * Copies every stored row of the seeded DuckDB file (system columns and timestamps as they are,
 * root 0's appended rows included) into a Delta store through the Delta backend's `write`, as
 * `metaxy metadata copy` does; then checks row counts and the library's counts on the Delta store.
 */
async function seedDelta(): Promise<Record<string, unknown>> {
  if (!args.source) throw new Error("--backend delta --mode seed needs --source <seeded DuckDB file>");
  const t0 = performance.now();
  rmSync(template, { recursive: true, force: true });
  const source = await MetadataStore.open(duckdb({ path: args.source }), {
    graph: bench.graph,
    hashAlgorithm: HASH,
    mode: "r",
  });
  const target = await MetadataStore.open(delta({ root: template }), {
    graph: bench.graph,
    hashAlgorithm: HASH,
  });
  const rows: Record<string, number> = {};
  try {
    const defs = [...bench.roots.map((r) => r.def), ...(phase === "stale" ? [bench.leaf] : [])];
    for (const def of defs) {
      const table = def.key.tableName;
      const schema = await source.backend.tableSchema(table);
      if (!schema) throw new Error(`${tag}: ${table} missing in ${args.source}`);
      rows[table] = 0;
      for await (const batch of source.readBatches(def, {
        withSampleHistory: true,
        withFeatureHistory: true,
        includeSoftDeleted: true,
        batchSize: DELTA_SEED_BATCH,
      })) {
        const [written] = await target.backend.write([
          { table, feature: def.key.toString(), schema, rows: batch },
        ]);
        rows[table] += written;
      }
      const want = await source.count(def, { withSampleHistory: true, withFeatureHistory: true });
      const got = await target.count(def, { withSampleHistory: true, withFeatureHistory: true });
      if (got !== want || rows[table] !== want)
        throw new Error(
          `${tag}: ${table} has ${got} rows in the Delta store (${rows[table]} written), ${want} in DuckDB`,
        );
    }
    const seedMs = performance.now() - t0;
    const counts = await (await target.resolveUpdate(bench.leaf)).counts();
    assertCounts(counts, "verification (Delta store)");
    const verification = { rows_copied: rows, library_counts: counts };
    log(`seeded ${template} in ${(seedMs / 1000).toFixed(1)} s; verified: ${JSON.stringify(verification)}`);
    return { seed_ms: Math.round(seedMs), verification };
  } finally {
    await target.close();
    await source.close();
  }
}

// ---------------------------------------------------------------------------- timed modes

interface RoundResult {
  ms: number;
  /** Sub-steps of the timed work (ms). */
  steps: Record<string, number>;
  counts: IncrementCounts;
}

async function timedRound(path: string): Promise<RoundResult> {
  if (mode === "floor") {
    const t0 = performance.now();
    const instance = await DuckDBInstance.create(path, duckdbConfig);
    const c = await instance.connect();
    const t1 = performance.now();
    await c.run(floorSql(bench, phase === "stale"));
    const t2 = performance.now();
    // Untimed: the check.
    const counts = { new: 0, stale: 0, orphaned: 0 } as Record<string, number>;
    for (const [st, cnt] of (
      await c.runAndReadAll(`SELECT __status, count(*) FROM ${FLOOR_TABLE} GROUP BY 1`)
    ).getRowsJS())
      counts[st as string] = Number(cnt);
    const t3 = performance.now();
    c.closeSync();
    instance.closeSync();
    const t4 = performance.now();
    return {
      ms: t2 - t0 + (t4 - t3),
      steps: { open: t1 - t0, statement: t2 - t1, close: t4 - t3 },
      counts: counts as unknown as IncrementCounts,
    };
  }
  const t0 = performance.now();
  const store = await MetadataStore.open(timedBackend(path), {
    graph: bench.graph,
    hashAlgorithm: HASH,
  });
  const t1 = performance.now();
  const inc = await store.resolveUpdate(bench.leaf);
  const t2 = performance.now();
  let counts: IncrementCounts;
  let held: unknown;
  let step: string;
  if (mode === "stage") {
    counts = await inc.counts();
    step = "counts";
  } else {
    const rows = await inc.toArray();
    held = rows;
    counts = {
      new: rows.new.length,
      stale: rows.stale.length,
      orphaned: rows.orphaned.length,
      failed: rows.failed.length,
    };
    step = "toArray";
  }
  const t3 = performance.now();
  await store.close();
  const t4 = performance.now();
  if (held === undefined && mode === "materialise") throw new Error("unreachable");
  held = undefined;
  return {
    ms: t4 - t0,
    steps: { open: t1 - t0, resolveUpdate: t2 - t1, [step]: t3 - t2, close: t4 - t3 },
    counts,
  };
}

async function timed(): Promise<Record<string, unknown>> {
  const results: RoundResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const dir = mkdtempSync(join(tmpParent, "metaxy_bench_ts_"));
    try {
      const path = join(dir, backendKind === "delta" ? "store" : "bench.duckdb");
      if (backendKind === "delta") cpSync(template, path, { recursive: true });
      else copyFileSync(template, path);
      (globalThis as { gc?: () => void }).gc?.();
      const res = await timedRound(path);
      assertCounts(res.counts, `round ${r + 1}`);
      results.push(res);
      log(
        `round ${r + 1}/${rounds}: ${res.ms.toFixed(1)} ms (${Object.entries(res.steps)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(", ")})`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    rounds_ms: results.map((x) => Math.round(x.ms * 1000) / 1000),
    steps_ms: results.map((x) =>
      Object.fromEntries(Object.entries(x.steps).map(([k, v]) => [k, Math.round(v * 1000) / 1000])),
    ),
    counts: results[0]?.counts,
  };
}

// ---------------------------------------------------------------------------- main

const started = performance.now();
const body = mode !== "seed" ? await timed() : backendKind === "delta" ? await seedDelta() : await seed();
const result = {
  mode,
  graph: graphName,
  n,
  phase,
  backend: backendKind,
  rounds: mode === "seed" ? 0 : rounds,
  ...body,
  expected_counts: expected,
  peak_rss_mb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
  wall_ms: Math.round(performance.now() - started),
  duckdb_version: duckdbVersion(),
};
writeFileSync(args.result!, `${JSON.stringify(result, null, 1)}\n`);
