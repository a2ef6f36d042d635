/**
 * `pnpm bench -- --temporal`: `materializeFeature` against bare Temporal activities doing the same
 * compute in the same sliding window, on the same real Temporal server, in one run; then one
 * end-to-end run over 100k stale records. See README.md ("Temporal").
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { duckdb } from "@metaxy/backend-duckdb";
import { MetadataStore, type Row } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import {
  bundleMetaxyWorkflows,
  type ComputeFn,
  createMetaxyWorker,
  startMaterialization,
} from "@metaxy/temporal";
import { Client, Connection } from "@temporalio/client";
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { median, round3 } from "./stats.js";

export interface TemporalBenchOptions {
  rounds: number;
  batches: number;
  batchSize: number;
  window: number;
  /** Simulated model time per record. */
  msPerRow: number;
  /** Records of the end-to-end run. */
  e2eRecords: number;
}

/** The compute both sides run: a simulated model (sleep) plus building one output row per input. */
async function model(rows: readonly Row[], msPerRow: number): Promise<Row[]> {
  if (msPerRow > 0) await new Promise((r) => setTimeout(r, msPerRow * rows.length));
  return rows.map((r) => ({ sample_uid: r.sample_uid, text: `transcript of ${r.path}` }));
}

export type BareActivities = { bareBatch(index: number, batchSize: number): Promise<number> };

const REPO = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const address = `127.0.0.1:${process.env.METAXY_TEMPORAL_PORT ?? "7233"}`;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

function rawRows(n: number, audio = "a"): Row[] {
  return Array.from({ length: n }, (_, i) => ({
    sample_uid: `v${String(i).padStart(8, "0")}`,
    path: `s3://videos/${i}.mp4`,
    metaxy_provenance_by_field: { audio: `${audio}${i}`, frames: `f${i}` },
  }));
}

