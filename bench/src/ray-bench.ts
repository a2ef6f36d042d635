import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Row } from "@metaxy/core";
import { videoFeatures } from "@metaxy/core/testing";
import { RayJobsClient, rayCompute } from "@metaxy/ray-bridge";
import type { ComputeContext } from "@metaxy/temporal";
import { median } from "./stats.js";

/**
 * The price of running a batch as a Ray job: the same model (the demo's CPU stand-in, sleeping
 * `msPerRow` per record) once inside the activity and once as one Ray job per batch, on the real
 * head that `scripts/services/ray.sh` starts. Overhead = Ray wall time − in-activity wall time.
 */
export interface RayBenchOptions {
  batchSizes: number[];
  msPerRow: number;
  rounds: number;
  rowsPerTask: number;
}

export interface RayBenchCell {
  batchSize: number;
  inActivityS: number;
  rayJobS: number;
  overheadS: number;
  /** Share of the Ray job's wall time that is not the model's. */
  overheadShare: number;
}

export interface RayBenchResult {
  options: RayBenchOptions;
  cells: RayBenchCell[];
  /** Smallest batch whose model time is 9x the measured median overhead (overhead ≤ 10%). */
  amortisingBatchSize: number;
}

const root = fileURLToPath(new URL("../../", import.meta.url));

export async function runRayBench(options: RayBenchOptions): Promise<RayBenchResult> {
  execFileSync("bash", [resolve(root, "scripts/services/ray.sh"), "start"], { stdio: "inherit" });
  const client = new RayJobsClient({
    address: `http://127.0.0.1:${process.env.METAXY_RAY_DASHBOARD_PORT ?? "8265"}`,
  });
  const { transcript } = videoFeatures();
  const shared = mkdtempSync(join(tmpdir(), "metaxy-ray-bench-"));
  const compute = rayCompute({
    client,
    module: "video_models",
    function: "transcribe",
    sharedDir: shared,
    runtimeEnv: {
      working_dir: `local://${resolve(root, "apps/examples/ray")}`,
      env_vars: { METAXY_DEMO_MS_PER_RECORD: String(options.msPerRow) },
    },
    numCpus: 1,
    numGpus: 0,
    rowsPerTask: options.rowsPerTask,
  });
  // The same work inside the activity: the model's time, and building the result rows.
  const inActivity = async (rows: Row[]) => {
    await new Promise((r) => setTimeout(r, options.msPerRow * rows.length));
    return rows.map((r) => ({ sample_uid: r.sample_uid, text: `transcript of ${r.path}` }));
  };
  const cells: RayBenchCell[] = [];
  const run = `${Date.now()}`;
  for (const batchSize of options.batchSizes) {
    const rows: Row[] = Array.from({ length: batchSize }, (_, i) => ({
      sample_uid: `v${i}`,
      path: `s3://videos/v${i}.mp4`,
      metaxy_provenance_by_field: { text: `p${i}` },
    }));
    const local: number[] = [];
    const remote: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      let t = performance.now();
      await inActivity(rows);
      local.push((performance.now() - t) / 1000);
      const ctx: ComputeContext = {
        feature: "video/transcript",
        definition: transcript,
        stageId: "bench",
        batchIndex: 0,
        attempt: 1,
        workflowId: "bench",
        idempotencyKey: `bench/${run}/${batchSize}/${round}`,
        signal: new AbortController().signal,
        heartbeat: () => {},
      };
      t = performance.now();
      const out = await compute(rows, ctx);
      remote.push((performance.now() - t) / 1000);
      if (out.length !== batchSize) throw new Error(`Ray job returned ${out.length} rows for ${batchSize}`);
    }
    const inActivityS = median(local);
    const rayJobS = median(remote);
    cells.push({
      batchSize,
      inActivityS,
      rayJobS,
      overheadS: rayJobS - inActivityS,
      overheadShare: (rayJobS - inActivityS) / rayJobS,
    });
  }
  const overhead = median(cells.map((c) => c.overheadS));
  const amortisingBatchSize = Math.ceil((9 * overhead * 1000) / options.msPerRow);
  return { options, cells, amortisingBatchSize };
}

export function formatRay(r: RayBenchResult): string {
  const lines = [
    `Ray job per batch vs the same model inside the activity (${r.options.msPerRow} ms per record, ${r.options.rowsPerTask} records per Ray task, median of ${r.options.rounds})`,
    "batch  in-activity s  ray job s  overhead s  overhead share",
  ];
  for (const c of r.cells)
    lines.push(
      `${String(c.batchSize).padStart(5)}  ${c.inActivityS.toFixed(2).padStart(13)}  ${c.rayJobS.toFixed(2).padStart(9)}  ${c.overheadS.toFixed(2).padStart(10)}  ${(100 * c.overheadShare).toFixed(0).padStart(13)}%`,
    );
  lines.push(
    `a batch amortises the job start-up (overhead at most 10%) from about ${r.amortisingBatchSize} records at ${r.options.msPerRow} ms per record`,
  );
  return lines.join("\n");
}
