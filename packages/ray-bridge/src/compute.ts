import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { columnTypesOfSchema, type FeatureDefinition, type Row, ValidationError } from "@metaxy/core";
import type { ComputeContext, ComputeFn } from "@metaxy/temporal";
import { type JobDetails, type RayJobsClient, type RuntimeEnv, TERMINAL } from "./client.js";
import {
  RayJobFailedError,
  RayJobStoppedError,
  RayResultMismatchError,
  RaySubmissionRejectedError,
} from "./errors.js";
import { ParquetFiles } from "./parquet.js";
import { submissionBase, submissionIdFor } from "./submission.js";

/** The Python runner shipped with this package (the job's entrypoint). */
export const RUNNER_PATH = fileURLToPath(new URL("../python/metaxy_ray/runner.py", import.meta.url));

export interface RayComputeOptions {
  client: RayJobsClient;
  /** Python module holding the function, importable from `runtimeEnv.working_dir` / `py_modules`. */
  module: string;
  /** `fn(rows: list[dict]) -> list[dict]`: one result row (with the id columns) per input row. */
  function: string;
  /**
   * A directory that this worker and the Ray cluster both see (NFS, a mounted bucket, or a local
   * path on one machine): batches and results travel through it as Parquet.
   */
  sharedDir: string;
  /** `working_dir: "local:///abs/dir"` or an uploaded `gcs://…zip`, `env_vars`, ... */
  runtimeEnv?: RuntimeEnv;
  /** GPUs per Ray task. Ray places a task only on a node that has them. Default 0. */
  numGpus?: number;
  /** CPUs per Ray task. Default 1. */
  numCpus?: number;
  /** Rows per Ray task (a batch fans out into ceil(rows / rowsPerTask) tasks). Default 64. */
  rowsPerTask?: number;
  /** The interpreter on the head that runs the entrypoint. Default `python`. */
  python?: string;
  /** Longest pause between two status polls. Default 2 s. */
  maxPollIntervalMs?: number;
  /** How long a stop may take before giving up on seeing STOPPED. Default 60 s. */
  stopTimeoutMs?: number;
  /** Lines of the job's log carried by a RayJobFailedError. Default 40. */
  logTailLines?: number;
  /** Told about every job this compute submits, reuses and sees end (for figures and logs). */
  onJob?(event: RayJobEvent): void;
}

export interface RayJobEvent {
  kind: "submitted" | "reused" | "ended";
  submissionId: string;
  feature: string;
  batchIndex: number;
  rows: number;
  status?: JobDetails["status"];
  /** Wall-clock seconds from the job's start to its end (on "ended"). */
  seconds?: number;
  numGpus: number;
  numCpus: number;
  tasks: number;
}

/**
 * A `compute` for `createMetaxyActivities` that runs each batch as a Ray job: the batch goes to
 * `<sharedDir>/<submission>/batch.parquet`, the job's runner imports `module`, runs `function` over
 * it as Ray tasks with `numGpus` / `numCpus` each and writes `result-a<N>.parquet`, which is read
 * back, checked against the feature (ids and schema) and returned in the batch's order.
 *
 * The submission id derives from the batch's idempotency key: a retried activity finds the job an
 * earlier attempt submitted and waits for it (or reads its result) instead of running it again.
 * While it waits the activity heartbeats; when it is cancelled it stops the job.
 */
