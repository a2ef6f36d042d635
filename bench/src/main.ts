/**
 * `pnpm bench`: the resolve-update benchmark of /work/shared/bench/BENCHMARK.md, Metaxy TS
 * (DuckDB backend, and with `--delta` the Delta backend beside it) against Python Metaxy 0.1.11
 * on the same machine and the same data.
 * See README.md for the options and the meaning of every column.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, platform, arch, release, tmpdir, totalmem } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { version as duckdbVersion } from "@duckdb/node-api";
import { duckdb } from "@metaxy/backend-duckdb";
import { MetadataStore, truncatedHash } from "@metaxy/core";
import {
  GRAPH_NAMES,
  type GraphName,
  VECTORS_PATH,
  buildGraph,
  checkVersions,
  loadVectors,
} from "./graphs.js";
import { formatDeltaOpen, runDeltaOpenBench } from "./delta-open-bench.js";
import { formatIncremental, runIncrementalBench } from "./incremental-bench.js";
import { iqr, median, round3 } from "./stats.js";
import { formatRay, runRayBench } from "./ray-bench.js";
import { formatTemporal, runTemporalBench } from "./temporal-bench.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH_DIR = resolve(HERE, "..");
const REPO = resolve(BENCH_DIR, "..");
const PY = join(BENCH_DIR, "python", ".venv", "bin", "python");
const RUN_CELL = join(HERE, "run-cell.js");
const CLICKHOUSE_CELL = join(HERE, "clickhouse-cell.js");
const BACKENDS = ["duckdb", "clickhouse"] as const;

const MODES = ["stage", "materialise", "floor"] as const;
type Mode = (typeof MODES)[number];
const PHASES = ["new", "stale"] as const;
type Phase = (typeof PHASES)[number];

const HASH_NOTE =
  "Both sides hash with md5 (DuckDB's built-in md5(), truncated to 8 hex chars): Python Metaxy runs with " +
  "hash_algorithm=MD5 and its harness skips loading the 'hashfuncs' community extension (xxhash; it cannot be " +
  "downloaded here). The paper's reference numbers use xxhash64 and are not comparable in absolute terms.";

const USAGE = `pnpm bench -- [options]
  --graphs simple,wide           graphs (default both)
  --sizes 10000,100000,1000000   N values (default these three)
  --big                          add N = 10000000
  --phases new,stale             phases (default both)
  --rounds 10                    timed rounds per mode (default 10, no warm-up)
  --modes stage,materialise,floor  TS modes (default all three)
  --python / --no-python         also run Python Metaxy (default on)
  --delta                        also run stage and materialise on the Delta backend (@metaxy/backend-delta), same cells
  --backend clickhouse           also run the library on embedded ClickHouse (chdb), beside DuckDB
                                 (stage and materialise; default sizes then 10000,100000; 1M with --sizes)
  --memory-limit <size>          DuckDB memory_limit for the timed TS processes (e.g. 1.5GB; default: DuckDB's 80% of RAM)
  --json <file>                  write every result (per-round times included) as JSON
  --data <dir>                   data dir (default bench/.data)
  --tmp <dir>                    parent of the per-round temp dirs (default the OS temp dir)
  --temporal                     instead: materializeFeature vs bare Temporal activities (real server)
    --temporal-batches 100  --temporal-batch-size 1000  --temporal-window 8
    --temporal-ms-per-row 0.1 (simulated model)  --temporal-e2e 100000 (stale records end to end)
  --ray                          instead: one Ray job per batch vs the same model inside the activity (real head)
    --ray-batch-sizes 10,100,1000,5000  --ray-ms-per-row 1  --ray-rows-per-task 100000 (one task per batch)  (rounds: 2 unless --rounds)
  --incremental                  instead: incremental resolve vs full on one large store (simple graph, DuckDB)
    --incremental-n 10000000  --incremental-changed 10000  (rounds: 5 unless --rounds)
  --delta-open                   instead: Delta open + first read against commit count, checkpoints every N and none
    --delta-commits 10,100,500,1000  --delta-checkpoint-interval 10  (rounds: 7 opens per point unless --rounds)`;

// ---------------------------------------------------------------------------- options

function userPath(p: string): string {
  // pnpm runs the script in bench/; relative paths are the caller's.
  return isAbsolute(p) ? p : resolve(process.env.INIT_CWD ?? process.cwd(), p);
}

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  for (const x of items)
    if (!allowed.includes(x as T)) throw new Error(`unknown ${what} "${x}" (allowed: ${allowed.join(", ")})`);
  return [...new Set(items)] as T[];
}

function parseOptions() {
  // `pnpm bench -- --json x` may hand us a literal "--"; drop it.
  const argv = process.argv.slice(2).filter((a) => a !== "--");
  const { values } = parseArgs({
    args: argv,
    options: {
      graphs: { type: "string", default: "simple,wide" },
      sizes: { type: "string" },
      backend: { type: "string", default: "duckdb" },
      big: { type: "boolean", default: false },
      phases: { type: "string", default: "new,stale" },
      rounds: { type: "string", default: "10" },
      modes: { type: "string", default: MODES.join(",") },
      python: { type: "boolean", default: true },
      "no-python": { type: "boolean", default: false },
      delta: { type: "boolean", default: false },
      "delta-open": { type: "boolean", default: false },
      incremental: { type: "boolean", default: false },
      "incremental-n": { type: "string", default: "10000000" },
      "incremental-changed": { type: "string", default: "10000" },
      "delta-commits": { type: "string", default: "10,100,500,1000" },
      "delta-checkpoint-interval": { type: "string", default: "10" },
      "memory-limit": { type: "string" },
      json: { type: "string" },
      data: { type: "string" },
      tmp: { type: "string" },
      temporal: { type: "boolean", default: false },
      "temporal-batches": { type: "string", default: "100" },
      "temporal-batch-size": { type: "string", default: "1000" },
      "temporal-window": { type: "string", default: "8" },
      "temporal-ms-per-row": { type: "string", default: "0.1" },
      "temporal-e2e": { type: "string", default: "100000" },
      ray: { type: "boolean", default: false },
      "ray-batch-sizes": { type: "string", default: "10,100,1000,5000" },
      "ray-ms-per-row": { type: "string", default: "1" },
      "ray-rows-per-task": { type: "string", default: "100000" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const backends = list(values.backend, BACKENDS, "backend");
  if (!backends.includes("duckdb")) backends.unshift("duckdb");
  const sizes = (values.sizes ?? (backends.includes("clickhouse") ? "10000,100000" : "10000,100000,1000000"))
    .split(",")
    .map((x) => x.trim().replaceAll("_", ""))
    .filter(Boolean)
    .map(Number);
  for (const n of sizes)
    if (!Number.isInteger(n) || n <= 0) throw new Error(`bad size in --sizes: ${values.sizes}`);
  if (values.big && !sizes.includes(10_000_000)) sizes.push(10_000_000);
  // children inherit the environment: the timed TS processes read it (run-cell.ts)
  if (values["memory-limit"]) process.env.METAXY_BENCH_MEMORY_LIMIT = values["memory-limit"];
  const rounds = Number(values.rounds);
  const int = (name: string, v: string) => {
    const x = Number(v.replaceAll("_", ""));
    if (!Number.isInteger(x) || x <= 0) throw new Error(`bad --${name} ${v}`);
    return x;
  };
  const temporal = values.temporal
    ? {
        // The Temporal bench defaults to 3 rounds unless --rounds is given.
        rounds: argv.some((a) => a.startsWith("--rounds")) ? rounds : 3,
        batches: int("temporal-batches", values["temporal-batches"]),
        batchSize: int("temporal-batch-size", values["temporal-batch-size"]),
        window: int("temporal-window", values["temporal-window"]),
        msPerRow: Number(values["temporal-ms-per-row"]),
        e2eRecords: int("temporal-e2e", values["temporal-e2e"]),
      }
    : null;
  const ray = values.ray
    ? {
        rounds: argv.some((a) => a.startsWith("--rounds")) ? rounds : 2,
        batchSizes: values["ray-batch-sizes"].split(",").map((x) => int("ray-batch-sizes", x.trim())),
        msPerRow: Number(values["ray-ms-per-row"]),
        rowsPerTask: int("ray-rows-per-task", values["ray-rows-per-task"]),
      }
    : null;
  const deltaOpen = values["delta-open"]
    ? {
        rounds: argv.some((a) => a.startsWith("--rounds")) ? rounds : 7,
        commits: values["delta-commits"].split(",").map((x) => int("delta-commits", x.trim())),
        checkpointInterval: int("delta-checkpoint-interval", values["delta-checkpoint-interval"]),
      }
    : null;
  const incremental = values.incremental
    ? {
        rounds: argv.some((a) => a.startsWith("--rounds")) ? rounds : 5,
        n: int("incremental-n", values["incremental-n"]),
        changed: int("incremental-changed", values["incremental-changed"]),
      }
    : null;
  if (!Number.isInteger(rounds) || rounds <= 0) throw new Error(`bad --rounds ${values.rounds}`);
  return {
    incremental,
    graphs: list(values.graphs, GRAPH_NAMES, "graph"),
    sizes,
    phases: list(values.phases, PHASES, "phase"),
    rounds,
    modes: list(values.modes, MODES, "mode"),
    backends,
    python: values.python && !values["no-python"],
    delta: values.delta,
    json: values.json ? userPath(values.json) : null,
    data: values.data ? userPath(values.data) : join(BENCH_DIR, ".data"),
    tmp: values.tmp ? userPath(values.tmp) : tmpdir(),
    temporal,
    ray,
    deltaOpen,
  };
}

// ---------------------------------------------------------------------------- processes

const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** Runs a command with its stdout and stderr on our stderr; rejects on a non-zero exit. */
function run(cmd: string, args: string[], cwd = REPO): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", 2, 2] });
    child.on("error", fail);
    child.on("exit", (code, signal) =>
      code === 0 ? ok() : fail(new Error(`${cmd} ${args.join(" ")} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

async function runJson(cmd: string, args: string[], resultPath: string): Promise<any> {
  rmSync(resultPath, { force: true });
  await run(cmd, [...args], REPO);
  return JSON.parse(readFileSync(resultPath, "utf8"));
}

// ---------------------------------------------------------------------------- library self-check

/**
 * Startup check, independent of the generated data: write the vectors' root rows with the
 * library, resolve the leaf, and compare with md5 of the vectors' documented concat strings.
 */
async function checkLeafVectors(): Promise<string[]> {
  const vectors = loadVectors();
  const out: string[] = [];
  for (const name of GRAPH_NAMES) {
    const b = buildGraph(name);
    const trunc = b.graph.hashTruncationLength;
    const store = await MetadataStore.open(duckdb(), { graph: b.graph, hashAlgorithm: "md5" });
    try {
      const vec = vectors.data[`${name}_n10000`].rows[0];
      const uid = vec.sample_uid as number;
      if (name === "simple") {
        await store.write(b.roots[0].def, [
          { sample_uid: uid, metaxy_provenance_by_field: vec.root_prov_by_field },
        ]);
      } else {
        for (const [i, r] of b.roots.entries())
          await store.write(r.def, [{ sample_uid: uid, metaxy_provenance_by_field: vec[`root${i}`] }]);
      }
      const rows = (await (await store.resolveUpdate(b.leaf)).toArray()).new;
      if (rows.length !== 1) throw new Error(`vector check ${name}: ${rows.length} new rows`);
      const pbf = rows[0].metaxy_provenance_by_field as Record<string, string>;
      const checks: Array<[string, string, string]> =
        name === "simple"
          ? [["prediction", vec.leaf_concat, "6af8482e"]]
          : [["prediction_a", vec.concat_a, ""]];
      for (const [field, concat, known] of checks) {
        const want = truncatedHash("md5", concat, trunc);
        if (known && want !== known)
          throw new Error(`md5 of the vector concat is ${want}, expected ${known}`);
        if (pbf[field] !== want)
          throw new Error(
            `Leaf provenance differs from the vectors: ${b.leaf.key}.${field} of sample_uid ${uid} is ${pbf[field]}, md5 of "${concat}" is ${want}`,
          );
        out.push(`${b.leaf.key}.${field}[uid ${uid}]=${want}`);
      }
    } finally {
      await store.close();
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- report

interface Stat {
  rounds_ms: number[];
  median_ms: number;
  iqr_ms: number;
  peak_rss_mb: number;
}

function stat(rounds: number[], rss: number): Stat {
  return {
    rounds_ms: rounds,
    median_ms: round3(median(rounds)),
    iqr_ms: round3(iqr(rounds)),
    peak_rss_mb: rss,
  };
}

interface CellResult {
  graph: GraphName;
  n: number;
  phase: Phase;
  expected_counts: { new: number; stale: number; orphaned: number };
  mutated_count: number;
  seed: any;
  modes: Partial<Record<Mode, ModeStat>>;
  python: (Stat & Record<string, unknown>) | null;
  /** `--delta`: the same cell on the Delta backend (a copy of the seeded rows). */
  delta: { seed: any; modes: Partial<Record<Mode, ModeStat>> } | null;
  /** The library on embedded ClickHouse (`--backend clickhouse`). */
  clickhouse?: { seed: any; stage?: Stat; materialise?: Stat };
  ratios: {
    stage_over_python: number | null;
    materialise_over_python: number | null;
    stage_over_floor: number | null;
    delta_stage_over_duckdb_stage: number | null;
    delta_materialise_over_duckdb_materialise: number | null;
  };
}

type ModeStat = Stat & { steps_ms: Array<Record<string, number>>; steps_median_ms: Record<string, number> };

const fmtN = (n: number) => n.toLocaleString("en-US").replaceAll(",", " ");
const fmtMs = (s?: Stat | null) => (s ? `${s.median_ms.toFixed(1)} ± ${s.iqr_ms.toFixed(1)}` : "-");
const fmtRatio = (x: number | null) => (x === null ? "-" : `${x.toFixed(2)}x`);
const ratio = (a?: Stat | null, b?: Stat | null) =>
  a && b && b.median_ms > 0 ? round3(a.median_ms / b.median_ms) : null;
const fmtRss = (s?: Stat | null) => (s ? s.peak_rss_mb.toFixed(0) : "-");

const CELL_COLUMNS = ["graph", "N", "phase", "stage ms (med ± IQR)", "materialise ms"];

function table(cells: CellResult[]): string {
  const header = [
    ...CELL_COLUMNS,
    "floor ms",
    "python ms",
    "stage/py",
    "mat/py",
    "stage/floor",
    "peak RSS MB stage/mat/floor/py",
  ];
  const rows = cells.map((c) => [
    c.graph,
    fmtN(c.n),
    c.phase,
    fmtMs(c.modes.stage),
    fmtMs(c.modes.materialise),
    fmtMs(c.modes.floor),
    fmtMs(c.python),
    fmtRatio(c.ratios.stage_over_python),
    fmtRatio(c.ratios.materialise_over_python),
    fmtRatio(c.ratios.stage_over_floor),
    [c.modes.stage, c.modes.materialise, c.modes.floor, c.python].map(fmtRss).join(" / "),
  ]);
  return grid(header, rows, new Set([1, 3, 4, 5, 6, 7, 8, 9, 10]));
}

/** Aligned text columns: `right` holds the indexes of right-aligned ones. */
function grid(header: string[], rows: string[][], right: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((x, i) => (right.has(i) ? x.padStart(widths[i]) : x.padEnd(widths[i]))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/** `--delta`: the Delta backend beside DuckDB, cell by cell. */
function deltaTable(cells: CellResult[]): string {
  const header = [
    "graph",
    "N",
    "phase",
    "duckdb stage ms",
    "delta stage ms",
    "delta/duckdb",
    "duckdb mat ms",
    "delta mat ms",
    "delta/duckdb",
    "peak RSS MB stage duckdb/delta",
    "mat duckdb/delta",
  ];
  const rows = cells.map((c) => [
    c.graph,
    fmtN(c.n),
    c.phase,
    fmtMs(c.modes.stage),
    fmtMs(c.delta?.modes.stage),
    fmtRatio(c.ratios.delta_stage_over_duckdb_stage),
    fmtMs(c.modes.materialise),
    fmtMs(c.delta?.modes.materialise),
    fmtRatio(c.ratios.delta_materialise_over_duckdb_materialise),
    [c.modes.stage, c.delta?.modes.stage].map(fmtRss).join(" / "),
    [c.modes.materialise, c.delta?.modes.materialise].map(fmtRss).join(" / "),
  ]);
  return grid(header, rows, new Set([1, 3, 4, 5, 6, 7, 8, 9, 10]));
}

// ---------------------------------------------------------------------------- clickhouse

const CHDB_VERSION = JSON.parse(readFileSync(fileURLToPath(import.meta.resolve("chdb/package.json")), "utf8"))
  .version as string;

/** Seeds and verifies the cell on embedded ClickHouse, then times stage and materialise. */
async function runClickHouse(
  common: string[],
  duckdbTemplate: string,
  rounds: number,
  modes: readonly Mode[],
  resultPath: string,
): Promise<NonNullable<CellResult["clickhouse"]>> {
  const dir = `${duckdbTemplate}.clickhouse`;
  const args = (mode: string) => [
    "--expose-gc",
    "--max-old-space-size=20000",
    CLICKHOUSE_CELL,
    "--mode",
    mode,
    ...common.map((a) => (a === duckdbTemplate ? dir : a)),
    "--duckdb",
    duckdbTemplate,
    "--rounds",
    String(rounds),
    "--result",
    resultPath,
  ];
  try {
    log("bench:   clickhouse: seeding (store.write) and verifying against DuckDB's increment");
    const seed = await runJson(process.execPath, args("seed"), resultPath);
    const out: NonNullable<CellResult["clickhouse"]> = {
      seed: { seed_ms: seed.seed_ms, peak_rss_mb: seed.peak_rss_mb, verification: seed.verification },
    };
    for (const mode of ["stage", "materialise"] as const) {
      if (!modes.includes(mode)) continue;
      const r = await runJson(process.execPath, args(mode), resultPath);
      out[mode] = stat(r.rounds_ms, r.peak_rss_mb);
      log(`bench:   clickhouse ${mode}: median ${fmtMs(out[mode])} ms, peak RSS ${r.peak_rss_mb} MB`);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function clickhouseTable(cells: CellResult[]): string {
  const header = [
    ...CELL_COLUMNS,
    "stage/duckdb",
    "mat/duckdb",
    "stage/py",
    "mat/py",
    "peak RSS MB stage/mat",
  ];
  const rows = cells.map((c) => {
    const ch = c.clickhouse!;
    return [
      c.graph,
      fmtN(c.n),
      c.phase,
      fmtMs(ch.stage),
      fmtMs(ch.materialise),
      fmtRatio(ratio(ch.stage, c.modes.stage)),
      fmtRatio(ratio(ch.materialise, c.modes.materialise)),
      fmtRatio(ratio(ch.stage, c.python)),
      fmtRatio(ratio(ch.materialise, c.python)),
      [ch.stage, ch.materialise].map(fmtRss).join(" / "),
    ];
  });
  return grid(header, rows, new Set([1, 3, 4, 5, 6, 7, 8, 9]));
}

// ---------------------------------------------------------------------------- main

async function main() {
  const opts = parseOptions();
  if (opts.temporal) {
    const result = await runTemporalBench(opts.temporal);
    process.stdout.write(`${formatTemporal(result)}\n`);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ temporal: result }, null, 2)}\n`);
    return;
  }
  if (opts.ray) {
    const result = await runRayBench(opts.ray);
    process.stdout.write(`${formatRay(result)}\n`);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ ray: result }, null, 2)}\n`);
    return;
  }
  if (opts.incremental) {
    if (opts.python) {
      log("bench: setting up the Python side (scripts/bench-python-setup.sh)");
      await run("bash", [join(REPO, "scripts", "bench-python-setup.sh")]);
    }
    const python = opts.python
      ? { exe: PY, script: join(BENCH_DIR, "python", "run_python.py"), data: opts.data }
      : null;
    const result = runIncrementalBench({ ...opts.incremental, tmp: opts.tmp, python });
    process.stdout.write(`${formatIncremental(result)}\n`);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ incremental: result }, null, 2)}\n`);
    return;
  }
  if (opts.deltaOpen) {
    const result = await runDeltaOpenBench({ ...opts.deltaOpen, tmp: opts.tmp });
    process.stdout.write(`${formatDeltaOpen(result)}\n`);
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify({ delta_open: result }, null, 2)}\n`);
    return;
  }
  const startedAt = new Date();
  log(`bench: ${JSON.stringify({ ...opts })}`);

  // Versions against Python Metaxy's, and the library's leaf hashes against the vectors.
  const versions = checkVersions();
  log(`bench: feature versions match ${VECTORS_PATH}: ${versions.join(", ")}`);
  const vectorChecks = await checkLeafVectors();
  log(`bench: leaf provenance (md5) matches the vectors' concat strings: ${vectorChecks.join(", ")}`);

  if (!existsSync(RUN_CELL))
    throw new Error(`${RUN_CELL} missing: build the package first (pnpm --filter @metaxy/bench build)`);

  // The Python side: venv, then the data (generated once, shared by both sides).
  log("bench: setting up the Python side (scripts/bench-python-setup.sh)");
  await run("bash", [join(REPO, "scripts", "bench-python-setup.sh")]);
  const genGraph = opts.graphs.length === 2 ? "all" : opts.graphs[0];
  log(`bench: generating data (${genGraph}, N=${opts.sizes.join(",")}) in ${opts.data}`);
  await run(PY, [
    join(BENCH_DIR, "python", "gen_data.py"),
    "--graph",
    genGraph,
    "--n",
    opts.sizes.join(","),
    "--out",
    opts.data,
  ]);

  mkdirSync(opts.tmp, { recursive: true });
  const work = mkdtempSync(join(opts.tmp, "metaxy_bench_"));
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.on("SIGINT", () => {
    cleanup();
    process.exit(130);
  });

  const cells: CellResult[] = [];
  const nodeArgs = ["--expose-gc", "--max-old-space-size=20000", RUN_CELL];
  let pythonInfo: Record<string, unknown> | null = null;
  try {
    for (const graph of opts.graphs)
      for (const n of opts.sizes)
        for (const phase of opts.phases) {
          const dataDir = join(opts.data, `${graph}_n${n}`);
          const meta = JSON.parse(readFileSync(join(dataDir, "meta.json"), "utf8"));
          const template = join(work, `${graph}_n${n}_${phase}.duckdb`);
          const common = [
            "--graph",
            graph,
            "--n",
            String(n),
            "--phase",
            phase,
            "--data",
            dataDir,
            "--template",
            template,
            "--tmp",
            work,
          ];
          log(`\nbench: ── ${graph} N=${fmtN(n)} ${phase} ──`);
          const resultPath = join(work, "result.json");
          const seed = await runJson(
            process.execPath,
            [...nodeArgs, "--mode", "seed", ...common, "--result", resultPath],
            resultPath,
          );
          const cell: CellResult = {
            graph,
            n,
            phase,
            expected_counts: seed.expected_counts,
            mutated_count: meta.mutated_count,
            seed: { seed_ms: seed.seed_ms, peak_rss_mb: seed.peak_rss_mb, verification: seed.verification },
            modes: {},
            python: null,
            delta: null,
            ratios: {
              stage_over_python: null,
              materialise_over_python: null,
              stage_over_floor: null,
              delta_stage_over_duckdb_stage: null,
              delta_materialise_over_duckdb_materialise: null,
            },
          };
          /** One timed mode in its own process; `backendArgs` pick the Delta backend and its template. */
          const timedMode = async (mode: Mode, backendArgs: string[], label: string): Promise<ModeStat> => {
            log(`bench: ${graph} N=${fmtN(n)} ${phase}: TS ${label}, ${opts.rounds} rounds`);
            const r = await runJson(
              process.execPath,
              [
                ...nodeArgs,
                "--mode",
                mode,
                ...common,
                ...backendArgs,
                "--rounds",
                String(opts.rounds),
                "--result",
                resultPath,
              ],
              resultPath,
            );
            const steps: Array<Record<string, number>> = r.steps_ms;
            const stepsMedian = Object.fromEntries(
              Object.keys(steps[0] ?? {}).map((k) => [k, round3(median(steps.map((s) => s[k])))]),
            );
            const out = {
              ...stat(r.rounds_ms, r.peak_rss_mb),
              steps_ms: steps,
              steps_median_ms: stepsMedian,
            };
            log(
              `bench:   ${label}: median ${fmtMs(out)} ms, peak RSS ${r.peak_rss_mb} MB, steps ${JSON.stringify(stepsMedian)}`,
            );
            return out;
          };
          for (const mode of opts.modes) cell.modes[mode] = await timedMode(mode, [], mode);
          if (opts.delta) {
            // The same rows copied into a Delta store (untimed), then the library's modes on it.
            const deltaDir = join(work, `${graph}_n${n}_${phase}.delta-store`);
            const deltaArgs = ["--backend", "delta", "--template", deltaDir];
            log(`bench: ${graph} N=${fmtN(n)} ${phase}: seeding the Delta store from the DuckDB file`);
            const deltaSeed = await runJson(
              process.execPath,
              [
                ...nodeArgs,
                "--mode",
                "seed",
                ...common,
                ...deltaArgs,
                "--source",
                template,
                "--result",
                resultPath,
              ],
              resultPath,
            );
            cell.delta = {
              seed: {
                seed_ms: deltaSeed.seed_ms,
                peak_rss_mb: deltaSeed.peak_rss_mb,
                verification: deltaSeed.verification,
              },
              modes: {},
            };
            for (const mode of opts.modes)
              if (mode !== "floor")
                cell.delta.modes[mode] = await timedMode(mode, deltaArgs, `delta ${mode}`);
            rmSync(deltaDir, { recursive: true, force: true });
          }
          if (opts.backends.includes("clickhouse")) {
            cell.clickhouse = await runClickHouse(common, template, opts.rounds, opts.modes, resultPath);
          }
          rmSync(template, { force: true });
          if (opts.python) {
            log(`bench: ${graph} N=${fmtN(n)} ${phase}: Python Metaxy, ${opts.rounds} rounds`);
            const r = await runJson(
              PY,
              [
                join(BENCH_DIR, "python", "run_python.py"),
                "--graph",
                graph,
                "--n",
                String(n),
                "--rounds",
                String(opts.rounds),
                "--phase",
                phase,
                "--data",
                opts.data,
                "--tmp",
                work,
                "--json",
                resultPath,
              ],
              resultPath,
            );
            const counts = { new: r.new_count, stale: r.stale_count };
            if (counts.new !== cell.expected_counts.new || counts.stale !== cell.expected_counts.stale)
              throw new Error(
                `Python Metaxy counts ${JSON.stringify(counts)} != expected ${JSON.stringify(cell.expected_counts)}`,
              );
            cell.python = {
              ...stat(r.rounds_ms, r.peak_rss_mb),
              python_reported_median_ms: r.median_ms,
              python_reported_iqr_ms: r.iqr_ms,
              new_count: r.new_count,
              stale_count: r.stale_count,
            };
            pythonInfo = {
              metaxy_version: r.metaxy_version,
              duckdb_version: r.duckdb_version,
              hash_algorithm: r.hash_algorithm,
              skipped_extension: r.skipped_extension,
            };
            log(`bench:   python: median ${fmtMs(cell.python)} ms, peak RSS ${r.peak_rss_mb} MB`);
          }
          cell.ratios = {
            stage_over_python: ratio(cell.modes.stage, cell.python),
            materialise_over_python: ratio(cell.modes.materialise, cell.python),
            stage_over_floor: ratio(cell.modes.stage, cell.modes.floor),
            delta_stage_over_duckdb_stage: ratio(cell.delta?.modes.stage, cell.modes.stage),
            delta_materialise_over_duckdb_materialise: ratio(
              cell.delta?.modes.materialise,
              cell.modes.materialise,
            ),
          };
          cells.push(cell);
          log(`\n${table([cell])}`);
          if (cell.delta) log(`\n${deltaTable([cell])}`);
        }
  } finally {
    cleanup();
  }

  const cpu = cpus();
  const chCells = cells.filter((c) => c.clickhouse);
  const pyNote = pythonInfo
    ? `Python Metaxy ${pythonInfo.metaxy_version} (duckdb ${pythonInfo.duckdb_version})`
    : "Python Metaxy not run (--no-python)";
  const report = [
    "",
    `resolve-update benchmark — ${opts.rounds} rounds per cell, no warm-up; times are median ± IQR in ms (linear-interpolation quantiles)`,
    `Metaxy TS on @duckdb/node-api ${duckdbVersion()} (Node ${process.version}) vs ${pyNote}; ${cpu.length}× ${cpu[0]?.model ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB`,
    "",
    table(cells),
    "",
    `Note: ${HASH_NOTE}`,
    "stage = open + resolveUpdate + counts() + close (increment materialised in DuckDB); materialise = open + resolveUpdate + toArray() + close;",
    "floor = open + one hand-written CREATE TEMP TABLE ... AS statement + close; python = Python Metaxy eager resolve_update + Polars conversion (open/close included).",
    "Peak RSS is each process's own maximum (one process per mode and cell; Python's includes its in-process seeding and Polars frames).",
    ...(opts.delta
      ? [
          "",
          "Delta backend (@metaxy/backend-delta) beside DuckDB: the same stored rows copied into Delta tables (100,000 rows per commit),",
          "the same timed work with delta({ root }) on a fresh copy of the store per round; ratios below 1 = Delta faster.",
          "",
          deltaTable(cells),
        ]
      : []),
    ...(chCells.length
      ? [
          "",
          `The same library on embedded ClickHouse (chdb ${CHDB_VERSION}, @clickhouse/client), md5, same data, same rounds; ratios against DuckDB's and Python's medians:`,
          "",
          clickhouseTable(chCells),
        ]
      : []),
  ].join("\n");
  process.stdout.write(`${report}\n`);

  if (opts.json) {
    const json = {
      benchmark: "metaxy resolve-update (BENCHMARK.md)",
      started_at: startedAt.toISOString(),
      finished_at: new Date().toISOString(),
      machine: {
        platform: platform(),
        release: release(),
        arch: arch(),
        cpus: cpu.length,
        cpu_model: cpu[0]?.model,
        total_mem_gib: round3(totalmem() / 2 ** 30),
        node: process.version,
      },
      ts: { duckdb_node_api: duckdbVersion(), hash_algorithm: "md5" },
      python: pythonInfo,
      hash_note: HASH_NOTE,
      options: opts,
      checks: { feature_versions: versions, leaf_vectors: vectorChecks },
      cells,
    };
    mkdirSync(dirname(opts.json), { recursive: true });
    writeFileSync(opts.json, `${JSON.stringify(json, null, 1)}\n`);
    log(`bench: wrote ${opts.json}`);
  }
}

main().catch((e) => {
  process.stderr.write(`\nbench: FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