export async function runTemporalBench(opts: TemporalBenchOptions): Promise<Record<string, unknown>> {
  execFileSync("bash", [join(REPO, "scripts/services/temporal.sh"), "start"], { stdio: ["ignore", 2, 2] });
  Runtime.install({ logger: new DefaultLogger("ERROR") });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const workerConnection = await NativeConnection.connect({ address });
  const dir = mkdtempSync(join(tmpdir(), "metaxy-temporal-bench-"));
  try {
    const [metaxyBundle, bareBundle] = await Promise.all([
      bundleMetaxyWorkflows(),
      bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL("./temporal-workflows.js", import.meta.url)),
        logger: new DefaultLogger("ERROR"),
      }),
    ]);
    const n = opts.batches * opts.batchSize;
    const f = videoFeatures();
    const compute: Record<string, ComputeFn> = { "video/transcript": (rows) => model(rows, opts.msPerRow) };
    /** One `materializeFeature` of the transcripts on a worker over `store`, timed from start to result. */
    const materialize = async (store: MetadataStore, taskQueue: string) => {
      const worker = await createMetaxyWorker({
        store,
        compute,
        taskQueue,
        connection: workerConnection,
        workflowBundle: metaxyBundle,
      });
      const t = performance.now();
      const handle = await startMaterialization(
        client,
        { feature: "video/transcript", batchSize: opts.batchSize, window: opts.window },
        { taskQueue },
      );
      const result = await worker.runUntil(handle.result());
      return { result, ms: performance.now() - t };
    };
    const metaxyMs: number[] = [];
    const bareMs: number[] = [];
    for (let round = 0; round < opts.rounds; round++) {
      // Metaxy: resolve + stage n new records, fan out, write each batch back, drop the stage.
      const path = join(dir, `round-${round}.duckdb`);
      await using store = await MetadataStore.open(duckdb({ path }), { graph: f.graph });
      await store.write(f.raw, rawRows(n) as never);
      const { result, ms: metaxyRun } = await materialize(store, `bench-metaxy-${Date.now()}-${round}`);
      metaxyMs.push(metaxyRun);
      if (result.processed !== n) throw new Error(`materializeFeature processed ${result.processed} of ${n}`);

      // Bare: the same window of activities and the same compute on rows built in the activity.
      const bareQueue = `bench-bare-${Date.now()}-${round}`;
      const bareWorker = await Worker.create({
        connection: workerConnection,
        taskQueue: bareQueue,
        workflowBundle: bareBundle,
        activities: {
          async bareBatch(index: number, batchSize: number) {
            const rows = rawRows(batchSize).map((r, i) => ({ ...r, sample_uid: `${index}-${i}` }));
            return (await model(rows, opts.msPerRow)).length;
          },
        } satisfies BareActivities,
      });
      const t = performance.now();
      const processed = await bareWorker.runUntil(
        client.workflow.execute("bareFanOut", {
          taskQueue: bareQueue,
          workflowId: `${bareQueue}/run`,
          args: [{ batches: opts.batches, batchSize: opts.batchSize, window: opts.window }],
        }),
      );
      bareMs.push(performance.now() - t);
      if (processed !== n) throw new Error(`bare fan-out processed ${processed} of ${n}`);
      log(
        `  temporal round ${round + 1}/${opts.rounds}: materializeFeature ${(metaxyMs[round] / 1000).toFixed(2)} s, bare ${(bareMs[round] / 1000).toFixed(2)} s`,
      );
    }

    // End to end: every transcript goes stale (new audio for all), then one run brings them back.
    const e2ePath = join(dir, "e2e.duckdb");
    let e2e: Record<string, number>;
    {
      await using store = await MetadataStore.open(duckdb({ path: e2ePath }), { graph: f.graph });
      const rows = rawRows(opts.e2eRecords);
      await store.write(f.raw, rows as never);
      const { new: fresh } = await (await store.resolveUpdate(f.transcript)).toArray();
      await store.write(
        f.transcript,
        (await model(fresh, 0)).map((r, i) => ({
          ...r,
          metaxy_provenance_by_field: fresh[i].metaxy_provenance_by_field,
        })) as never,
      );
      await store.write(f.raw, rawRows(opts.e2eRecords, "remastered-") as never);
      const { result, ms } = await materialize(store, `bench-e2e-${Date.now()}`);
      if (result.stale !== opts.e2eRecords || result.processed !== opts.e2eRecords)
        throw new Error(`end-to-end run: ${JSON.stringify(result)}`);
      e2e = {
        records: opts.e2eRecords,
        batches: result.batches,
        runs: result.runs,
        seconds: round3(ms / 1000),
        records_per_s: Math.round(opts.e2eRecords / (ms / 1000)),
        model_seconds: round3((opts.e2eRecords * opts.msPerRow) / 1000 / opts.window),
      };
    }
    const m = median(metaxyMs);
    const b = median(bareMs);
    return {
      batches: opts.batches,
      batch_size: opts.batchSize,
      window: opts.window,
      ms_per_row: opts.msPerRow,
      rounds: opts.rounds,
      metaxy_ms: metaxyMs.map(round3),
      bare_ms: bareMs.map(round3),
      metaxy_batches_per_s: round3(opts.batches / (m / 1000)),
      bare_batches_per_s: round3(opts.batches / (b / 1000)),
      overhead_ms_per_batch: round3((m - b) / opts.batches),
      overhead_ratio: round3(m / b - 1),
      e2e,
    };
  } finally {
    await workerConnection.close();
    await connection.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report lines of the Temporal benchmark. */
export function formatTemporal(r: Record<string, any>): string {
  return [
    `Temporal: ${r.batches} batches x ${r.batch_size} rows, window ${r.window}, model ${r.ms_per_row} ms/row, medians of ${r.rounds} rounds`,
    `  materializeFeature  ${r.metaxy_batches_per_s} batches/s   (resolve + stage + read batch + idempotent write + drop stage)`,
    `  bare activities     ${r.bare_batches_per_s} batches/s   (same window, same compute, no store)`,
    `  overhead            ${r.overhead_ms_per_batch} ms of wall clock per batch, ${(r.overhead_ratio * 100).toFixed(1)}% over the bare run`,
    `End to end: ${r.e2e.records} stale records in ${r.e2e.batches} batches (${r.e2e.runs} runs): ${r.e2e.seconds} s, ${r.e2e.records_per_s} records/s (model alone: ${r.e2e.model_seconds} s)`,
  ].join("\n");
}