export function rayCompute(options: RayComputeOptions): ComputeFn {
  const numGpus = options.numGpus ?? 0;
  const numCpus = options.numCpus ?? 1;
  const rowsPerTask = Math.max(1, options.rowsPerTask ?? 64);
  let parquet: Promise<ParquetFiles> | undefined;
  const files = () => {
    parquet ??= ParquetFiles.open();
    return parquet;
  };

  return async (rows, ctx) => {
    if (rows.length === 0) return [];
    const feature = ctx.definition;
    if (feature.spec.deps.some((d) => d.lineage.type === "expansion"))
      throw new ValidationError(
        `rayCompute computes one row per record; "${ctx.feature}" is an expansion (1:N)`,
        {
          feature: ctx.feature,
        },
      );
    const io = await files();
    const dir = join(options.sharedDir, submissionBase(ctx.idempotencyKey));
    const tasks = Math.ceil(rows.length / rowsPerTask);
    const event = (kind: RayJobEvent["kind"], submissionId: string, job?: JobDetails) =>
      options.onJob?.({
        kind,
        submissionId,
        feature: ctx.feature,
        batchIndex: ctx.batchIndex,
        rows: rows.length,
        status: job?.status,
        seconds: job?.start_time && job.end_time ? (job.end_time - job.start_time) / 1000 : undefined,
        numGpus,
        numCpus,
        tasks,
      });

    for (let attempt = 1; ; attempt++) {
      const id = submissionIdFor(ctx.idempotencyKey, attempt);
      const output = join(dir, `result-a${attempt}.parquet`);
      let job = await options.client.get(id);
      // An earlier try of this batch ended without a result: the next id runs it again.
      if (job && (job.status === "FAILED" || job.status === "STOPPED")) continue;
      if (job?.status === "SUCCEEDED" && !existsSync(output)) continue;
      if (job) event("reused", id, job);
      else {
        const input = join(dir, "batch.parquet");
        await mkdir(dir, { recursive: true });
        await io.write(rows, input);
        job = await submit(options, ctx, id, input, output, { numGpus, numCpus, rowsPerTask });
        if (job) event("reused", id, job);
        else event("submitted", id);
      }
      const ended = await waitOrStop(options, ctx, id, (job) => event("ended", id, job));
      if (ended.status === "FAILED") {
        const logs = await options.client.logs(id).catch(() => "");
        const tail = logs
          .split("\n")
          .slice(-(options.logTailLines ?? 40))
          .join("\n");
        throw new RayJobFailedError(
          `Ray job ${id} for "${ctx.feature}" batch ${ctx.batchIndex} failed (${ended.error_type ?? "unknown"}): ${ended.message ?? ""}\n${tail}`,
          {
            feature: ctx.feature,
            batchIndex: ctx.batchIndex,
            submissionId: id,
            errorType: ended.error_type ?? null,
            logs: tail,
          },
        );
      }
      if (ended.status === "STOPPED")
        throw new RayJobStoppedError(
          `Ray job ${id} for "${ctx.feature}" batch ${ctx.batchIndex} was stopped`,
          {
            feature: ctx.feature,
            batchIndex: ctx.batchIndex,
            submissionId: id,
          },
        );
      const results = await io.read(output);
      await rm(join(dir, "batch.parquet"), { force: true });
      return matchResults(feature, rows, results);
    }
  };
}

/** Submits the job; null when it is new, its details when a concurrent attempt got there first. */
async function submit(
  options: RayComputeOptions,
  ctx: ComputeContext,
  id: string,
  input: string,
  output: string,
  task: { numGpus: number; numCpus: number; rowsPerTask: number },
): Promise<JobDetails | null> {
  const args = [
    options.python ?? "python",
    RUNNER_PATH,
    "--module",
    options.module,
    "--function",
    options.function,
    "--input",
    input,
    "--output",
    output,
    "--num-gpus",
    String(task.numGpus),
    "--num-cpus",
    String(task.numCpus),
    "--rows-per-task",
    String(task.rowsPerTask),
  ];
  try {
    await options.client.submit({
      entrypoint: args.map(shellQuote).join(" "),
      submissionId: id,
      runtimeEnv: options.runtimeEnv,
      metadata: {
        "metaxy.feature": ctx.feature,
        "metaxy.batch": String(ctx.batchIndex),
        "metaxy.key": ctx.idempotencyKey,
      },
    });
    return null;
  } catch (e) {
    if (RaySubmissionRejectedError.isInstance(e) && e.details.alreadyExists) {
      const job = await options.client.get(id);
      if (job) return job;
    }
    throw e;
  }
}

