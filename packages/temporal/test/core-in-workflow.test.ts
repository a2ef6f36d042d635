import { fileURLToPath } from "node:url";
import { DefaultLogger, Worker, bundleWorkflowCode } from "@temporalio/worker";
import { afterAll, describe, expect, it } from "vitest";
import { coreInWorkflow } from "./core-workflow.js";
import { temporalClient, uniqueQueue, workerConnection } from "./fixtures.js";

const { client, close } = await temporalClient();
afterAll(close);

// Temporal's bundler refuses Node built-ins in workflow code, and its sandbox has no `process`:
// @metaxy/core's main entry (its built dist, as users get it) must bundle and compute the same there.
describe("@metaxy/core in a Temporal workflow", () => {
  it("bundles into workflow code and computes the versions Node computes", async () => {
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL("./core-workflow.ts", import.meta.url)),
      logger: new DefaultLogger("ERROR"),
    });
    const taskQueue = uniqueQueue("core-in-workflow");
    const worker = await Worker.create({ connection: await workerConnection(), taskQueue, workflowBundle });
    const result = await worker.runUntil(
      client.workflow.execute("coreInWorkflow", { taskQueue, workflowId: taskQueue }),
    );
    expect(result).toEqual(await coreInWorkflow());
  });
});
