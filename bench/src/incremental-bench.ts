/**
 * `pnpm bench -- --incremental`: resolve cost against what changed (issue 15). The simple graph
 * with N root records (default 10M) and its leaf fully materialised, in one DuckDB file; then,
 * each in its own process so that its peak RSS is its own:
 *
 * - incremental: per round, `changed` root records get a new audio value (appended, as an ingest
 *   does); the timed incremental resolve reports them stale; their leaf rows are written; a
 *   timed resolve with nothing changed follows. Every resolve must say `mode: "incremental"`.
 * - full: the same resolve with `incremental: false`, on the final state, whose counts must
 *   equal the last incremental resolve's.
 *
 *   node dist/incremental-bench.js --role seed|incremental|full --db <file> --n N --changed K --rounds R --result <json>
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { DuckDBInstance } from "@duckdb/node-api";
import { compileResolveUpdate, duckdb, duckdbDialect } from "@metaxy/backend-duckdb";
import { type IncrementCounts, MetadataStore, type Row } from "@metaxy/core";
import { buildGraph } from "./graphs.js";
import { createTableSql, insertLeafFromResolveSql, insertRootSql } from "./sql.js";
import { iqr, median, round3 } from "./stats.js";

const HASH = "md5" as const;
const bench = buildGraph("simple");
const q = duckdbDialect.quoteIdent;

export interface IncrementalOptions {
  n: number;
  changed: number;
  rounds: number;
  tmp: string;
  /** Python Metaxy's cell: its interpreter, bench/python/run_python.py and the data dir; null: not run. */
  python: { exe: string; script: string; data: string } | null;
}

/**
 * Python Metaxy (no incremental mode: every resolve is full) on the same scenario: N root records,
 * the leaf materialised, `changed` of them appended with a new value; its timed resolve reports
 * them stale. One seeding per round, so one round.
 */
export interface PythonIncrementalCell {
  medianMs: number;
  peakRssMb: number;
  stale: number;
  metaxyVersion: string;
}

export interface IncrementalResult {
  options: Omit<IncrementalOptions, "tmp" | "python">;
  python: PythonIncrementalCell | null;
  /** The incremental resolve (10k changed) over Python Metaxy's resolve of the same change. */
  changedOverPython: number | null;
  seedMs: number;
  /** Medians (ms) and their IQR; the full resolve's rounds run on the final state. */
  incrementalChangedMs: number;
  incrementalChangedIqrMs: number;
  incrementalIdleMs: number;
  incrementalIdleIqrMs: number;
  /** The resolve right after the changed records' leaf rows were written back (they are checked). */
  incrementalWrittenMs: number;
  incrementalWrittenIqrMs: number;
  fullMs: number;
  fullIqrMs: number;
  /** Shares of the full resolve's median. */
  changedShare: number;
  idleShare: number;
  writtenShare: number;
  peakRssMb: { incremental: number; full: number };
  rounds: { changed: number[]; written: number[]; idle: number[]; full: number[] };
  counts: IncrementCounts;
}

// ---------------------------------------------------------------------------- driver

