import { execFileSync } from "node:child_process";
import http from "node:http";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BigQuery, type Job, type Query } from "@google-cloud/bigquery";
import { bigquery } from "../src/index.js";

/** The emulator that `scripts/services/bigquery.sh` started (global setup). */
export const EMULATOR = `http://127.0.0.1:${process.env.METAXY_BIGQUERY_PORT ?? "9050"}`;
export const PROJECT = process.env.METAXY_BIGQUERY_EMULATOR_PROJECT ?? "metaxy-test";

// No metadata server here: the client must not look for one.
process.env.METADATA_SERVER_DETECTION = "none";

/**
 * A client on the emulator. The emulator needs no credentials, but the client's upload path
 * (load jobs) reads headers that only its auth layer sets: this test-side wrapper supplies them.
 */
export function emulatorClient(): BigQuery {
  const client = new BigQuery({ projectId: PROJECT, apiEndpoint: EMULATOR, autoRetry: false });
  const request = client.makeAuthenticatedRequest;
  const patched = ((reqOpts: { headers?: Record<string, string>; forever?: boolean }, ...rest: unknown[]) => {
    reqOpts.headers ||= {};
    // Node's global agent, whose pooled sockets `recycleEmulator` can drop after a restart.
    reqOpts.forever = false;
    return (request as (...a: unknown[]) => unknown)(reqOpts, ...rest);
  }) as unknown as typeof request;
  Object.assign(patched, request);
  client.makeAuthenticatedRequest = patched;
  emulateDmlGaps(client);
  return client;
}

type CreateQueryJob = (options: Query) => Promise<[Job, ...unknown[]]>;

/**
 * Two emulator gaps, filled in on the test side so that the product keeps BigQuery's behaviour:
 * - `ALTER TABLE ... ADD COLUMN` succeeds but changes nothing its SQL sees (nor does a schema
 *   patch), and a `CREATE OR REPLACE TABLE t AS SELECT ... FROM t` loses `t`: the table is rebuilt
 *   through a copy (`tmp` with the new columns, drop, copy back);
 * - DML jobs report no `numDmlAffectedRows`: the rows a DELETE or INSERT ... SELECT will touch
 *   are counted just before it, and the count is added to its results.
 * Rebuilds and DML of this process take turns (the emulator runs each job before it answers), so
 * a concurrent insert never lands in a table being rebuilt.
 */
function emulateDmlGaps(client: BigQuery): void {
  const create = client.createQueryJob.bind(client) as unknown as CreateQueryJob;
  const run = async (query: string, options: Query) => {
    const [job] = await create({ ...options, query, jobId: undefined });
    const [rows] = await job.getQueryResults();
    return rows as Array<{ n?: number }>;
  };
  const rebuild = async (
    options: Query,
    relation: string,
    definitions: string,
  ): Promise<[Job, ...unknown[]]> => {
    const [dataset, table] = relation.slice(1, -1).split(".");
    const [metadata] = await client.dataset(dataset).table(table).getMetadata();
    const have = new Set((metadata.schema?.fields ?? []).map((f: { name: string }) => f.name));
    const added = definitions
      .split(/, ADD COLUMN IF NOT EXISTS /)
      .map((def) => /^`([^`]+)` ([\s\S]+)$/.exec(def)!)
      .filter(([, name]) => !have.has(name));
    if (added.length === 0) return create({ ...options, query: "SELECT 1" });
    const columns = added.map(([, name, type]) => `CAST(NULL AS ${type}) AS \`${name}\``).join(", ");
    const copy = `\`${dataset}.${table}__metaxy_rebuild\``;
    await run(`CREATE OR REPLACE TABLE ${copy} AS SELECT *, ${columns} FROM ${relation}`, options);
    await run(`DROP TABLE ${relation}`, options);
    await run(`CREATE TABLE ${relation} AS SELECT * FROM ${copy}`, options);
    return create({ ...options, query: `DROP TABLE ${copy}` });
  };
  const replacement = async (options: Query): Promise<[Job, ...unknown[]]> => {
    const sql = options.query ?? "";
    if (options.dryRun) return create(options);
    const alter = /^ALTER TABLE (`[^`]+`) ADD COLUMN IF NOT EXISTS ([\s\S]*)$/.exec(sql);
    if (alter) return turn(() => rebuild(options, alter[1], alter[2]));
    const del = /^DELETE FROM (`[^`]+`) WHERE ([\s\S]*)$/.exec(sql);
    const ins = /^INSERT INTO `[^`]+` \([^)]*\) (SELECT[\s\S]*)$/.exec(sql);
    if (!del && !ins) return create(options);
    return turn(async () => {
      const [{ n }] = await run(
        del
          ? `SELECT COUNT(*) AS n FROM ${del[1]} WHERE ${del[2]}`
          : `SELECT COUNT(*) AS n FROM (${ins![1]})`,
        options,
      );
      const result = await create(options);
      const job = result[0];
      const results = job.getQueryResults.bind(job) as (...a: unknown[]) => Promise<unknown[]>;
      job.getQueryResults = (async (...a: unknown[]) => {
        const r = await results(...a);
        r[2] = { ...(r[2] as object), numDmlAffectedRows: String(n) };
        return r;
      }) as unknown as Job["getQueryResults"];
      return result;
    });
  };
  client.createQueryJob = replacement as unknown as BigQuery["createQueryJob"];
}

let turns: Promise<unknown> = Promise.resolve();
/** Runs `fn` after every rebuild and DML of this process started before it. */
function turn<T>(fn: () => Promise<T>): Promise<T> {
  const next = turns.then(fn);
  turns = next.catch(() => undefined);
  return next;
}

/** A fresh dataset name: datasets (and job ids) outlive a test on the shared emulator. */
export function freshDataset(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 10)}`;
}

export function emulatorBackend(dataset = freshDataset("t")) {
  return bigquery({ client: emulatorClient(), dataset });
}

/** Drops a test's dataset and everything in it. */
export async function dropDataset(dataset: string): Promise<void> {
  await emulatorClient()
    .dataset(dataset)
    .delete({ force: true })
    .catch(() => undefined);
}

const SCRIPT = fileURLToPath(new URL("../../../scripts/services/bigquery.sh", import.meta.url));
const PID_FILE = join(
  process.env.METAXY_SERVICES_CACHE ?? join(homedir(), ".cache", "metaxy"),
  "bigquery",
  "run",
  "server.pid",
);
/** Above this resident size the emulator is restarted between tests (see `recycleEmulator`). */
const RECYCLE_RSS_KB = 800_000;

function emulatorRssKb(): number {
  try {
    const pid = readFileSync(PID_FILE, "utf8").trim();
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * An emulator gap worked around in the tests: its SQL analyser (WebAssembly, 32-bit memory) never
 * frees, and past about 2 GB every request panics ("slice bounds out of range"). Between tests,
 * when it has grown past RECYCLE_RSS_KB, it is restarted: every test makes its own datasets, so
 * nothing of another test is lost.
 */
export async function recycleEmulator(): Promise<void> {
  if (emulatorRssKb() < RECYCLE_RSS_KB) return;
  execFileSync("bash", [SCRIPT, "restart"], { stdio: "ignore" });
  // Pooled keep-alive sockets still point at the old process: drop them.
  http.globalAgent.destroy();
  await new Promise((r) => setTimeout(r, 100));
}