/** Waits for the job while heartbeating; on cancellation stops it, waits for STOPPED and rethrows. */
async function waitOrStop(
  options: RayComputeOptions,
  ctx: ComputeContext,
  id: string,
  ended: (job: JobDetails) => void,
): Promise<JobDetails> {
  try {
    const job = await options.client.waitFor(id, {
      signal: ctx.signal,
      maxIntervalMs: options.maxPollIntervalMs ?? 2_000,
      onPoll: (job) => ctx.heartbeat({ batchIndex: ctx.batchIndex, submissionId: id, status: job.status }),
    });
    ended(job);
    return job;
  } catch (e) {
    if (!ctx.signal.aborted) throw e;
    let job = await options.client.get(id);
    if (job && !TERMINAL.has(job.status)) {
      await options.client.stop(id);
      job = await options.client.waitFor(id, {
        timeoutMs: options.stopTimeoutMs ?? 60_000,
        maxIntervalMs: 500,
      });
    }
    if (job) ended(job);
    throw ctx.signal.reason ?? e;
  }
}

/**
 * The job's rows in the batch's order, checked: one per input id (no missing, extra or
 * duplicated id), only the feature's columns, each parsed by its schema.
 */
export function matchResults(
  feature: FeatureDefinition,
  inputs: readonly Row[],
  results: readonly Row[],
): Row[] {
  const key = String(feature.key);
  const ids = feature.spec.idColumns;
  const idOf = (r: Row) =>
    JSON.stringify(ids.map((c) => (r[c] === null || r[c] === undefined ? null : String(r[c]))));
  const types = feature.schema ? columnTypesOfSchema(feature.schema) : null;
  const byId = new Map<string, Row>();
  for (const [i, raw] of results.entries()) {
    const row = types ? numbersOf(raw, types) : raw;
    const id = idOf(row);
    if (byId.has(id))
      throw new RayResultMismatchError(`Ray result for "${key}" has id ${id} twice`, {
        feature: key,
        id,
        kind: "duplicated",
      });
    if (feature.schema) {
      const extra = Object.keys(row).filter((c) => !(c in feature.schema!.shape));
      if (extra.length > 0)
        throw new RayResultMismatchError(
          `Ray result for "${key}" has column "${extra[0]}", not in its schema`,
          {
            feature: key,
            column: extra[0],
            kind: "column",
          },
        );
      const parsed = feature.schema.safeParse(row);
      if (!parsed.success) {
        const column = String(parsed.error.issues[0].path[0] ?? "");
        throw new RayResultMismatchError(
          `Ray result for "${key}" row ${i} column "${column}": ${parsed.error.issues[0].message}`,
          { feature: key, column, row: i, kind: "schema" },
        );
      }
    }
    byId.set(id, row);
  }
  const out = inputs.map((input) => {
    const id = idOf(input);
    const row = byId.get(id);
    if (!row)
      throw new RayResultMismatchError(`Ray result for "${key}" has no row for id ${id}`, {
        feature: key,
        id,
        kind: "missing",
      });
    byId.delete(id);
    return row;
  });
  const [extra] = byId.keys();
  if (extra !== undefined)
    throw new RayResultMismatchError(`Ray result for "${key}" has id ${extra}, which is not in the batch`, {
      feature: key,
      id: extra,
      kind: "extra",
    });
  return out;
}

/** Parquet's 64-bit integers come back as bigint: numbers where the schema wants numbers. */
function numbersOf(row: Row, types: Record<string, string>): Row {
  const out: Row = {};
  for (const [c, v] of Object.entries(row))
    out[c] = typeof v === "bigint" && (types[c] === "integer" || types[c] === "float") ? Number(v) : v;
  return out;
}

const shellQuote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`);
