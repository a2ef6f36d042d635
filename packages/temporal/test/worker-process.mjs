// A worker in its own process, for the crash tests: `node worker-process.mjs '<json options>'`.
import { duckdb } from "@metaxy/backend-duckdb";
import { MetadataStore } from "@metaxy/core";
import { DefaultLogger, Runtime } from "@temporalio/worker";
import { createMetaxyWorker } from "../dist/index.js";
import { countingCompute, videoGraph } from "./video-graph.mjs";

Runtime.install({ logger: new DefaultLogger("ERROR") });
const { path, taskQueue, address, msPerBatch } = JSON.parse(process.argv[2]);
const f = videoGraph();
const store = await MetadataStore.open(duckdb({ path }), { graph: f.graph });
const worker = await createMetaxyWorker({
  store,
  compute: countingCompute({}, msPerBatch),
  taskQueue,
  address,
  heartbeatIntervalMs: 200,
  // A restarted worker picks up a killed one's workflow tasks quickly.
  stickyQueueScheduleToStartTimeout: "1s",
});
process.on("SIGTERM", () => worker.shutdown());
const running = worker.run();
console.log("ready");
await running;
await store.close();
