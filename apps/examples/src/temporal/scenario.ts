import { duckdb } from "@metaxy/backend-duckdb";
import { MetadataStore, type Row } from "@metaxy/core";
import {
  type ComputeFn,
  createMetaxyWorker,
  type GraphRunSummary,
  startGraphMaterialization,
} from "@metaxy/temporal";
import type { Client } from "@temporalio/client";
import type { NativeConnection } from "@temporalio/worker";
import { formatReport, type StepReport } from "../lib/run-step.js";
import { videoFeatures } from "../video-pipeline/features.js";
import { FakeGpuModels, GPU_SECONDS, syntheticVideos } from "../video-pipeline/pipeline.js";
import type { ScenarioRun } from "../video-pipeline/scenario.js";

export interface TemporalFigures {
  workflows: number;
  activities: number;
  /** Activity attempts beyond the first. */
  retries: number;
  seconds: number;
}

export interface TemporalScenarioRun extends ScenarioRun {
  temporal: TemporalFigures;
}

export interface TemporalScenarioOptions {
  /** DuckDB file of the store (one worker process owns it). */
  path: string;
  client: Client;
  connection: NativeConnection;
  videos?: number;
  msPerRecord?: number;
  batchSize?: number;
  /** Compute functions that replace the in-process stand-ins (e.g. Ray jobs), per feature. */
  compute?: Readonly<Record<string, ComputeFn>>;
  log?: (s: string) => void;
}

/**
 * The main job's four passes (first run, rerun, audio code bump, new audio for 10%), each one a
 * `materializeGraph` workflow on a worker that owns the DuckDB store.
 */
export async function temporalVideoScenario(
  options: TemporalScenarioOptions,
): Promise<TemporalScenarioRun[]> {
  const videos = syntheticVideos(options.videos ?? 200);
  const runs: TemporalScenarioRun[] = [];
  const pass = async (title: string, audioCodeVersion: string, input = videos) => {
    const features = videoFeatures({ audioCodeVersion });
    const models = new FakeGpuModels(options.msPerRecord ?? 1);
    const samples: Row[] = input.map((v) => ({
      sample_uid: v.sample_uid,
      path: v.path,
      duration_s: v.duration_s,
      metaxy_provenance_by_field: { audio: v.audioHash, frames: v.framesHash },
    }));
    const compute: Record<string, ComputeFn> = {
      "video/raw": async (rows) =>
        rows.map(({ sample_uid, path, duration_s }) => ({ sample_uid, path, duration_s })),
      // Compute functions receive untyped increment rows: they travel through Temporal as data.
      "video/transcript": (rows) => models.transcribe(rows as Parameters<FakeGpuModels["transcribe"]>[0]),
      "video/faces": (rows) => models.detectFaces(rows as Parameters<FakeGpuModels["detectFaces"]>[0]),
      "video/caption": (rows) => models.caption(rows as Parameters<FakeGpuModels["caption"]>[0]),
      ...options.compute,
    };
    await using store = await MetadataStore.open(duckdb({ path: options.path }), { graph: features.graph });
    const taskQueue = `metaxy-demo-${Date.now()}-${runs.length}`;
    const worker = await createMetaxyWorker({
      store,
      compute,
      samples: { "video/raw": () => samples },
      taskQueue,
      connection: options.connection,
    });
    const started = performance.now();
    const handle = await startGraphMaterialization(
      options.client,
      { defaults: { batchSize: options.batchSize ?? 64 } },
      { taskQueue, workflowId: `metaxy-demo/${taskQueue}` },
    );
    const result = await worker.runUntil(handle.result());
    const seconds = (performance.now() - started) / 1000;
    const steps = await stepReports(store, result);
    const temporal = { ...(await historyFigures(options.client, taskQueue)), seconds };
    runs.push({ title, steps, calls: { ...models.calls }, temporal });
    options.log?.(
      `${formatReport(title, steps)}\n   Temporal: ${temporal.workflows} workflows, ${temporal.activities} activities, ${temporal.retries} retries, ${seconds.toFixed(1)} s\n`,
    );
  };

  await pass("1. first run: everything is new", "1");
  await pass("2. rerun, nothing changed", "1");
  await pass("3. audio extraction code bumped (audio v2)", "2");
  const changed = videos.map((v, i) => (i % 10 === 0 ? { ...v, audioHash: `${v.audioHash}-remastered` } : v));
  await pass(
    `4. new audio for ${changed.filter((_, i) => i % 10 === 0).length} of ${videos.length} videos`,
    "2",
    changed,
  );
  return runs;
}

/** GPU-seconds one record of each feature costs. */
export const GPU: Readonly<Record<string, number>> = {
  "video/raw": 0,
  "video/transcript": GPU_SECONDS.transcript,
  "video/faces": GPU_SECONDS.faces,
  "video/caption": GPU_SECONDS.caption,
};

/** The same per-step figures as the DuckDB demo, from the workflow's summaries. */
async function stepReports(store: MetadataStore, result: GraphRunSummary): Promise<StepReport[]> {
  const order = result.waves.flat();
  const byKey = new Map(result.features.map((f) => [f.feature, f]));
  const steps: StepReport[] = [];
  for (const key of ["video/raw", "video/transcript", "video/faces", "video/caption"].filter((k) =>
    order.includes(k),
  )) {
    const f = byKey.get(key);
    if (!f) continue;
    const total = await store.count(key);
    const skipped = Math.max(0, total - f.written);
    steps.push({
      feature: key,
      new: f.new,
      stale: f.stale,
      orphaned: f.orphaned,
      processed: f.processed,
      written: f.written,
      skipped,
      gpuSecondsSpent: f.written * GPU[key],
      gpuSecondsSaved: skipped * GPU[key],
    });
  }
  return steps;
}

/** Workflows, activities and retries of one pass, read from the server's histories. */
async function historyFigures(client: Client, taskQueue: string): Promise<Omit<TemporalFigures, "seconds">> {
  let workflows = 0;
  let activities = 0;
  let retries = 0;
  for await (const wf of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` })) {
    workflows += 1;
    const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes) activities += 1;
      const attempt = e.activityTaskStartedEventAttributes?.attempt ?? 1;
      if (attempt > 1) retries += attempt - 1;
    }
  }
  return { workflows, activities, retries };
}
