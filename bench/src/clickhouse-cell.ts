/**
 * One benchmark cell on embedded ClickHouse (chdb), in its own process. Started by main.ts with
 * `--backend clickhouse`:
 *
 *   node --expose-gc dist/clickhouse-cell.js --mode seed|stage|materialise --graph simple|wide
 *        --n N --phase new|stale --rounds R --data <cell data dir> --template <dir>
 *        --duckdb <the cell's seeded DuckDB file> --tmp <dir> --result <out.json>
 *
 * seed (untimed): the roots' Parquet rows written with `store.write` (read through DuckDB in
 * batches), for `stale` the leaf written from the library's own increment and the mutated root 0
 * appended, as on the DuckDB side; then verified: counts, and every increment row (id,
 * provenance, provenance by field) equal to the DuckDB backend's on the DuckDB cell.
 * stage / materialise: per round, open the seeded directory, `resolveUpdate`, `counts()` or
 * `toArray()`, close. The seeded directory is reused by every round: resolve-update changes no
 * feature table, and chdb binds one data directory per process, so a fresh copy per round would
 * need a process per round.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { clickhouse } from "@metaxy/backend-clickhouse";
import { duckdb, duckdbDialect } from "@metaxy/backend-duckdb";
import { type IncrementCounts, MetadataStore, type Row } from "@metaxy/core";
import { CELL_OPTIONS, cellArgs } from "./cell-options.js";
import { buildGraph } from "./graphs.js";

const HASH = "md5" as const;
const DATABASE = "bench";
const BATCH = 100_000;

const { values: args } = parseArgs({ options: { ...CELL_OPTIONS, duckdb: { type: "string" } } });
const mode = args.mode as "seed" | "stage" | "materialise";
const { graphName, n, phase, rounds, dataDir, template } = cellArgs(args);
const bench = buildGraph(graphName);
const meta = JSON.parse(readFileSync(join(dataDir, "meta.json"), "utf8")) as { mutated_count: number };
const expected: IncrementCounts =
  phase === "new"
    ? { new: n, stale: 0, orphaned: 0, failed: 0 }
    : { new: 0, stale: meta.mutated_count, orphaned: 0, failed: 0 };
const tag = `${graphName} n=${n} ${phase} clickhouse ${mode}`;
const log = (msg: string) => process.stderr.write(`  [${tag}] ${msg}\n`);
const openStore = () =>
  MetadataStore.open(clickhouse.embedded({ path: template, database: DATABASE }), {
    graph: bench.graph,
    hashAlgorithm: HASH,
  });

function assertCounts(got: IncrementCounts, where: string): void {
  if (got.new !== expected.new || got.stale !== expected.stale || got.orphaned !== expected.orphaned)
    throw new Error(`${tag} ${where}: counts ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

/** A root's Parquet rows as `store.write` input (field values as strings), in batches. */
async function* parquetRows(file: string, fields: readonly string[]): AsyncGenerator<Row[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const c = await instance.connect();
  try {
    const q = duckdbDialect.quoteIdent;
    const cols = fields.map((f) => `${q(f)}::VARCHAR AS ${q(f)}`).join(", ");
    for (let offset = 0; ; offset += BATCH) {
      const rows = (
        await c.runAndReadAll(
          `SELECT sample_uid::BIGINT AS sample_uid, ${cols} FROM read_parquet(${duckdbDialect.string(file)}) ORDER BY sample_uid LIMIT ${BATCH} OFFSET ${offset}`,
        )
      ).getRowObjectsJS();
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        sample_uid: Number(r.sample_uid),
        metaxy_provenance_by_field: Object.fromEntries(fields.map((f) => [f, r[f] as string])),
      }));
    }
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