/** Runs the three processes and returns their figures. */
export function runIncrementalBench(opts: IncrementalOptions): IncrementalResult {
  const dir = mkdtempSync(join(opts.tmp, "metaxy-incremental-"));
  const db = join(dir, "store.duckdb");
  const self = fileURLToPath(import.meta.url);
  const run = (role: string) => {
    const result = join(dir, `${role}.json`);
    const args = [
      "--expose-gc",
      self,
      "--role",
      role,
      "--db",
      db,
      "--n",
      String(opts.n),
      "--changed",
      String(opts.changed),
      "--rounds",
      String(opts.rounds),
      "--result",
      result,
    ];
    const child = spawnSync(process.execPath, args, { stdio: ["ignore", "inherit", "inherit"] });
    if (child.status !== 0)
      throw new Error(`incremental bench: the ${role} process failed (exit ${child.status})`);
    return JSON.parse(readFileSync(result, "utf8"));
  };
  try {
    const seeded = run("seed");
    const inc = run("incremental");
    const full = run("full");
    for (const k of ["new", "stale", "orphaned", "failed"] as const)
      if (full.counts[k] !== inc.lastCounts[k])
        throw new Error(
          `incremental bench: full ${JSON.stringify(full.counts)} != incremental ${JSON.stringify(inc.lastCounts)}`,
        );
    const fullMs = median(full.rounds);
    const python = opts.python ? runPython(opts.python, opts.n, opts.changed, dir) : null;
    return {
      options: { n: opts.n, changed: opts.changed, rounds: opts.rounds },
      python,
      changedOverPython: python ? round3(median(inc.changed) / python.medianMs) : null,
      seedMs: seeded.seedMs,
      incrementalChangedMs: round3(median(inc.changed)),
      incrementalChangedIqrMs: round3(iqr(inc.changed)),
      incrementalIdleMs: round3(median(inc.idle)),
      incrementalIdleIqrMs: round3(iqr(inc.idle)),
      incrementalWrittenMs: round3(median(inc.written)),
      incrementalWrittenIqrMs: round3(iqr(inc.written)),
      fullMs: round3(fullMs),
      fullIqrMs: round3(iqr(full.rounds)),
      changedShare: round3(median(inc.changed) / fullMs),
      idleShare: round3(median(inc.idle) / fullMs),
      writtenShare: round3(median(inc.written) / fullMs),
      peakRssMb: { incremental: inc.peakRssMb, full: full.peakRssMb },
      rounds: { changed: inc.changed, written: inc.written, idle: inc.idle, full: full.rounds },
      counts: full.counts,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runPython(
  py: NonNullable<IncrementalOptions["python"]>,
  n: number,
  changed: number,
  dir: string,
): PythonIncrementalCell {
  const json = join(dir, "python.json");
  const args = [py.script, "--graph", "simple", "--n", String(n), "--rounds", "1", "--phase", "stale"];
  const child = spawnSync(
    py.exe,
    [...args, "--changed", String(changed), "--data", py.data, "--tmp", dir, "--json", json],
    {
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
  if (child.status !== 0) throw new Error(`incremental bench: Python Metaxy failed (exit ${child.status})`);
  const r = JSON.parse(readFileSync(json, "utf8"));
  if (r.stale_count !== changed || r.new_count !== 0)
    throw new Error(
      `incremental bench: Python Metaxy reported new=${r.new_count} stale=${r.stale_count}, expected 0 / ${changed}`,
    );
  return {
    medianMs: r.median_ms,
    peakRssMb: Math.round(r.peak_rss_mb),
    stale: r.stale_count,
    metaxyVersion: r.metaxy_version,
  };
}

export function formatIncremental(r: IncrementalResult): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  return [
    `Incremental resolve, simple graph, DuckDB, N = ${r.options.n.toLocaleString("en")} root records, ${r.options.changed.toLocaleString("en")} changed per round, ${r.options.rounds} rounds (seed ${(r.seedMs / 1000).toFixed(1)} s)`,
    "| resolve | median | IQR | share of full | peak RSS |",
    "|---|---|---|---|---|",
    `| full (incremental: false) | ${r.fullMs.toFixed(0)} ms | ${r.fullIqrMs.toFixed(0)} ms | 100% | ${r.peakRssMb.full} MB |`,
    `| incremental, ${r.options.changed.toLocaleString("en")} changed | ${r.incrementalChangedMs.toFixed(1)} ms | ${r.incrementalChangedIqrMs.toFixed(1)} ms | ${pct(r.changedShare)} | ${r.peakRssMb.incremental} MB |`,
    `| incremental, after writing back the ${r.options.changed.toLocaleString("en")} results | ${r.incrementalWrittenMs.toFixed(1)} ms | ${r.incrementalWrittenIqrMs.toFixed(1)} ms | ${pct(r.writtenShare)} | (same process) |`,
    `| incremental, nothing changed | ${r.incrementalIdleMs.toFixed(1)} ms | ${r.incrementalIdleIqrMs.toFixed(1)} ms | ${pct(r.idleShare)} | (same process) |`,
    r.python
      ? `| Python Metaxy ${r.python.metaxyVersion}, same ${r.options.changed.toLocaleString("en")} changed (always full; 1 round) | ${r.python.medianMs.toFixed(0)} ms | - | incremental = ${pct(r.changedOverPython!)} of it | ${r.python.peakRssMb} MB (incl. its input frames) |`
      : "| Python Metaxy | not run (--no-python) | | | |",
  ].join("\n");
}

// ---------------------------------------------------------------------------- roles

const rssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Root rows as a Parquet file (sample_uid, audio, frames), `tag` changing the audio values. */
async function rootParquet(
  c: import("@duckdb/node-api").DuckDBConnection,
  path: string,
  from: number,
  count: number,
  tag: string,
) {
  await writeRoots(c, path, `SELECT i::BIGINT AS id FROM range(${from}, ${from + count}) r(i)`, tag);
}

/**
 * `count` distinct ids scattered over the whole range [0, n) (a multiplicative permutation: the
 * factor is coprime with n), as an ingest touching random records: no id range to prune by.
 */
async function scatteredParquet(
  c: import("@duckdb/node-api").DuckDBConnection,
  path: string,
  n: number,
  count: number,
  round: number,
  tag: string,
) {
  let factor = 2654435761;
  while (gcd(factor, n) !== 1) factor += 2;
  const ids = `SELECT ((i * ${factor} + ${round * 104729}) % ${n})::BIGINT AS id FROM range(0, ${count}) r(i)`;
  await writeRoots(c, path, ids, tag);
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

async function writeRoots(
  c: import("@duckdb/node-api").DuckDBConnection,
  path: string,
  ids: string,
  tag: string,
) {
  await c.run(
    `COPY (SELECT id AS sample_uid, 'audio-' || id || '${tag}' AS audio, 'frames-' || id AS frames FROM (${ids})) TO '${path}' (FORMAT parquet)`,
  );
}

async function seed(db: string, n: number): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const base = Date.now() - 3_600_000;
  const instance = await DuckDBInstance.create(db);
  const c = await instance.connect();
  const parquet = `${db}.root.parquet`;
  try {
    const root = bench.roots[0];
    await c.run(createTableSql(root.def));
    await rootParquet(c, parquet, 0, n, "");
    await c.run(insertRootSql(bench, 0, parquet, base));
    const store = await MetadataStore.open(duckdb({ instance }), { graph: bench.graph, hashAlgorithm: HASH });
    try {
      const plan = await store.planResolveUpdate(bench.leaf);
      if (plan.expected.kind !== "upstreams") throw new Error("unexpected plan");
      const upstreams = plan.expected.upstreams.map((u) => ({ relation: q(u.read.table), raw: true }));
      await c.run(createTableSql(bench.leaf));
      await c.run(
        insertLeafFromResolveSql(
          bench,
          compileResolveUpdate(plan, { upstreams, current: null }),
          base + 1000,
        ),
      );
      // The first resolve records the checkpoint the timed ones start from.
      const first = await store.resolveUpdate(bench.leaf);
      const counts = await first.counts();
      await first.dispose();
      if (counts.new + counts.stale + counts.orphaned !== 0)
        throw new Error(`seed: leaf not up to date: ${JSON.stringify(counts)}`);
    } finally {
      await store.close();
    }
    await c.run("CHECKPOINT");
  } finally {
    c.closeSync();
    instance.closeSync();
    rmSync(parquet, { force: true });
  }
  return { seedMs: Math.round(performance.now() - t0) };
}

async function timedResolve(store: MetadataStore, incremental: boolean) {
  const t0 = performance.now();
  const inc = await store.resolveUpdate(bench.leaf, { incremental });
  const counts = await inc.counts();
  const ms = performance.now() - t0;
  return { inc, counts, ms };
}

async function incrementalRole(db: string, n: number, changed: number, rounds: number) {
  const out = {
    changed: [] as number[],
    idle: [] as number[],
    written: [] as number[],
    lastCounts: null as IncrementCounts | null,
    peakRssMb: 0,
  };
  const instance = await DuckDBInstance.create(db);
  const store = await MetadataStore.open(duckdb({ instance }), { graph: bench.graph, hashAlgorithm: HASH });
  const c = await instance.connect();
  try {
    for (let r = 0; r < rounds; r++) {
      // An ingest: `changed` records scattered over the id range get a new audio value.
      const parquet = `${db}.changed-${r}.parquet`;
      await scatteredParquet(c, parquet, n, changed, r, `-v${r + 1}`);
      await c.run(insertRootSql(bench, 0, parquet, Date.now()));
      rmSync(parquet, { force: true });
      global.gc?.();
      const hit = await timedResolve(store, true);
      if (hit.inc.mode !== "incremental" || hit.counts.stale !== changed)
        throw new Error(`round ${r}: ${hit.inc.mode} (${hit.inc.reason}), ${JSON.stringify(hit.counts)}`);
      out.changed.push(hit.ms);
      // Compute the stale records (the leaf rows written back), then resolve with nothing changed.
      const rows: Row[] = [];
      for await (const batch of hit.inc.toProcess({ batchSize: 10_000 }))
        for (const row of batch as Row[])
          rows.push({
            sample_uid: row.sample_uid,
            metaxy_provenance_by_field: row.metaxy_provenance_by_field,
          });
      await hit.inc.dispose();
      await store.write(bench.leaf, rows);
      global.gc?.();
      const settle = await timedResolve(store, true);
      if (
        settle.inc.mode !== "incremental" ||
        settle.counts.new + settle.counts.stale + settle.counts.orphaned !== 0
      )
        throw new Error(
          `round ${r}, written back: ${settle.inc.mode} (${settle.inc.reason}), ${JSON.stringify(settle.counts)}`,
        );
      await settle.inc.dispose();
      out.written.push(settle.ms);
      global.gc?.();
      const idle = await timedResolve(store, true);
      if (idle.inc.mode !== "incremental" || idle.counts.new + idle.counts.stale + idle.counts.orphaned !== 0)
        throw new Error(
          `round ${r}, idle: ${idle.inc.mode} (${idle.inc.reason}), ${JSON.stringify(idle.counts)}`,
        );
      await idle.inc.dispose();
      out.idle.push(idle.ms);
      console.error(
        `  round ${r + 1}/${rounds}: ${changed} changed ${hit.ms.toFixed(0)} ms, written back ${settle.ms.toFixed(0)} ms, idle ${idle.ms.toFixed(1)} ms`,
      );
    }
    // One more change for the full process to compare against.
    const parquet = `${db}.final.parquet`;
    await rootParquet(c, parquet, 0, changed, "-final");
    await c.run(insertRootSql(bench, 0, parquet, Date.now()));
    rmSync(parquet, { force: true });
    const last = await timedResolve(store, true);
    out.lastCounts = last.counts;
    await last.inc.dispose();
  } finally {
    c.closeSync();
    await store.close();
    instance.closeSync();
  }
  out.peakRssMb = rssMb();
  return out;
}

async function fullRole(db: string, rounds: number) {
  const store = await MetadataStore.open(duckdb({ path: db }), {
    graph: bench.graph,
    hashAlgorithm: HASH,
    mode: "r",
  });
  const times: number[] = [];
  let counts: IncrementCounts | null = null;
  try {
    for (let r = 0; r < rounds; r++) {
      global.gc?.();
      const full = await timedResolve(store, false);
      counts = full.counts;
      await full.inc.dispose();
      times.push(full.ms);
      console.error(`  full ${r + 1}/${rounds}: ${full.ms.toFixed(0)} ms`);
    }
  } finally {
    await store.close();
  }
  return { rounds: times, counts, peakRssMb: rssMb() };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      role: { type: "string" },
      db: { type: "string" },
      n: { type: "string" },
      changed: { type: "string" },
      rounds: { type: "string" },
      result: { type: "string" },
    },
  });
  const n = Number(values.n);
  const rounds = Number(values.rounds);
  const changed = Number(values.changed);
  const db = values.db!;
  const result =
    values.role === "seed"
      ? await seed(db, n)
      : values.role === "incremental"
        ? await incrementalRole(db, n, changed, rounds)
        : await fullRole(db, rounds);
  writeFileSync(values.result!, JSON.stringify(result));
}
