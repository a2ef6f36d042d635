import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RayJobsClient, type RayJobEvent, rayCompute } from "@metaxy/ray-bridge";
import { Client, Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime } from "@temporalio/worker";
import { GPU, temporalVideoScenario } from "../temporal/scenario.js";

/**
 * The main job, distributed: Temporal schedules the batches, Ray runs the GPU steps. Starts the
 * Temporal dev server and a Ray head (scripts/services/*.sh), then runs the video pipeline's four
 * passes as `materializeGraph` workflows whose transcripts and captions are computed by Ray jobs
 * (`ray/video_models.py`, a CPU stand-in for the models), one job per batch.
 */
const root = fileURLToPath(new URL("../../../../", import.meta.url));
for (const service of ["temporal", "ray"])
  execFileSync("bash", [resolve(root, `scripts/services/${service}.sh`), "start"], { stdio: "inherit" });
Runtime.install({ logger: new DefaultLogger("WARN") });

const env = process.env;
const address = `127.0.0.1:${env.METAXY_TEMPORAL_PORT ?? "7233"}`;
const rayAddress = `http://127.0.0.1:${env.METAXY_RAY_DASHBOARD_PORT ?? "8265"}`;
// A GPU cluster would ask 1 GPU per task; this machine has none, and a task asking for one
// would wait forever, so the default here is 0.
const numGpus = Number(env.METAXY_DEMO_NUM_GPUS ?? 0);
const wouldAsk = Number(env.METAXY_DEMO_GPUS_PER_TASK_ON_A_GPU_CLUSTER ?? 1);
const dir = resolve(env.METAXY_DEMO_DIR ?? ".metaxy");
const path = resolve(dir, "video-distributed.duckdb");
const shared = resolve(dir, "ray-shared");
mkdirSync(shared, { recursive: true });
rmSync(path, { force: true });
rmSync(`${path}.wal`, { force: true });

const ray = new RayJobsClient({ address: rayAddress });
const events: RayJobEvent[] = [];
const models = {
  working_dir: `local://${resolve(root, "apps/examples/ray")}`,
  env_vars: { METAXY_DEMO_MS_PER_RECORD: env.METAXY_DEMO_MS_PER_RECORD ?? "1" },
};
const onRay = (fn: string) =>
  rayCompute({
    client: ray,
    module: "video_models",
    function: fn,
    sharedDir: shared,
    runtimeEnv: models,
    numGpus,
    numCpus: 1,
    rowsPerTask: Number(env.METAXY_DEMO_ROWS_PER_TASK ?? 50),
    onJob: (e) => events.push(e),
  });

console.log(`Metaxy video pipeline through Temporal (${address}) and Ray (${rayAddress}) on DuckDB: ${path}`);
console.log(
  `Ray tasks ask num_gpus=${numGpus}, num_cpus=1 (on a GPU cluster: METAXY_DEMO_NUM_GPUS=${wouldAsk} puts each task on a GPU node)\n`,
);

const connection = await Connection.connect({ address });
const workerConnection = await NativeConnection.connect({ address });
let seen = 0;
let totals = { jobs: 0, jobSeconds: 0, fullRecompute: 0 };
try {
  const runs = await temporalVideoScenario({
    path,
    client: new Client({ connection }),
    connection: workerConnection,
    videos: Number(env.METAXY_DEMO_VIDEOS ?? 200),
    batchSize: Number(env.METAXY_DEMO_BATCH_SIZE ?? 100),
    compute: { "video/transcript": onRay("transcribe"), "video/caption": onRay("caption") },
    log: (report) => {
      const pass = events.slice(seen);
      seen = events.length;
      const submitted = pass.filter((e) => e.kind === "submitted");
      const ended = pass.filter((e) => e.kind === "ended");
      const jobSeconds = ended.reduce((s, e) => s + (e.seconds ?? 0), 0);
      const tasks = submitted.reduce((s, e) => s + e.tasks, 0);
      const rayRecords = submitted.reduce((s, e) => s + e.rows, 0);
      console.log(report.trimEnd());
      console.log(
        `   Ray: ${submitted.length} jobs submitted (${tasks} tasks, ${rayRecords} records), ${jobSeconds.toFixed(1)} job-seconds; on a GPU cluster its tasks would request ${tasks * wouldAsk} GPUs (${wouldAsk} each)`,
      );
      totals = {
        ...totals,
        jobs: totals.jobs + submitted.length,
        jobSeconds: totals.jobSeconds + jobSeconds,
      };
    },
  });
  for (const run of runs)
    totals.fullRecompute += run.steps.reduce(
      (s, step) => s + (step.written + step.skipped) * (GPU[step.feature] ?? 0),
      0,
    );
  const spent = runs.reduce((s, r) => s + r.steps.reduce((t, step) => t + step.gpuSecondsSpent, 0), 0);
  console.log(
    `Over the four passes: ${totals.jobs} Ray jobs, ${totals.jobSeconds.toFixed(1)} job-seconds; GPU-seconds spent ${spent.toFixed(1)}, a full recompute on every pass would have spent ${totals.fullRecompute.toFixed(1)}`,
  );
} finally {
  await workerConnection.close();
  await connection.close();
}