async function seed(): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  rmSync(template, { recursive: true, force: true });
  const store = await openStore();
  try {
    for (const r of bench.roots)
      for await (const rows of parquetRows(join(dataDir, r.file), r.fields)) await store.write(r.def, rows);
    if (phase === "stale") {
      const inc = await store.resolveUpdate(bench.leaf);
      for await (const batch of inc.batches("new", { batchSize: BATCH }))
        await store.write(bench.leaf, batch);
      await inc.dispose();
      for await (const rows of parquetRows(join(dataDir, bench.mutatedFile), bench.roots[0].fields))
        await store.write(bench.roots[0].def, rows);
    }
  } finally {
    await store.close();
  }
  const seedMs = performance.now() - t0;
  log(`seeded ${template} in ${(seedMs / 1000).toFixed(1)} s; verifying against the DuckDB backend`);
  return { seed_ms: Math.round(seedMs), verification: await verify() };
}

/** The ClickHouse increment, row for row, against the DuckDB backend's on the DuckDB cell. */
async function verify(): Promise<Record<string, unknown>> {
  const key = (r: Row) =>
    `${r.sample_uid}|${r.metaxy_provenance}|${JSON.stringify(r.metaxy_provenance_by_field)}|${r.metaxy_data_version}`;
  const kind = phase === "new" ? "new" : "stale";
  const ch = await openStore();
  let chRows: Row[];
  try {
    const inc = await ch.resolveUpdate(bench.leaf);
    assertCounts(await inc.counts(), "verification (clickhouse)");
    chRows = (await inc.toArray())[kind];
  } finally {
    await ch.close();
  }
  const dir = mkdtempSync(join(args.tmp!, "metaxy_bench_ch_verify_"));
  try {
    const path = join(dir, "cell.duckdb");
    copyFileSync(args.duckdb!, path);
    const dk = await MetadataStore.open(duckdb({ path }), { graph: bench.graph, hashAlgorithm: HASH });
    try {
      const dkRows = (await (await dk.resolveUpdate(bench.leaf)).toArray())[kind];
      const a = new Set(chRows.map(key));
      const missing = dkRows.filter((r) => !a.has(key(r)));
      if (missing.length > 0 || dkRows.length !== chRows.length)
        throw new Error(
          `${tag}: ClickHouse's increment differs from DuckDB's (${chRows.length} vs ${dkRows.length} rows; e.g. DuckDB ${missing[0] && key(missing[0])})`,
        );
    } finally {
      await dk.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const out = { counts: expected, rows_equal_duckdb: chRows.length };
  log(`verified: ${JSON.stringify(out)}`);
  return out;
}

async function timed(): Promise<Record<string, unknown>> {
  const results: Array<{ ms: number; steps: Record<string, number> }> = [];
  for (let r = 0; r < rounds; r++) {
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const store = await openStore();
    const t1 = performance.now();
    const inc = await store.resolveUpdate(bench.leaf);
    const t2 = performance.now();
    let counts: IncrementCounts;
    if (mode === "stage") counts = await inc.counts();
    else {
      const rows = await inc.toArray();
      counts = { new: rows.new.length, stale: rows.stale.length, orphaned: rows.orphaned.length, failed: 0 };
    }
    const t3 = performance.now();
    await store.close();
    const t4 = performance.now();
    assertCounts(counts, `round ${r + 1}`);
    const steps = {
      open: t1 - t0,
      resolveUpdate: t2 - t1,
      [mode === "stage" ? "counts" : "toArray"]: t3 - t2,
      close: t4 - t3,
    };
    results.push({ ms: t4 - t0, steps });
    log(`round ${r + 1}/${rounds}: ${(t4 - t0).toFixed(1)} ms`);
  }
  const r3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    rounds_ms: results.map((x) => r3(x.ms)),
    steps_ms: results.map((x) => Object.fromEntries(Object.entries(x.steps).map(([k, v]) => [k, r3(v)]))),
  };
}

const started = performance.now();
const body = mode === "seed" ? await seed() : await timed();
writeFileSync(
  args.result!,
  `${JSON.stringify(
    {
      mode,
      graph: graphName,
      n,
      phase,
      ...body,
      expected_counts: expected,
      peak_rss_mb: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      wall_ms: Math.round(performance.now() - started),
    },
    null,
    1,
  )}\n`,
);
